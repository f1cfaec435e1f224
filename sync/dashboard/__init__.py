"""The Xero integration dashboard: its tabs and the pages of each."""
