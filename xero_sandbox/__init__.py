"""A local Xero: identity, Connections and the Accounting API over real HTTP.

The unmodified xero-python SDK talks to it as to Xero (see README.md in this folder).
Standard library only, so it never depends on the Django app.
"""
