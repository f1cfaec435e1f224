"""Demo contacts for the Demo Company (NZ) organisation when `make run` starts the sandbox.

Some resemble the omni-xero demo customers and suppliers (so linking has candidates), one is
archived and one was merged into another, as a real organisation's contacts would be.
Seeded only into an organisation that has no contacts yet (`--demo-contacts`).
"""

from xero_sandbox import contacts, seed

ACTIVE = [
    ("Bayview Cafe Ltd", "accounts@bayviewcafe.co.nz", "C1001"),
    ("Tui Books Limited", "orders@tuibooks.co.nz", ""),
    ("Kauri Coast Outfitters", "mere@kauricoastoutfitters.co.nz", "C1002"),
    ("Harbourside Deli", "", ""),
    ("Southern Alps Sports Ltd", "finance@southernalps.co.nz", ""),
    ("Pacific Packaging Limited", "ar@pacificpackaging.co.nz", "S1040"),
    ("Southern Cross Freight", "billing@scfreight.co.nz", ""),
    ("Golden Bay Honey Co", "", "S1054"),
    ("Kiwi Coffee Roasters", "sales@kiwicoffee.co.nz", ""),
    ("Wellington Electricity", "accounts@welec.co.nz", ""),
    ("IRD - Inland Revenue", "", ""),
    ("Spark New Zealand", "business@spark.co.nz", ""),
]
ARCHIVED = [("Old Harbour Traders", "", "")]
# (duplicate, survivor): the duplicate is merged into the survivor.
MERGED = [("Tui Books", "Tui Books Limited")]


def _body(name: str, email: str, account: str) -> dict:
    body = {"Name": name}
    if email:
        body["EmailAddress"] = email
    if account:
        body["AccountNumber"] = account
    return body


def seed_demo_contacts(state: dict, now: float) -> int:
    """Add the demo contacts to Demo Company (NZ) if it has none; returns how many."""
    org = state["orgs"][seed.DEMO_TENANT_ID]
    if org["contacts"]:
        return 0
    names = ACTIVE + ARCHIVED + [(duplicate, "", "") for duplicate, _ in MERGED]
    created, _ = contacts.seed(org, [_body(*row) for row in names], now)
    ids = {contact["Name"]: contact["ContactID"] for contact in created}
    for name, _, _ in ARCHIVED:
        contacts.archive(state, ids[name], now)
    for duplicate, survivor in MERGED:
        contacts.merge(state, ids[duplicate], ids[survivor], now)
    return len(created)
