"""Syncing transactions to Xero: refusals, runs, discrepancies, the Errors view's data, the log."""
