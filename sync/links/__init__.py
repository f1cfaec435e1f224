"""Links between Omni contacts and Xero contacts: the mirror of Xero's contacts, what
"the same contact" means, link health, suggestions and the link services."""
