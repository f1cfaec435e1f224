"""Payments on invoices (PUT and GET /Payments) through the real SDK, with Xero's rules;
and the INVOICE UPDATE webhook events a payment, a void and an edit cause.

https://developer.xero.com/documentation/api/accounting/payments
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    Contact,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    LineItem,
    Payment,
    Payments,
)
from xero_python.exceptions import AccountingBadRequestException

from tests.plugins.sandbox import http
from tests.sandbox.test_documents import _invoice, _line, _put_invoices
from tests.sandbox.test_webhooks import KEY, Receiver

BANK = "090"  # the demo chart's Business Bank Account
SALES = "200"  # a revenue account: no payments to it


@pytest.fixture
def customer(sandbox) -> str:
    return sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Paying Customer Ltd"}])[0]


@pytest.fixture
def authorised(sandbox_sdk, customer):
    """An AUTHORISED sales invoice of 46.00 (40 + 15% GST)."""
    return _put_invoices(sandbox_sdk, _invoice(customer, status="AUTHORISED")).invoices[0]


def _pay(sdk, invoice_id, amount, *, account=None, reference="Bank deposit"):
    payment = Payment(
        invoice=Invoice(invoice_id=str(invoice_id)),
        account=account or Account(code=BANK),
        amount=amount,
        date=date(2026, 12, 1),
        reference=reference,
    )
    return sdk.accounting.create_payments(
        sdk.tenant_id, Payments(payments=[payment]), summarize_errors=False
    ).payments[0]


def _invoice_now(sdk, invoice_id):
    return sdk.accounting.get_invoice(sdk.tenant_id, str(invoice_id)).invoices[0]


def _errors(payment) -> list[str]:
    return [e.message for e in payment.validation_errors or []]


def test_a_part_payment_lowers_what_is_due_and_a_full_one_marks_the_invoice_paid(
    sandbox_sdk, authorised
):
    assert authorised.total == Decimal("46")
    first = _pay(sandbox_sdk, authorised.invoice_id, 20)
    assert _errors(first) == [] and first.amount == Decimal("20")
    assert first.invoice.invoice_id == authorised.invoice_id
    part = _invoice_now(sandbox_sdk, authorised.invoice_id)
    assert (part.status, part.amount_paid, part.amount_due) == (
        "AUTHORISED",
        Decimal("20"),
        Decimal("26"),
    )
    assert part.fully_paid_on_date is None
    assert part.updated_date_utc >= authorised.updated_date_utc

    _pay(sandbox_sdk, authorised.invoice_id, 26)
    paid = _invoice_now(sandbox_sdk, authorised.invoice_id)
    assert (paid.status, paid.amount_paid, paid.amount_due) == ("PAID", Decimal("46"), Decimal("0"))
    assert paid.fully_paid_on_date == date(2026, 12, 1)


def test_a_draft_cannot_be_paid(sandbox_sdk, customer):
    draft = _put_invoices(sandbox_sdk, _invoice(customer)).invoices[0]
    refused = _pay(sandbox_sdk, draft.invoice_id, 10)
    assert refused.status_attribute_string == "ERROR"
    assert any("AUTHORISED" in message for message in _errors(refused))
    assert _invoice_now(sandbox_sdk, draft.invoice_id).amount_paid == Decimal("0")


def test_more_than_is_due_is_refused_with_xeros_message(sandbox_sdk, authorised):
    refused = _pay(sandbox_sdk, authorised.invoice_id, 46.01)
    assert _errors(refused) == ["Payment amount exceeds the amount outstanding on this document"]
    assert _invoice_now(sandbox_sdk, authorised.invoice_id).amount_due == Decimal("46")


def test_only_a_bank_account_or_one_enabled_for_payments_can_be_paid_into(sandbox_sdk, authorised):
    refused = _pay(sandbox_sdk, authorised.invoice_id, 5, account=Account(code=SALES))
    assert any("BANK" in message for message in _errors(refused))
    accounts = sandbox_sdk.accounting.get_accounts(sandbox_sdk.tenant_id).accounts
    bank = next(a for a in accounts if a.code == BANK)
    by_id = _pay(sandbox_sdk, authorised.invoice_id, 5, account=Account(account_id=bank.account_id))
    assert _errors(by_id) == [] and by_id.account.code == BANK


def test_summarised_errors_are_a_400_like_other_batches(sandbox_sdk, authorised):
    payment = Payment(
        invoice=Invoice(invoice_id=str(authorised.invoice_id)),
        account=Account(code=BANK),
        amount=1000,
        date=date(2026, 12, 1),
    )
    with pytest.raises(AccountingBadRequestException) as raised:
        sandbox_sdk.accounting.create_payments(sandbox_sdk.tenant_id, Payments(payments=[payment]))
    assert "exceeds the amount outstanding" in raised.value.reason


def test_get_payments_lists_them_with_their_invoice_and_account(sandbox_sdk, authorised):
    made = _pay(sandbox_sdk, authorised.invoice_id, 12.5, reference="Cheque 12")
    listed = sandbox_sdk.accounting.get_payments(sandbox_sdk.tenant_id).payments
    assert [p.payment_id for p in listed] == [made.payment_id]
    (payment,) = listed
    assert (payment.amount, payment.reference, payment.status) == (
        Decimal("12.5"),
        "Cheque 12",
        "AUTHORISED",
    )
    assert payment.payment_type == "ACCRECPAYMENT"
    assert payment.invoice.invoice_id == authorised.invoice_id
    assert payment.account.code == BANK


def test_a_paid_invoice_can_no_longer_be_edited(sandbox_sdk, authorised):
    _pay(sandbox_sdk, authorised.invoice_id, 1)
    change = Invoices(invoices=[Invoice(line_items=[_line(30, 1)])])
    with pytest.raises(AccountingBadRequestException) as raised:
        sandbox_sdk.accounting.update_invoice(sandbox_sdk.tenant_id, authorised.invoice_id, change)
    assert "payment or credit note allocated" in raised.value.reason


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.server.shutdown()


def test_a_payment_a_void_and_an_edit_are_each_an_invoice_update_event(
    sandbox, sandbox_sdk, customer, receiver
):
    sandbox.webhook(url=receiver.url, key=KEY, round_seconds=3600)
    to_pay, to_void, to_edit = (
        _put_invoices(sandbox_sdk, _invoice(customer, status="AUTHORISED")).invoices[0]
        for _ in range(3)
    )
    sandbox.flush_webhooks()
    receiver.posts.clear()

    _pay(sandbox_sdk, to_pay.invoice_id, 46)
    sandbox_sdk.accounting.update_invoice(
        sandbox_sdk.tenant_id, to_void.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
    )
    sandbox_sdk.accounting.update_invoice(
        sandbox_sdk.tenant_id,
        to_edit.invoice_id,
        Invoices(invoices=[Invoice(line_items=[_line(50, 1)])]),
    )
    sandbox.flush_webhooks()

    events = [e for e in receiver.events() if e["eventCategory"] == "INVOICE"]
    assert sorted(e["resourceId"] for e in events) == sorted(
        str(i.invoice_id) for i in (to_pay, to_void, to_edit)
    )
    assert {e["eventType"] for e in events} == {"UPDATE"}
    assert all(e["resourceUrl"].endswith(f"/Invoices/{e['resourceId']}") for e in events)


def test_a_refund_on_a_credit_note_lowers_its_remaining_credit(sandbox, sandbox_sdk):
    contact_id = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Refunded Ltd"}])[0]
    note = sandbox_sdk.accounting.create_credit_notes(
        sandbox_sdk.tenant_id,
        CreditNotes(
            credit_notes=[
                CreditNote(
                    type="ACCRECCREDIT",
                    contact=Contact(contact_id=contact_id),
                    status="AUTHORISED",
                    line_items=[
                        LineItem(
                            description="Returned", quantity=1, unit_amount=20, account_code="200"
                        )
                    ],
                )
            ]
        ),
    ).credit_notes[0]
    total = note.total

    refund = sandbox_sdk.accounting.create_payments(
        sandbox_sdk.tenant_id,
        Payments(
            payments=[
                Payment(
                    credit_note=CreditNote(credit_note_id=note.credit_note_id),
                    account=Account(code=BANK),
                    amount=float(total),
                )
            ]
        ),
    ).payments[0]

    assert refund.payment_type == "ARCREDITPAYMENT"
    assert str(getattr(refund.credit_note.status, "value", refund.credit_note.status)) == "PAID"
    assert refund.credit_note.remaining_credit == 0


def test_the_sandbox_page_pays_an_approved_invoice_in_full(sandbox, sandbox_sdk, authorised):
    page = http("GET", sandbox.url + "/").body.decode()
    assert f"/ui/invoices/{authorised.invoice_id}/pay" in page  # approved: it can be paid
    token = re.search(r"name='csrf' value='([^']+)'", page)
    assert token

    answer = http(
        "POST",
        sandbox.url + f"/ui/invoices/{authorised.invoice_id}/pay",
        {"csrf": token.group(1)},
        form=True,
    )

    assert answer.status == 302 and "paid%20in%20full" in answer.headers["Location"]
    paid = _invoice_now(sandbox_sdk, authorised.invoice_id)
    assert (paid.status, paid.amount_due) == ("PAID", Decimal("0"))
    (made,) = sandbox.documents(sandbox.demo_tenant_id, "payments")
    assert Decimal(str(made["Amount"])) == Decimal("46.00")
    page = http("GET", sandbox.url + "/").body.decode()
    assert f"/ui/invoices/{authorised.invoice_id}/pay" not in page  # nothing left to pay
