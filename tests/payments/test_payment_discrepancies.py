"""Discrepancies compares what was paid in Xero with Omni's payments of each synced invoice
or bill: paid in Xero and not in Omni, or the reverse; agreeing payments are no discrepancy."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from sync.syncing import discrepancies
from tests.factories import PaymentFactory
from tests.payments.test_payment_sync import upload
from tests.sandbox.test_payments import _pay
from tests.syncing.test_sync import linked, sync, transaction_of

pytestmark = pytest.mark.django_db

DISCREPANCIES = reverse("sync:discrepancies")


def listed(client, invoice):
    html = client.get(DISCREPANCIES).content.decode()
    row = re.search(rf'<tr id="discrepancy-{invoice.pk}".*?</tr>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", row.group(0)).split()) if row else ""


def synced_invoice(paying, sandbox):
    invoice = transaction_of(linked(paying, sandbox))  # 34.50
    sync(paying, [invoice])
    invoice.refresh_from_db()
    return invoice


def test_a_payment_made_in_xero_alone_is_paid_in_xero_not_in_omni(
    paying, sandbox, sandbox_sdk, accountant_client
):
    invoice = synced_invoice(paying, sandbox)
    _pay(sandbox_sdk, invoice.xero_id, Decimal("10.00"))
    discrepancies.documents_refresh(connection=paying)

    row = listed(accountant_client, invoice)
    assert "Paid in Xero, not in Omni" in row
    assert "Paid in Xero NZD 10.00; in Omni 0.00" in row


def test_a_payment_recorded_in_omni_and_not_in_xero_is_the_reverse(
    paying, sandbox, accountant_client
):
    invoice = synced_invoice(paying, sandbox)
    PaymentFactory(transaction=invoice, amount=Decimal("34.50"))
    discrepancies.documents_refresh(connection=paying)

    row = listed(accountant_client, invoice)
    assert "Paid in Omni, not in Xero" in row
    assert "Paid in Xero NZD 0.00; in Omni 34.50" in row


def test_an_omni_payment_uploaded_to_xero_agrees(paying, sandbox, accountant_client):
    invoice = synced_invoice(paying, sandbox)
    payment = PaymentFactory(transaction=invoice, amount=Decimal("20.00"))
    upload(paying, payment)
    discrepancies.documents_refresh(connection=paying)

    assert listed(accountant_client, invoice) == ""
