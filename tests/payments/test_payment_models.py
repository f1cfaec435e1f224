"""Payments as Omni data: the demo's, their state before their document is in Xero, the
admin's view of them."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from sync.demo import load_demo_data
from tests.factories import PaymentFactory, TransactionFactory
from transactions.models import Payment, PaymentState, SyncState, TransactionType

pytestmark = pytest.mark.django_db


def test_the_demo_has_payments_waiting_for_their_documents():
    load_demo_data()

    payments = list(Payment.objects.select_related("transaction"))

    assert len(payments) == 5
    assert {p.sync_state for p in payments} == {PaymentState.WAITING}
    assert sum(p.is_refund for p in payments) == 1
    full = [p for p in payments if p.method == "card"]
    assert full and full[0].amount == full[0].transaction.totals.total


def test_a_payment_is_ready_once_its_document_is_synced():
    invoice = TransactionFactory(
        sync_state=SyncState.SYNCED, xero_id="6f1c1f2e-0000-4000-8000-000000000001"
    )
    assert PaymentFactory(transaction=invoice).sync_state == PaymentState.READY
    assert PaymentFactory().sync_state == PaymentState.WAITING


def test_a_purchase_order_cannot_be_paid():
    order = TransactionFactory(type=TransactionType.PURCHASE_ORDER)
    with pytest.raises(ValidationError):
        Payment(transaction=order, date=order.date, amount=Decimal("1.00")).full_clean()


def test_the_admin_lists_payments_and_keeps_xeros_fields_read_only(admin_client):
    payment = PaymentFactory(reference="Deposit 77")

    listing = admin_client.get("/admin/transactions/payment/").content.decode()
    change = admin_client.get(f"/admin/transactions/payment/{payment.pk}/change/").content.decode()

    assert "Deposit 77" in listing
    assert 'name="sync_state"' not in change and 'name="xero_id"' not in change
    assert 'name="amount"' in change
