"""Import of a Xero contacts export (CSV or XLSX): reading, preview, confirm, link on import."""
