"""A linked contact's balance in Xero (sync.syncing.balances): what its approved documents
still have due, and how much of it is overdue, added up from Xero's documents as the
refresh keeps them; shown on its row and its page."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import SyncSettings
from sync.syncing import discrepancies
from tests.factories import SupplierFactory
from tests.sandbox.test_payments import _pay
from tests.syncing.test_sync import linked, sync, transaction_of
from transactions.models import TransactionType

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
SUPPLIERS = reverse("sync:subtab", kwargs={"tab": "purchases", "subtab": "suppliers"})


def balance_shown(client, url, contact):
    html = client.get(url, {"show": "all"}).content.decode()
    row = re.search(rf'<tr id="contact-{contact.pk}".*?</tr>', html, re.S)
    assert row, f"{contact.name} is not on the page"
    found = re.search(r'<div class="balance secondary">(.*?)</div>', row.group(0), re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


def synced_and_refreshed(connection, contact, transaction_type, days_overdue):
    today = timezone.localdate()
    txn = transaction_of(
        contact,
        transaction_type,
        date=today - timedelta(days=30),
        due_date=today - timedelta(days=days_overdue),
    )
    sync(connection, [txn])
    discrepancies.documents_refresh(connection=connection)
    txn.refresh_from_db()
    return txn


def test_a_customers_balance_follows_a_payment_made_in_xero(
    connection, sandbox, sandbox_sdk, accountant_client
):
    SyncSettings.objects.create(connection=connection, document_status="AUTHORISED")
    customer = linked(connection, sandbox)
    invoice = synced_and_refreshed(connection, customer, TransactionType.SALES_INVOICE, 5)
    # 3 at 10.00, and 15% GST
    assert balance_shown(accountant_client, CUSTOMERS, customer) == (
        "Outstanding NZD 34.50 · 34.50 overdue"
    )

    _pay(sandbox_sdk, invoice.xero_id, Decimal("10.00"))
    discrepancies.documents_refresh(connection=connection)

    assert balance_shown(accountant_client, CUSTOMERS, customer) == (
        "Outstanding NZD 24.50 · 24.50 overdue"
    )
    page = accountant_client.get(
        reverse("sync:contact_detail", kwargs={"tab": "sales", "pk": customer.pk})
    ).content.decode()
    assert "Balance in Xero" in page and "Outstanding NZD 24.50" in page


def test_a_bill_paid_in_xero_clears_the_suppliers_balance(
    connection, sandbox, sandbox_sdk, accountant_client
):
    SyncSettings.objects.create(connection=connection, document_status="AUTHORISED")
    supplier = linked(connection, sandbox, contact=SupplierFactory())
    bill = synced_and_refreshed(connection, supplier, TransactionType.SUPPLIER_INVOICE, -10)
    assert balance_shown(accountant_client, SUPPLIERS, supplier) == "Outstanding NZD 34.50"

    _pay(sandbox_sdk, bill.xero_id, Decimal("34.50"))
    discrepancies.documents_refresh(connection=connection)

    assert balance_shown(accountant_client, SUPPLIERS, supplier) == ""


def test_drafts_owe_nothing_and_a_customer_shows_only_its_own_documents(
    connection, sandbox, accountant_client
):
    first = linked(connection, sandbox)
    second = linked(connection, sandbox)
    synced_and_refreshed(connection, first, TransactionType.SALES_INVOICE, 5)  # a draft
    assert balance_shown(accountant_client, CUSTOMERS, first) == ""

    SyncSettings.objects.filter(connection=connection).update(document_status="AUTHORISED")
    synced_and_refreshed(connection, second, TransactionType.SALES_INVOICE, -1)
    assert balance_shown(accountant_client, CUSTOMERS, first) == ""
    assert balance_shown(accountant_client, CUSTOMERS, second) == "Outstanding NZD 34.50"
