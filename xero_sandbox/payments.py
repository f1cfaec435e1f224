"""Payments on invoices, and refunds on credit notes: PUT /Payments creates them, GET
/Payments lists them.

Shapes follow Xero's spec (tests/sandbox/openapi/xero_accounting.yaml, `Payment` and the
examples of PUT and GET /Payments): a payment names its invoice (`Invoice.InvoiceID`, or
`InvoiceNumber`), the account paid into (`Account.AccountID` or `Account.Code`), `Amount`,
`Date` and `Reference`; a refund names its credit note (`CreditNote.CreditNoteID`) instead.
Rules from https://developer.xero.com/documentation/api/accounting/payments:
the invoice must be AUTHORISED (a draft cannot be paid), the amount must not exceed what is
due (the spec's own message), and the account must be a BANK account or one with
`EnablePaymentsToAccount`. A payment changes the invoice's AmountPaid, AmountDue, Status
(PAID once nothing is due), FullyPaidOnDate and UpdatedDateUTC, so a webhook INVOICE UPDATE
follows. Messages marked [sandbox] are this sandbox's wording (Xero's is unconfirmed).
"""

import uuid
from decimal import Decimal
from typing import Any

from xero_sandbox import documents, wire
from xero_sandbox.common import Ctx, batch_answer, body_items, is_guid, query_list
from xero_sandbox.web import Response

MSG_EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
MSG_NO_INVOICE = "[sandbox] A payment must name an invoice by InvoiceID or InvoiceNumber"
MSG_UNKNOWN_INVOICE = "[sandbox] The invoice this payment names could not be found"
MSG_NOT_AUTHORISED = "[sandbox] Payments can only be made against AUTHORISED invoices"
MSG_NO_ACCOUNT = "[sandbox] A payment must name an account by AccountID or Code"
MSG_UNKNOWN_ACCOUNT = "[sandbox] The account this payment names could not be found"
MSG_ACCOUNT_KIND = (
    "[sandbox] Payments can only be made to a BANK account or an account with "
    "EnablePaymentsToAccount set"
)
MSG_AMOUNT = "[sandbox] Amount must be a number greater than zero"
MSG_DATE = "[sandbox] Date is not a valid date"
PAYMENT_TYPES = {
    "ACCREC": "ACCRECPAYMENT",
    "ACCPAY": "ACCPAYPAYMENT",
    "ACCRECCREDIT": "ARCREDITPAYMENT",  # a refund of a customer's credit note
    "ACCPAYCREDIT": "APCREDITPAYMENT",  # a supplier's refund of its credit note
}


def _table(ctx: Ctx) -> dict[str, dict]:
    # State files written before payments existed have no table yet.
    payments: dict[str, dict] = ctx.org.setdefault("payments", {})
    return payments


def _invoice(ctx: Ctx, item: dict) -> tuple[dict | None, str | None]:
    """The document a payment names: an invoice (paid), or a credit note (refunded)."""
    if isinstance(item.get("CreditNote"), dict) and not isinstance(item.get("Invoice"), dict):
        ref, table, id_field, number_field = (
            item["CreditNote"],
            ctx.org["credit_notes"],
            "CreditNoteID",
            "CreditNoteNumber",
        )
    else:
        ref, table, id_field, number_field = (
            item.get("Invoice"),
            ctx.org["invoices"],
            "InvoiceID",
            "InvoiceNumber",
        )
    if not isinstance(ref, dict):
        return None, MSG_NO_INVOICE
    if is_guid(ref.get(id_field)) and ref[id_field] != "00000000-0000-0000-0000-000000000000":
        found = table.get(ref[id_field].lower())
    elif isinstance(ref.get(number_field), str) and ref[number_field]:
        number = ref[number_field].casefold()
        found = next(
            (i for i in table.values() if (i.get(number_field) or "").casefold() == number),
            None,
        )
    else:
        return None, MSG_NO_INVOICE
    return found, None if found else MSG_UNKNOWN_INVOICE


def _account(ctx: Ctx, ref: Any) -> tuple[dict | None, str | None]:
    if not isinstance(ref, dict):
        return None, MSG_NO_ACCOUNT
    accounts = ctx.org["accounts"]
    if is_guid(ref.get("AccountID")):
        key = ref["AccountID"].lower()
        found = next((a for a in accounts if a["AccountID"] == key), None)
    elif isinstance(ref.get("Code"), str) and ref["Code"]:
        found = next((a for a in accounts if a["Code"] == ref["Code"]), None)
    else:
        return None, MSG_NO_ACCOUNT
    if found is None:
        return None, MSG_UNKNOWN_ACCOUNT
    if found["Type"] != "BANK" and not found.get("EnablePaymentsToAccount"):
        return found, MSG_ACCOUNT_KIND
    return found, None


def due(invoice: dict) -> Decimal:
    """What is still owed on an invoice: its total less what was paid."""
    return Decimal(str(invoice["Total"])) - Decimal(str(invoice.get("AmountPaid") or 0))


def _create(ctx: Ctx, item: dict) -> tuple[dict, list[str]]:
    """Check one payment and, if it is valid, apply it to its invoice and keep it."""
    errors: list[str] = []
    invoice, problem = _invoice(ctx, item)
    if problem:
        errors.append(problem)
    elif invoice is not None and invoice["Status"] != "AUTHORISED":
        errors.append(MSG_NOT_AUTHORISED)
    account, problem = _account(ctx, item.get("Account"))
    if problem:
        errors.append(problem)
    amount = documents._decimal(item.get("Amount"))
    if amount is None or amount <= 0:
        errors.append(MSG_AMOUNT)
    elif invoice is not None and not errors and amount.quantize(documents.CENT) > due(invoice):
        errors.append(MSG_EXCEEDS)
    day = wire.parse_date(item["Date"]) if item.get("Date") not in (None, "") else None
    if item.get("Date") not in (None, "") and day is None:
        errors.append(MSG_DATE)
    reference = item.get("Reference")
    if reference is not None and not isinstance(reference, str):
        errors.append("[sandbox] Reference must be text")
        reference = None
    payment = {
        "PaymentID": str(uuid.uuid4()),
        "Date": day or wire.today(ctx.now),
        "Amount": documents._money(amount) if amount is not None and amount > 0 else 0.0,
        "Reference": (reference or "")[:255],
        "InvoiceID": invoice.get("InvoiceID") if invoice else None,
        "CreditNoteID": invoice.get("CreditNoteID") if invoice else None,
        "AccountID": account["AccountID"] if account else None,
        "UpdatedDateUTC": ctx.now,
    }
    if errors:
        return render(ctx, payment, rejected=True), errors
    assert invoice is not None and amount is not None
    paid = Decimal(str(invoice.get("AmountPaid") or 0)) + amount.quantize(documents.CENT)
    invoice["AmountPaid"] = documents._money(paid)
    invoice.setdefault("PaymentIDs", []).append(payment["PaymentID"])
    if due(invoice) <= 0:
        invoice["Status"] = "PAID"
        invoice["FullyPaidOnDate"] = payment["Date"]
    invoice["UpdatedDateUTC"] = ctx.now
    _table(ctx)[payment["PaymentID"]] = payment
    ctx.commit()
    return render(ctx, payment), []


def render(ctx: Ctx, payment: dict, *, rejected: bool = False) -> dict:
    """A payment as the spec's examples show it, with its account and invoice embedded."""
    invoice = ctx.org["invoices"].get(payment["InvoiceID"] or "")
    credit_note = ctx.org["credit_notes"].get(payment.get("CreditNoteID") or "")
    account = next((a for a in ctx.org["accounts"] if a["AccountID"] == payment["AccountID"]), None)
    out: dict[str, Any] = {
        "PaymentID": "00000000-0000-0000-0000-000000000000" if rejected else payment["PaymentID"],
        "Date": wire.ms_date(payment["Date"]),
        "BankAmount": payment["Amount"],
        "Amount": payment["Amount"],
        "Reference": payment["Reference"],
        "CurrencyRate": 1.0,
        "Status": "AUTHORISED",
        "HasAccount": account is not None,
        "IsReconciled": False,
        "HasValidationErrors": False,
    }
    if invoice is not None or credit_note is not None:
        paid = invoice if invoice is not None else credit_note
        out["PaymentType"] = PAYMENT_TYPES.get(paid.get("Type", ""), "ACCRECPAYMENT")
    if not rejected:
        out["UpdatedDateUTC"] = wire.ms_datetime(payment["UpdatedDateUTC"])
        out["UpdatedDateUTCString"] = wire.timestamp_string(payment["UpdatedDateUTC"])
    if account is not None:
        out["Account"] = {
            "AccountID": account["AccountID"],
            "Code": account["Code"],
            "Name": account["Name"],
        }
    if invoice is not None:
        out["Invoice"] = documents.render(ctx, documents.INVOICES, invoice, with_lines=False)
    if credit_note is not None:
        out["CreditNote"] = documents.render(
            ctx, documents.CREDIT_NOTES, credit_note, with_lines=False
        )
    return out


def put_payments(ctx: Ctx) -> Response:
    """PUT /Payments: create payments, each element answered on its own."""
    items, error = body_items(ctx, "Payments", "Payment")
    if error:
        return error
    outcomes = [_create(ctx, item) for item in items]
    return batch_answer(ctx, "Payments", outcomes, "HasValidationErrors")


def list_payments(ctx: Ctx) -> Response:
    """GET /Payments, with If-Modified-Since, where, order and paging like other lists."""
    rows, pagination, error = query_list(
        ctx, list(_table(ctx).values()), type_name="Payment", tiebreak="PaymentID"
    )
    if error:
        return error
    payload: dict[str, Any] = {}
    if pagination is not None:
        payload["pagination"] = pagination
    payload["Payments"] = [render(ctx, p) for p in rows]
    return ctx.ok(**payload)
