"""Upload: create or update Omni contacts in Xero and link them."""
