"""The Admin tab's pages in a real browser: the Errors view leads to the fix; each page is
screenshotted for a person to look at."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sync.models import InvalidReason, LinkStatus, SyncItem, SyncRun, SyncSettings
from tests.factories import (
    AccountMappingFactory,
    ChartAccountFactory,
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    MirroredDocumentFactory,
    SupplierFactory,
    SyncItemFactory,
    SyncRunFactory,
    TaxRateFactory,
    TransactionFactory,
    UserFactory,
    XeroConnectionFactory,
)
from tests.syncing.test_admin_tab import refused
from transactions.models import SyncState, TransactionType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNLINKED = "Kea Outfitters isn't linked to a Xero contact."


@pytest.fixture
def books():
    """Demo Company after a sync with problems: an unlinked customer, an archived supplier,
    an account Xero does not have; and earlier runs in the log."""
    demo = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    ada = UserFactory(username="ada3", first_name="Ada", last_name="Admin")
    run = SyncRunFactory(connection=demo, created_by=ada, api_calls=6, finished_at=timezone.now())
    kea = ContactFactory(name="Kea Outfitters")
    unlinked = refused(kea, run, SyncItem.Refusal.UNLINKED, UNLINKED, number="INV-0042")
    refused(
        kea,
        run,
        SyncItem.Refusal.ACCOUNT,
        "Account code '999' (line “Manuka honey 500g”) is not in the organisation's chart "
        "of accounts. Fix the line in Omni or the account mapping on the Admin tab.",
        number="INV-0043",
    )
    moa = ContactLinkFactory(
        contact=SupplierFactory(name="Moa Motors"),
        connection=demo,
        xero_name="Moa Motors Ltd",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    refused(
        moa.contact,
        run,
        SyncItem.Refusal.INVALID_LINK,
        moa.invalid_message,
        type=TransactionType.SUPPLIER_INVOICE,
        number="BILL-0007",
    )
    for n in range(3):
        good = TransactionFactory(
            number=f"INV-00{n}", sync_state=SyncState.SYNCED, xero_id=uuid.uuid4()
        )
        LineItemFactory(transaction=good, quantity=Decimal("1"), unit_price=Decimal("100"))
        SyncItemFactory(run=run, transaction=good, xero_id=good.xero_id, xero_number=good.number)
        MirroredDocumentFactory(
            connection=demo,
            document_id=good.xero_id,
            number=good.number,
            total=Decimal("115.00") if n else Decimal("90.00"),
            status=["AUTHORISED", "VOIDED", "PAID"][n],
            amount_paid=Decimal("115.00") if n == 2 else Decimal("0"),
        )
    older = SyncRunFactory(
        connection=demo,
        trigger=SyncRun.Trigger.SCHEDULE,
        state=SyncRun.State.STOPPED,
        detail="Xero did not answer in time or is unavailable right now; nothing was lost.",
        finished_at=timezone.now() - timedelta(days=3),
    )
    SyncRun.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))
    for code, name, status in [
        ("200", "Sales", "ACTIVE"),
        ("260", "Other Revenue", "ACTIVE"),
        ("310", "Cost of Goods Sold", "ACTIVE"),
        ("210", "Old Sales", "ARCHIVED"),
    ]:
        ChartAccountFactory(connection=demo, code=code, name=name, status=status)
    TaxRateFactory(connection=demo, tax_type="OUTPUT2", name="15% GST on Income")
    TaxRateFactory(connection=demo, tax_type="INPUT2", name="15% GST on Expenses")
    TaxRateFactory(connection=demo, tax_type="NONE", name="No GST", rate=0)
    AccountMappingFactory(connection=demo, transaction_type="sales_credit_note", account_code="210")
    SyncSettings.objects.create(
        connection=demo,
        settings_refreshed_at=timezone.now(),
        documents_checked_at=timezone.now(),
    )
    return {"demo": demo, "kea": kea, "unlinked": unlinked, "run": run}


def test_a_refused_transaction_is_listed_with_its_reason_and_leads_to_its_contact(
    login, accountant, books, screenshot
):
    page = login(accountant)
    errors = page.get_by_role("link", name="Errors")
    expect(errors).to_contain_text("4")  # the badge: three refused, one invalid link
    errors.click()

    row = page.locator(f"#problem-transaction-{books['unlinked'].pk}")
    expect(row).to_contain_text("INV-0042")
    expect(row).to_contain_text("Contact not linked")
    expect(row).to_contain_text(UNLINKED)
    expect(page.locator(f"#problems-{books['kea'].pk}")).to_contain_text(
        "Check the account mapping"
    )
    expect(page.get_by_text("Moa Motors Ltd is archived in Xero.").first).to_be_visible()
    screenshot("admin-errors")

    row.get_by_role("link", name="Fix the link").click()

    kea_row = page.locator(f"#contact-{books['kea'].pk}")
    expect(kea_row).to_be_visible()
    expect(kea_row).to_contain_text("Kea Outfitters")
    expect(kea_row).to_contain_text("No linked contact")
    assert page.url.endswith(f"#contact-{books['kea'].pk}")


def test_screenshots_of_the_admin_pages(login, admin_user, books, screenshot):
    page = login(admin_user)
    page.goto(page.url.split("/accounting/")[0] + "/accounting/xero/admin/")
    expect(page.locator("#mapping-sales_credit_note")).to_contain_text("archived in Xero")
    screenshot("admin-settings")

    page.get_by_role("link", name="Sync log").click()
    expect(page.locator("#runs tbody tr")).to_have_count(2)
    screenshot("admin-sync-log")

    page.locator(f"#run-{books['run'].pk}").get_by_role("link").click()
    expect(page.locator("#items")).to_contain_text("INV-0042")
    screenshot("admin-sync-run")

    page.get_by_role("link", name="Sync log", exact=False).first.click()
    page.get_by_label("Delete runs finished before").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Prune…").click()
    expect(page.get_by_role("heading", name="Prune the sync log?")).to_be_visible()
    screenshot("admin-prune-confirm")

    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Discrepancies").click()
    expect(page.locator("#discrepancies tbody tr")).to_have_count(3)  # edited, voided, paid
    screenshot("admin-discrepancies")


def test_an_accountant_sees_the_settings_but_cannot_change_them(
    login, accountant, books, screenshot
):
    page = login(accountant)
    page.get_by_role("link", name="Admin", exact=True).last.click()

    expect(page.locator("#admins-only")).to_contain_text("Only admins can change these settings")
    expect(page.get_by_label("Create documents as")).to_be_disabled()
    expect(page.get_by_label("Account code for sales invoice")).to_be_disabled()
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)
    expect(page.get_by_role("button", name="Fetch from Xero")).to_be_visible()
    screenshot("admin-settings-read-only")
