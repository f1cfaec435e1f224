"""Payments to Xero: waiting for their document, sent exactly once against it into the
payment account, refused with Xero's reason; against the sandbox, through the real SDK."""

from decimal import Decimal

import pytest
from xero_python.accounting import Invoice, Invoices

from sync.models import PaymentItem, SyncRun, SyncSettings, XeroApiCall
from sync.syncing import runs
from sync.syncing.payments import payments_upload
from tests.factories import PaymentFactory, SupplierFactory
from tests.syncing.test_sync import in_xero, linked, sync, transaction_of
from transactions.models import Payment, PaymentState, SyncState, TransactionType

pytestmark = pytest.mark.django_db


def upload(connection, *payments: Payment) -> SyncRun | None:
    run, _ = payments_upload(
        connection=connection, payments=Payment.objects.filter(pk__in=[p.pk for p in payments])
    )
    return runs.sync_run(run=run) if run is not None else None


def xero_payments(sandbox) -> list[dict]:
    return sandbox.documents(sandbox.demo_tenant_id, "payments")


def payment_puts() -> list[XeroApiCall]:
    return list(XeroApiCall.objects.filter(method="PUT", endpoint__contains="/Payments"))


def state(payment: Payment) -> Payment:
    payment.refresh_from_db()
    return payment


def test_a_payment_waits_for_its_invoice_then_goes_once_the_invoice_syncs(paying, sandbox):
    invoice = transaction_of(linked(paying, sandbox), number="INV-7001")  # total 34.50
    payment = PaymentFactory(transaction=invoice, amount=Decimal("34.50"), reference="DEP-1")
    assert payment.sync_state == PaymentState.WAITING

    assert upload(paying, payment) is None  # nothing sent: it waits
    assert state(payment).sync_state == PaymentState.WAITING
    assert "INV-7001" in payment.last_error and "goes once it is in Xero" in payment.last_error
    assert payment_puts() == []

    sync(paying, [invoice])
    assert state(payment).sync_state == PaymentState.READY  # its invoice is in Xero now

    run = upload(paying, payment)

    assert run is not None and run.state == SyncRun.State.DONE, run.detail
    assert state(payment).sync_state == PaymentState.SYNCED
    (made,) = xero_payments(sandbox)
    assert str(payment.xero_id) == made["PaymentID"]
    invoice.refresh_from_db()
    assert made["InvoiceID"] == str(invoice.xero_id)
    assert Decimal(str(made["Amount"])) == Decimal("34.50")
    assert made["Reference"] == f"DEP-1 (Omni {payment.pk})"
    (paid,) = in_xero(sandbox)
    assert paid["Status"] == "PAID"  # the invoice shows paid in Xero
    (put,) = payment_puts()
    assert "summarizeErrors=False" in put.endpoint and put.idempotency_key


def test_a_payment_dropped_after_xero_committed_is_made_once(paying, sandbox):
    invoice = transaction_of(linked(paying, sandbox))
    sync(paying, [invoice])
    payment = PaymentFactory(transaction=invoice, amount=Decimal("5.00"))
    sandbox.fault(kind="drop_after_commit", path="/api.xro/2.0/Payments", method="PUT")

    run = upload(paying, payment)

    assert run is not None and run.state == SyncRun.State.DONE
    assert state(payment).sync_state == PaymentState.SYNCED
    assert len(xero_payments(sandbox)) == 1
    assert str(payment.xero_id) == xero_payments(sandbox)[0]["PaymentID"]


def test_a_lost_answer_is_looked_up_by_document_and_reference_not_sent_again(paying, sandbox):
    invoice = transaction_of(linked(paying, sandbox))
    sync(paying, [invoice])
    one, two = (PaymentFactory(transaction=invoice, amount=Decimal("5.00")) for _ in range(2))
    # Every attempt is committed and its answer lost: the outcome stays unknown.
    sandbox.fault(kind="drop_after_commit", path="/api.xro/2.0/Payments", method="PUT", count=9)

    run = upload(paying, one, two)

    assert run is not None and run.state == SyncRun.State.WAITING
    assert set(run.payment_items.values_list("state", flat=True)) == {PaymentItem.State.SENDING}
    sandbox.clear_faults()
    puts = len(payment_puts())
    SyncRun.objects.filter(pk=run.pk).update(resume_at=None)

    run = runs.sync_run(run=run)

    assert run.state == SyncRun.State.DONE
    assert len(payment_puts()) == puts  # found again in Xero, not sent again
    assert [state(p).sync_state for p in (one, two)] == [PaymentState.SYNCED] * 2
    assert len(xero_payments(sandbox)) == 2
    assert {str(state(p).xero_id) for p in (one, two)} == {
        p["PaymentID"] for p in xero_payments(sandbox)
    }


def test_a_payment_larger_than_what_is_due_is_refused_with_xeros_reason(paying, sandbox):
    invoice = transaction_of(linked(paying, sandbox))  # total 34.50
    sync(paying, [invoice])
    too_much = PaymentFactory(transaction=invoice, amount=Decimal("40.00"))
    fine = PaymentFactory(transaction=invoice, amount=Decimal("4.50"))

    upload(paying, too_much, fine)

    assert state(too_much).sync_state == PaymentState.REFUSED
    assert "exceeds the amount outstanding" in too_much.last_error
    assert state(fine).sync_state == PaymentState.SYNCED  # its neighbour in the batch went
    assert len(xero_payments(sandbox)) == 1
    assert len(payment_puts()) == 1


def test_a_payment_on_an_invoice_voided_in_xero_is_refused(paying, sandbox, sandbox_sdk):
    invoice = transaction_of(linked(paying, sandbox))
    sync(paying, [invoice])
    invoice.refresh_from_db()
    sandbox_sdk.accounting.update_invoice(
        sandbox_sdk.tenant_id,
        str(invoice.xero_id),
        Invoices(invoices=[Invoice(status="VOIDED")]),
    )
    payment = PaymentFactory(transaction=invoice, amount=Decimal("5.00"))

    upload(paying, payment)

    assert state(payment).sync_state == PaymentState.REFUSED
    assert payment.last_error.startswith("Xero refused it:")
    assert "AUTHORISED" in payment.last_error
    assert xero_payments(sandbox) == []


def test_without_a_payment_account_nothing_is_sent(paying, sandbox):
    SyncSettings.objects.filter(connection=paying).update(payment_account_code="")
    invoice = transaction_of(linked(paying, sandbox))
    sync(paying, [invoice])
    payment = PaymentFactory(transaction=invoice)

    upload(paying, payment)

    assert state(payment).sync_state == PaymentState.REFUSED
    assert "payment account" in payment.last_error
    assert payment_puts() == []


def test_payments_go_fifty_to_a_call(paying, sandbox):
    invoice = transaction_of(linked(paying, sandbox), number="INV-7101")
    sync(paying, [invoice])
    payments = [PaymentFactory(transaction=invoice, amount=Decimal("0.50")) for _ in range(60)]

    upload(paying, *payments)

    assert len(payment_puts()) == 2
    assert len(xero_payments(sandbox)) == 60
    assert Payment.objects.filter(sync_state=PaymentState.SYNCED).count() == 60
    invoice.refresh_from_db()
    assert invoice.sync_state == SyncState.SYNCED


def test_a_bill_is_paid_and_a_credit_note_refunded(paying, sandbox):
    bill = transaction_of(
        linked(paying, sandbox, SupplierFactory()), TransactionType.SUPPLIER_INVOICE
    )
    note = transaction_of(linked(paying, sandbox), TransactionType.SALES_CREDIT_NOTE)
    sync(paying, [bill, note])
    paid = PaymentFactory(transaction=bill, amount=bill.totals.total)
    refund = PaymentFactory(transaction=note, amount=Decimal("4.50"))

    upload(paying, paid, refund)

    assert [state(p).sync_state for p in (paid, refund)] == [PaymentState.SYNCED] * 2
    assert refund.is_refund
    made = {p["PaymentID"]: p for p in xero_payments(sandbox)}
    assert made[str(paid.xero_id)]["PaymentType"] == "ACCPAYPAYMENT"
    assert made[str(refund.xero_id)]["PaymentType"] == "ARCREDITPAYMENT"
    (bill_in_xero,) = [d for d in in_xero(sandbox) if d["Type"] == "ACCPAY"]
    assert bill_in_xero["Status"] == "PAID"


def test_upload_all_again_looks_up_a_lost_answer_its_stopped_run_left(paying, sandbox):
    invoice = transaction_of(linked(paying, sandbox))
    sync(paying, [invoice])
    payment = PaymentFactory(transaction=invoice, amount=Decimal("5.00"))
    sandbox.fault(kind="drop_after_commit", path="/api.xro/2.0/Payments", method="PUT", count=9)
    run = upload(paying, payment)
    assert run is not None and run.state == SyncRun.State.WAITING
    SyncRun.objects.filter(pk=run.pk).update(state=SyncRun.State.STOPPED, lease_until=None)
    sandbox.clear_faults()

    again = upload(paying, payment)  # the payment is in no queue; its answer is still lost

    assert again is not None and again.state == SyncRun.State.DONE
    assert state(payment).sync_state == PaymentState.SYNCED
    assert len(xero_payments(sandbox)) == 1
