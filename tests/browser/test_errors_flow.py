"""The Errors view as an accountant works through it: a contact whose Xero contact was merged
is selected there and relinked to the survivor, and its row says so."""

import pytest
from playwright.sync_api import expect

from sync.models import ContactLink, SyncItem, XeroConnection
from sync.syncing import refusals
from tests.browser.conftest import refreshed
from tests.factories import (
    ContactFactory,
    LineItemFactory,
    SyncItemFactory,
    SyncRunFactory,
    TransactionFactory,
)
from transactions.models import SyncState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_merged_contact_is_relinked_from_errors(connected, sandbox, live_server, screenshot):
    old, survivor = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Harbour Deli"}, {"Name": "Harbourside Deli Ltd"}]
    )
    refreshed()
    connection = XeroConnection.objects.get()
    refusals.settings_refresh(connection=connection)  # its accounts and tax rates, as a sync does
    harbour = ContactFactory(name="Harbour Deli")
    ContactLink.objects.create(
        contact=harbour,
        connection=connection,
        xero_contact_id=old,
        xero_name="Harbour Deli",
        method="existing",
    )
    txn = TransactionFactory(contact=harbour, sync_state=SyncState.REFUSED)
    LineItemFactory(transaction=txn)
    SyncItemFactory(
        run=SyncRunFactory(connection=connection),
        transaction=txn,
        state=SyncItem.State.REFUSED,
        refusal=SyncItem.Refusal.INVALID_LINK,
        message="Harbour Deli was merged into Harbourside Deli Ltd in Xero.",
    )
    sandbox.merge(old, into=survivor)
    refreshed()  # the link goes bad: merged

    page = connected
    page.goto(f"{live_server.url}/accounting/xero/errors/")
    entry = page.locator(f"#problems-{harbour.pk}")
    expect(entry).to_contain_text("merged into Harbourside Deli Ltd")
    entry.get_by_role("checkbox", name="Select Harbour Deli").check()
    page.get_by_role("button", name="Relink to survivor").click()

    entry = page.locator(f"#problems-{harbour.pk}")
    expect(entry.get_by_role("status")).to_contain_text(
        "Harbour Deli: done. Now linked to Harbourside Deli Ltd."
    )
    expect(entry.get_by_role("button", name="Re-sync 1 refused")).to_be_visible()
    screenshot("errors-relinked")
    link = ContactLink.objects.get(contact=harbour)
    assert str(link.xero_contact_id) == survivor and link.is_valid
