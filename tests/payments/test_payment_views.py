"""The Payments subtabs and the payment account setting, as an accountant and an admin use
them: each payment's state and reason, Upload, Upload all ready, a page's fixed cost."""

import re
from decimal import Decimal

import pytest
from django.db import connection as connection_db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from xero_python.accounting import Account, Invoice, Payments
from xero_python.accounting import Payment as XeroPayment

from sync.models import SyncRun, SyncSettings
from sync.syncing.discrepancies import documents_refresh
from tests.factories import ChartAccountFactory, PaymentFactory, SupplierFactory
from tests.payments.conftest import BANK
from tests.payments.test_payment_sync import upload, xero_payments
from tests.syncing.test_admin_tab import settings_data
from tests.syncing.test_sync import linked, sync, transaction_of
from tests.syncing.test_transaction_views import text, work
from transactions.models import Payment, TransactionType

pytestmark = pytest.mark.django_db

SALES_PAYMENTS = "/accounting/xero/sales/payments/"
PURCHASE_PAYMENTS = "/accounting/xero/purchases/payments/"
SAVE = reverse("sync:admin_settings_save")


def act(client, action: str, *payments: Payment, path: str = SALES_PAYMENTS):
    return client.post(
        f"{path}action/",
        {"action": action, "payment": [p.pk for p in payments], "next": path},
        follow=True,
    )


def row(html: str, payment: Payment) -> str:
    found = re.search(rf'<tr id="payment-{payment.pk}">.*?</tr>', html, re.S)
    assert found, payment
    return found.group(0)


def test_each_tab_lists_its_own_payments_with_their_state(paying, sandbox, accountant_client):
    invoice = transaction_of(linked(paying, sandbox), number="INV-8001")
    bill = transaction_of(
        linked(paying, sandbox, SupplierFactory()), TransactionType.SUPPLIER_INVOICE
    )
    on_invoice = PaymentFactory(transaction=invoice)
    on_bill = PaymentFactory(transaction=bill)

    sales = text(accountant_client.get(SALES_PAYMENTS))
    purchases = text(accountant_client.get(PURCHASE_PAYMENTS))

    assert f'id="payment-{on_invoice.pk}"' in sales and f'id="payment-{on_bill.pk}"' not in sales
    assert f'id="payment-{on_bill.pk}"' in purchases
    assert "Waiting for its invoice" in row(sales, on_invoice)
    assert "Waiting for its bill" in row(purchases, on_bill)
    assert "Payments" in sales and 'aria-current="page">Payments' in sales


def test_upload_waits_for_the_invoice_and_upload_all_ready_sends_it_once_synced(
    paying, sandbox, accountant_client, django_capture_on_commit_callbacks
):
    invoice = transaction_of(linked(paying, sandbox), number="INV-8101")
    payment = PaymentFactory(transaction=invoice, amount=Decimal("34.50"))

    page = text(act(accountant_client, "upload", payment))

    assert "1 payment waits for its document to sync to Xero" in page
    assert "Waiting for sales invoice INV-8101 to sync" in row(page, payment)
    assert SyncRun.objects.count() == 0

    sync(paying, [invoice])
    assert "Ready to upload" in row(text(accountant_client.get(SALES_PAYMENTS)), payment)
    with django_capture_on_commit_callbacks(execute=True):
        page = text(act(accountant_client, "upload_all"))
    assert "Uploading 1 payment to Demo Company (NZ) in the background" in page
    work()

    page = text(accountant_client.get(SALES_PAYMENTS))
    assert "Synced" in row(page, payment) and "Paid into Xero" in row(page, payment)
    assert len(xero_payments(sandbox)) == 1
    # The invoice shows paid: Xero's answer to the payment said so.
    invoices = text(accountant_client.get("/accounting/xero/sales/invoices/"))
    assert "Paid in Xero" in invoices


def test_a_refused_payment_says_xeros_reason_on_its_row(paying, sandbox, accountant_client):
    invoice = transaction_of(linked(paying, sandbox))
    sync(paying, [invoice])
    payment = PaymentFactory(transaction=invoice, amount=Decimal("99.00"))

    act(accountant_client, "upload", payment)
    work()

    shown = row(text(accountant_client.get(SALES_PAYMENTS)), payment)
    assert "Refused" in shown and "exceeds the amount outstanding" in shown


def test_without_a_payment_account_upload_says_where_to_choose_it(
    paying, sandbox, accountant_client
):
    SyncSettings.objects.filter(connection=paying).update(payment_account_code="")
    payment = PaymentFactory(transaction=transaction_of(linked(paying, sandbox)))

    page = text(act(accountant_client, "upload", payment))

    assert "Choose the payment account on the Admin tab first" in page
    assert SyncRun.objects.count() == 0


def test_viewers_cannot_upload(paying, sandbox, viewer_client):
    payment = PaymentFactory(transaction=transaction_of(linked(paying, sandbox)))
    assert act(viewer_client, "upload", payment).status_code == 403


def test_a_page_costs_the_same_with_3_or_30_payments(paying, sandbox, accountant_client):
    invoice = transaction_of(linked(paying, sandbox))

    def queries() -> int:
        accountant_client.get(SALES_PAYMENTS)  # its whole-history counts, kept for the next
        with CaptureQueriesContext(connection_db) as captured:
            assert accountant_client.get(SALES_PAYMENTS).status_code == 200
        return len(captured)

    PaymentFactory.create_batch(3, transaction=invoice)
    few = queries()
    PaymentFactory.create_batch(27, transaction=invoice)
    assert queries() == few


def test_the_payment_account_must_accept_payments(connection, admin_client):
    ChartAccountFactory(connection=connection, code="090", name="Business Bank", type="BANK")
    ChartAccountFactory(connection=connection, code="200", name="Sales", type="REVENUE")
    ChartAccountFactory(
        connection=connection, code="880", name="Clearing", type="CURRLIAB", enable_payments=True
    )

    page = text(admin_client.post(SAVE, settings_data(payment_account_code="200"), follow=True))
    assert "does not accept payments in Xero" in page
    assert SyncSettings.for_connection(connection).payment_account_code == ""
    offered = re.search(r'<select name="payment_account_code".*?</select>', page, re.S)
    assert offered and "090" in offered.group(0) and "880" in offered.group(0)
    assert 'value="200"' not in offered.group(0).replace('value="200" selected', "")

    admin_client.post(SAVE, settings_data(payment_account_code="880"))
    assert SyncSettings.for_connection(connection).payment_account_code == "880"


def test_the_sync_log_shows_a_runs_payments_and_its_summary_counts_them(
    paying, sandbox, admin_client
):
    invoice = transaction_of(linked(paying, sandbox))
    sync(paying, [invoice])
    good = PaymentFactory(transaction=invoice, amount=Decimal("4.50"), reference="Good one")
    bad = PaymentFactory(transaction=invoice, amount=Decimal("99.00"), reference="Too much")
    run = upload(paying, good, bad)

    page = text(admin_client.get(reverse("sync:sync_run", kwargs={"pk": run.pk})))

    assert "Good one" in page and "Too much" in page
    assert "exceeds the amount outstanding" in page
    assert "1 synced · 1 refused" in page
    assert run.outcome_counts()["payments"] == {
        "synced": 1, "refused": 1, "failed": 0, "skipped": 0
    }  # fmt: skip


def test_a_part_paid_invoice_says_what_is_paid_and_due_in_xero(paying, sandbox, accountant_client):
    invoice = transaction_of(linked(paying, sandbox), number="INV-8201")  # total 34.50
    sync(paying, [invoice])
    upload(paying, PaymentFactory(transaction=invoice, amount=Decimal("4.50")))

    page = text(accountant_client.get("/accounting/xero/sales/invoices/"))

    shown = re.search(rf'<tr id="transaction-{invoice.pk}".*?</tr>', page, re.S)
    assert shown and "Part paid in Xero" in shown.group(0)
    assert "4.50 paid, 30.00 due in Xero." in shown.group(0)


def test_a_bill_paid_in_xero_shows_paid_after_a_refresh(
    paying, sandbox, sandbox_sdk, accountant_client
):
    bill = transaction_of(
        linked(paying, sandbox, SupplierFactory()), TransactionType.SUPPLIER_INVOICE
    )
    sync(paying, [bill])
    bill.refresh_from_db()
    sandbox_sdk.accounting.create_payments(
        sandbox_sdk.tenant_id,
        Payments(
            payments=[
                XeroPayment(
                    invoice=Invoice(invoice_id=str(bill.xero_id)),
                    account=Account(code=BANK),
                    amount=float(bill.totals.total),
                )
            ]
        ),
    )

    documents_refresh(connection=paying)  # what Refresh and the webhook's follow-up do

    page = text(accountant_client.get("/accounting/xero/purchases/bills/"))
    shown = re.search(rf'<tr id="transaction-{bill.pk}".*?</tr>', page, re.S)
    assert shown and "Paid in Xero" in shown.group(0)
