"""Paying an invoice as an accountant clicks through it: the payment waits for its invoice,
goes once the invoice is synced, and the invoice shows paid in omni-xero and in Xero."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sync.links import services
from sync.models import LinkMethod, SyncSettings, XeroConnection
from tests.factories import ContactFactory, LineItemFactory, PaymentFactory, TransactionFactory
from transactions.models import Payment, PaymentState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def worker() -> None:
    """The db_worker, running what is queued (not running in tests)."""
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")


def test_a_payment_waits_for_its_invoice_then_pays_it_in_xero(
    connected, sandbox, live_server, screenshot
):
    connection = XeroConnection.objects.get()
    SyncSettings.objects.update_or_create(
        connection=connection,
        defaults={"document_status": "AUTHORISED", "payment_account_code": "090"},
    )
    tui = ContactFactory(name="Tui Books")
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Tui Books"}])
    services.contact_link(
        contact=tui,
        connection=connection,
        xero_contact_id=xero_id,
        xero_name="Tui Books",
        method=LinkMethod.EXISTING,
        user=None,
    )
    invoice = TransactionFactory(contact=tui, number="INV-5301")
    LineItemFactory(transaction=invoice)  # 2 x 24.50 + 15% GST = 56.35
    payment = PaymentFactory(transaction=invoice, amount=Decimal("56.35"), reference="Deposit")
    page = connected
    payments = f"{live_server.url}/accounting/xero/sales/payments/"

    page.goto(payments)
    row = page.locator(f"#payment-{payment.pk}")
    expect(row).to_contain_text("Waiting for its invoice")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("1 payment waits for its document")
    expect(row).to_contain_text("Waiting for sales invoice INV-5301 to sync")
    screenshot("payment-waiting")

    page.goto(f"{live_server.url}/accounting/xero/sales/invoices/")
    page.locator(f"#transaction-{invoice.pk}").get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    worker()
    expect(page.locator(f"#transaction-{invoice.pk}")).to_contain_text("Synced", timeout=10_000)

    page.goto(payments)
    expect(row).to_contain_text("Ready to upload")
    page.get_by_role("button", name="Upload 1 ready").click()
    expect(page.get_by_role("status").first).to_contain_text("Uploading 1 payment")
    worker()
    page.reload()
    expect(row).to_contain_text("Synced")
    expect(row).to_contain_text("Paid into Xero")
    screenshot("payment-synced")
    assert Payment.objects.get(pk=payment.pk).sync_state == PaymentState.SYNCED

    page.goto(f"{live_server.url}/accounting/xero/sales/invoices/")
    expect(page.locator(f"#transaction-{invoice.pk}")).to_contain_text("Paid in Xero")
    screenshot("payment-invoice-paid")

    # And in Xero (the sandbox's own page of the organisation).
    page.goto(f"{sandbox.url}/")
    xero_row = page.locator("tr", has_text="INV-5301")
    expect(xero_row).to_contain_text("PAID")
    screenshot("payment-invoice-paid-in-xero")
