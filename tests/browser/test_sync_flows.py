"""Syncing transactions as an accountant clicks through it: Upload with the progress bar, a
refused transaction's reason and its link to the contact, fixing the link and re-syncing."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sync.links import services
from sync.models import LinkMethod, XeroConnection
from tests.factories import ContactFactory, LineItemFactory, TransactionFactory
from transactions.models import SyncState, Transaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def invoice_of(contact, number: str):
    txn = TransactionFactory(contact=contact, number=number)
    LineItemFactory(transaction=txn)
    return txn


def worker() -> None:
    """The db_worker, running what is queued (not running in tests)."""
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")


def test_upload_shows_progress_refuses_the_unlinked_and_resyncs_once_linked(
    connected, sandbox, live_server, screenshot
):
    aroha = ContactFactory(name="Aroha Gift Store")
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Aroha Gift Store"}])
    services.contact_link(
        contact=aroha,
        connection=XeroConnection.objects.get(),
        xero_contact_id=xero_id,
        xero_name="Aroha Gift Store",
        method=LinkMethod.EXISTING,
        user=None,
    )
    kea = ContactFactory(name="Kea Outfitters")
    synced, refused = invoice_of(aroha, "INV-5001"), invoice_of(kea, "INV-5002")
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/invoices/")

    # Upload all ready would leave Kea's out (its contact blocks it): upload both as chosen.
    expect(page.get_by_role("button", name="Upload 1 ready")).to_be_visible()
    expect(page.locator("#blocked-count")).to_contain_text("1 blocked by their contact")
    for txn in (synced, refused):
        page.locator(f"#transaction-{txn.pk}").get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    progress = page.locator("#sync-progress")
    expect(progress).to_contain_text("0 synced, 0 refused, 0 failed, 2 left")
    expect(page.get_by_role("status").first).to_contain_text("Uploading 2 transactions")
    screenshot("sync-progress")
    worker()
    # The page's poll sees the sync over and reloads with each outcome.
    expect(page.locator(f"#transaction-{synced.pk}")).to_contain_text("Synced", timeout=10_000)
    row = page.locator(f"#transaction-{refused.pk}")
    expect(row).to_contain_text("Refused")
    expect(row).to_contain_text("Kea Outfitters isn't linked to a Xero contact")
    screenshot("sync-refused")

    row.get_by_role("link", name="Link Kea Outfitters").click()
    contact_row = page.locator(f"#contact-{kea.pk}")
    expect(contact_row).to_contain_text("No linked contact")
    contact_row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(contact_row).to_contain_text("Uploaded")

    page.goto(f"{live_server.url}/accounting/xero/sales/invoices/")
    expect(page.locator(".offer")).to_contain_text("1 refused transaction can go now")
    screenshot("sync-resync-offered")
    page.get_by_role("button", name="Re-sync it").click()
    expect(page.get_by_role("status").first).to_contain_text("Uploading 1 transaction")
    worker()
    expect(row).to_contain_text("Synced", timeout=10_000)
    assert Transaction.objects.get(pk=refused.pk).sync_state == SyncState.SYNCED
    numbers = sorted(d["InvoiceNumber"] for d in sandbox.documents(sandbox.demo_tenant_id))
    assert numbers == ["INV-5001", "INV-5002"]
