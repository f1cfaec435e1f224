"""Every page of the app with the demo data behind it, for the checks that visit them all
(accessibility, layout at each width, screenshots): the books, and the pages in order."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Contact
from sync.demo import load_demo_data
from sync.imports.views import SAMPLE
from sync.models import InvalidReason, LinkStatus, SyncItem, SyncRun, SyncSettings
from tests.factories import (
    AccountMappingFactory,
    ChartAccountFactory,
    ContactLinkFactory,
    LineItemFactory,
    MirroredDocumentFactory,
    SyncItemFactory,
    SyncRunFactory,
    TaxRateFactory,
    TransactionFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)
from tests.syncing.test_admin_tab import refused
from transactions.models import SyncState

XERO = "/accounting/xero"


@dataclass(frozen=True)
class Stop:
    """One page of the tour: its name (for messages and screenshot files) and its path."""

    name: str
    path: str
    table: str = ""  # the selector of the page's main table, where it has one


def books():
    """The demo's Omni account (`make run`'s), connected to the Demo Company, with links in
    every state, suggestions, a sync run with refusals, discrepancies and a chart."""
    load_demo_data()
    demo = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    by_name = {c.name: c for c in Contact.objects.all()}
    for name in ["Waitemata Wine Bar Limited", "Aroha Gift Shop", "Seaside Surf Group"]:
        XeroContactFactory(connection=demo, name=name)
    tui = ContactLinkFactory(
        contact=by_name["Tui Books"], connection=demo, xero_name="Tui Books Limited"
    )
    ContactLinkFactory(
        contact=by_name["Seaside Surf Shop"],
        connection=demo,
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.MERGED,
    )
    ContactLinkFactory(
        contact=by_name["Bayview Cafe"],
        connection=demo,
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    run = SyncRunFactory(connection=demo, api_calls=6, finished_at=timezone.now())
    kea = by_name["Kauri Coast Outfitters"]
    refused(kea, run, SyncItem.Refusal.UNLINKED, f"{kea.name} isn't linked to a Xero contact.")
    refused(
        kea,
        run,
        SyncItem.Refusal.ACCOUNT,
        "Account code '999' (line “Manuka honey 500g”) is not in the organisation's chart "
        "of accounts. Fix the line in Omni or the account mapping on the Admin tab.",
    )
    for n, status in enumerate(["AUTHORISED", "VOIDED", "PAID"]):
        good = TransactionFactory(
            contact=tui.contact,
            number=f"INV-90{n}",
            sync_state=SyncState.SYNCED,
            xero_id=uuid.uuid4(),
            xero_number=f"INV-90{n}",
        )
        LineItemFactory(transaction=good, quantity=Decimal("1"), unit_price=Decimal("100"))
        SyncItemFactory(run=run, transaction=good, xero_id=good.xero_id, xero_number=good.number)
        MirroredDocumentFactory(
            connection=demo,
            document_id=good.xero_id,
            number=good.number,
            total=Decimal("115.00") if n else Decimal("90.00"),
            status=status,
            amount_paid=Decimal("115.00") if status == "PAID" else Decimal("0"),
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
        ("310", "Cost of Goods Sold", "ACTIVE"),
        ("210", "Old Sales", "ARCHIVED"),
    ]:
        ChartAccountFactory(connection=demo, code=code, name=name, status=status)
    TaxRateFactory(connection=demo, tax_type="OUTPUT2", name="15% GST on Income")
    TaxRateFactory(connection=demo, tax_type="INPUT2", name="15% GST on Expenses")
    AccountMappingFactory(connection=demo, transaction_type="sales_credit_note", account_code="210")
    SyncSettings.objects.create(
        connection=demo, settings_refreshed_at=timezone.now(), documents_checked_at=timezone.now()
    )
    return {"demo": demo, "tui": tui.contact, "run": run}


def previewed(page: Page, live_server_url: str) -> str:
    """Choose the demo's sample export on the import page: the preview's path."""
    page.goto(f"{live_server_url}{XERO}/import/?tab=sales")
    page.get_by_label("Xero contacts export").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_role("list", name="Summary")).to_be_visible()
    return page.url.removeprefix(live_server_url)


def imported(page: Page, live_server_url: str) -> tuple[str, str]:
    """Import the demo's sample export through its pages, then choose it again: the paths of
    the import's result and of the second one's preview (a confirmed preview is gone)."""
    previewed(page, live_server_url)
    page.get_by_role("button", name="Import", exact=False).first.click()
    expect(page.locator("#review-title")).to_be_visible()
    result = page.url.removeprefix(live_server_url)
    return result, previewed(page, live_server_url)


def stops(page: Page, live_server_url: str, data) -> list[Stop]:
    """The pages an admin sees, logged in, in the order a person would visit them."""
    result, preview = imported(page, live_server_url)
    tui, run = data["tui"], data["run"]
    pages = [
        Stop("customers", f"{XERO}/sales/customers/?show=all", "#contacts"),
        Stop("suppliers", f"{XERO}/purchases/suppliers/?show=all", "#contacts"),
    ]
    for tab, subtab in [
        ("sales", "invoices"),
        ("sales", "credit-notes"),
        ("purchases", "orders"),
        ("purchases", "bills"),
        ("purchases", "credit-notes"),
    ]:
        pages.append(Stop(f"{tab}-{subtab}", f"{XERO}/{tab}/{subtab}/", "#transactions"))
    for tab in ("sales", "purchases"):
        pages.append(Stop(f"{tab}-payments", f"{XERO}/{tab}/payments/", "#payments"))
    return [
        *pages,
        Stop("contact-detail", f"{XERO}/sales/contacts/{tui.pk}/", "#history"),
        Stop("unlink-confirm", f"{XERO}/sales/contacts/{tui.pk}/unlink/"),
        Stop("import-upload", f"{XERO}/import/?tab=sales"),
        Stop("import-preview", preview, "#import-updates"),
        Stop("import-result", result, "#import-review"),
        Stop("admin-settings", f"{XERO}/admin/"),
        Stop("sync-log", f"{XERO}/log/", "#runs"),
        Stop("sync-run", f"{XERO}/log/{run.pk}/", "#items"),
        Stop("errors", f"{XERO}/errors/"),
        Stop("discrepancies", f"{XERO}/discrepancies/", "#discrepancies"),
        Stop("admin-webhooks", f"{XERO}/admin/webhooks/"),
        Stop("400", f"{XERO}/sales/customers/?linked=nonsense"),
        Stop("404", f"{XERO}/sales/contacts/999999999/"),
    ]


# Pages seen by someone who may not change the settings or prune: the accountant.
ACCOUNTANT_STOPS = [
    Stop("admin-settings-read-only", f"{XERO}/admin/"),
    Stop("403", f"{XERO}/log/prune/?before=2000-01-01"),
]
LOGGED_OUT_STOPS = [Stop("login", "/login/")]
