"""A foreign-currency invoice as an admin meets it: refused with its reason while the
organisation's multicurrency is off, sent in its own currency once it is turned on."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from sync.links import services
from sync.models import LinkMethod, XeroConnection
from tests.browser.test_sync_flows import worker
from tests.factories import ContactFactory, LineItemFactory, TransactionFactory
from transactions.models import SyncState, Transaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_foreign_currency_invoice_is_refused_then_goes_with_multicurrency_on(
    login, admin_user, xero_settings, sandbox, live_server, screenshot
):
    page = login(admin_user)
    page.get_by_role("button", name="Connect to Xero").click()
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_role("status").first).to_contain_text("Connected to Demo Company (NZ)")
    tasman = ContactFactory(name="Tasman Bay Traders")
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": tasman.name}])
    services.contact_link(
        contact=tasman,
        connection=XeroConnection.objects.get(),
        xero_contact_id=xero_id,
        xero_name=tasman.name,
        method=LinkMethod.EXISTING,
        user=None,
    )
    txn = TransactionFactory(
        contact=tasman, number="INV-8801", currency="USD", currency_rate=Decimal("0.59")
    )
    LineItemFactory(transaction=txn)
    invoices = f"{live_server.url}/accounting/xero/sales/invoices/"

    page.goto(invoices)
    row = page.locator(f"#transaction-{txn.pk}")
    expect(row).to_contain_text("USD")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    worker()
    expect(row).to_contain_text("Refused", timeout=10_000)
    expect(row).to_contain_text(
        "INV-8801 is in USD, and the organisation's base currency is NZD: omni-xero does not "
        "convert it."
    )
    screenshot("currency-refused")
    assert sandbox.documents(sandbox.demo_tenant_id) == []

    page.goto(f"{live_server.url}/accounting/xero/admin/")
    page.get_by_label("Multicurrency").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved the sync settings")

    page.goto(invoices)
    row = page.locator(f"#transaction-{txn.pk}")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    worker()
    expect(row).to_contain_text("Synced", timeout=10_000)
    screenshot("currency-synced")
    assert Transaction.objects.get(pk=txn.pk).sync_state == SyncState.SYNCED
    (invoice,) = sandbox.documents(sandbox.demo_tenant_id)
    assert (invoice["CurrencyCode"], invoice["CurrencyRate"]) == ("USD", 0.59)
