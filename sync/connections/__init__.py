"""Connections to Xero organisations: OAuth2, tokens, the per-request session."""
