"""Xero's webhooks: the signed endpoint that stores the events, and their processing."""
