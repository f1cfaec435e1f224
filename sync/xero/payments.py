"""Accounting API calls for payments: create them against invoices and credit notes, and
list those changed since a moment. One small typed function per call."""

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from xero_python.accounting import Account as SdkAccount
from xero_python.accounting import CreditNote as SdkCreditNote
from xero_python.accounting import Invoice as SdkInvoice
from xero_python.accounting import Payment as SdkPayment
from xero_python.accounting import Payments as SdkPayments

from .accounting import _accounting
from .data import DocumentKind, PaymentOutcome, PaymentUpload, XeroDocument, XeroPayment
from .documents import PAGE_SIZE, _decimal, _document, _enum, _failed, _modified
from .text import from_xero
from .transport import Session

NO_ID = "00000000-0000-0000-0000-000000000000"  # Xero's PaymentID on a refused element


def _paid_document(element: Any) -> XeroDocument | None:
    """The invoice or credit note a payment's answer embeds, when it says its status."""
    if element.invoice is not None and element.invoice.invoice_id:
        kind, embedded = DocumentKind.INVOICE, element.invoice
    elif element.credit_note is not None and element.credit_note.credit_note_id:
        kind, embedded = DocumentKind.CREDIT_NOTE, element.credit_note
    else:
        return None
    if embedded.status is None:
        return None
    document = _document(kind, embedded)
    if embedded.total is None:  # Xero's embedded invoice may leave its total out
        document = replace(document, total=document.amount_due + document.amount_paid)
    return document


def _payment(element: Any) -> XeroPayment:
    document = _paid_document(element)
    embedded = element.invoice or element.credit_note
    document_id = getattr(embedded, "invoice_id", None) or getattr(embedded, "credit_note_id", None)
    return from_xero(
        XeroPayment(
            payment_id=uuid.UUID(str(element.payment_id)),
            document_id=uuid.UUID(str(document_id)) if document_id else None,
            reference=element.reference or "",
            amount=_decimal(element.amount),
            status=_enum(element.status),
            updated_in_xero=element.updated_date_utc,
            document=document,
        )
    )


def _sdk_payment(upload: PaymentUpload) -> SdkPayment:
    document: dict[str, Any] = (
        {"invoice": SdkInvoice(invoice_id=str(upload.document_id))}
        if upload.document_kind == DocumentKind.INVOICE
        else {"credit_note": SdkCreditNote(credit_note_id=str(upload.document_id))}
    )
    return SdkPayment(
        account=SdkAccount(code=upload.account_code),
        date=upload.date,
        amount=float(upload.amount),
        reference=upload.reference,
        **document,
    )


def payments_save(
    session: Session, *, payments: Sequence[PaymentUpload], idempotency_key: str
) -> list[PaymentOutcome]:
    """Create payments in one PUT, each element answered on its own (`summarizeErrors=false`).
    Every retry, and any later call with the same key, gets Xero's first answer.

    https://developer.xero.com/documentation/api/accounting/payments#put-payments
    """
    body = SdkPayments(payments=[_sdk_payment(p) for p in payments])
    elements = _accounting(
        session,
        lambda api, tenant, key: list(
            api.create_payments(tenant, body, summarize_errors=False, idempotency_key=key).payments
            or []
        ),
        write=True,
        idempotency_key=idempotency_key,
    )
    outcomes = []
    for element in elements:
        errors = _failed(element)
        if not errors and str(element.payment_id or NO_ID) == NO_ID:
            errors = ["Xero refused it without saying why."]
        outcomes.append(
            PaymentOutcome(payment=None if errors else _payment(element), errors=errors)
        )
    return outcomes


def payments_pages(session: Session, *, modified_since: dt.datetime) -> Iterator[list[XeroPayment]]:
    """Every page of the payments changed since a moment.

    https://developer.xero.com/documentation/api/accounting/payments#get-payments
    """
    page = 1
    while True:
        options: dict[str, Any] = {
            "page": page,
            "page_size": PAGE_SIZE,
            "if_modified_since": _modified(modified_since),
        }

        def request(api: Any, tenant: str, _: str | None, o: dict[str, Any] = options) -> Any:
            return api.get_payments(tenant, **o)

        found = _accounting(session, request)
        payments = [_payment(element) for element in found.payments or []]
        yield payments
        if len(payments) < PAGE_SIZE:
            return
        page += 1
