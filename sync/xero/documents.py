"""The Accounting API calls for documents (invoices, bills, credit notes, purchase orders) and
for the settings they depend on (the chart of accounts, the tax rates).

https://developer.xero.com/documentation/api/accounting/invoices
https://developer.xero.com/documentation/api/accounting/creditnotes
https://developer.xero.com/documentation/api/accounting/purchaseorders
"""

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from xero_python.accounting import Account as SdkAccount
from xero_python.accounting import Contact as SdkContact
from xero_python.accounting import CreditNote as SdkCreditNote
from xero_python.accounting import CreditNotes as SdkCreditNotes
from xero_python.accounting import CurrencyCode, LineAmountTypes
from xero_python.accounting import Invoice as SdkInvoice
from xero_python.accounting import Invoices as SdkInvoices
from xero_python.accounting import LineItem as SdkLineItem
from xero_python.accounting import LineItemTracking as SdkLineItemTracking
from xero_python.accounting import PurchaseOrder as SdkPurchaseOrder
from xero_python.accounting import PurchaseOrders as SdkPurchaseOrders

from .accounting import _accounting
from .data import (
    DocumentKind,
    DocumentOutcome,
    DocumentUpload,
    XeroAccount,
    XeroCurrency,
    XeroDocument,
    XeroTaxRate,
    XeroTrackingCategory,
    XeroTrackingOption,
)
from .text import from_xero, storable
from .transport import Session

# Omni prices carry up to 4 decimal places; without unitdp=4 Xero rounds unit amounts to 2.
UNIT_DP = 4
PAGE_SIZE = 100


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal("0")


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def _modified(moment: datetime) -> datetime:
    # Xero documents whole seconds; its filter includes the mark.
    return moment.astimezone(UTC).replace(microsecond=0)


# --- From the SDK's models to ours -------------------------------------------------------------


def _document(kind: DocumentKind, element: Any) -> XeroDocument:
    if kind == DocumentKind.INVOICE:
        document_id, number, doc_type = element.invoice_id, element.invoice_number, element.type
        amount_due, amount_paid = element.amount_due, element.amount_paid
    elif kind == DocumentKind.CREDIT_NOTE:
        document_id, number, doc_type = (
            element.credit_note_id,
            element.credit_note_number,
            (element.type),
        )
        amount_due, amount_paid = element.remaining_credit, element.applied_amount
    else:
        document_id, number, doc_type = (
            element.purchase_order_id,
            (element.purchase_order_number),
            "PO",
        )
        amount_due, amount_paid = None, None
    contact = element.contact
    return from_xero(
        XeroDocument(
            kind=kind,
            document_id=uuid.UUID(str(document_id)),
            type=_enum(doc_type),
            number=number or "",
            reference=element.reference or "",
            status=_enum(element.status),
            contact_id=uuid.UUID(str(contact.contact_id))
            if contact and contact.contact_id
            else None,
            total=_decimal(element.total),
            amount_due=_decimal(amount_due),
            amount_paid=_decimal(amount_paid),
            updated_in_xero=element.updated_date_utc,
            due_date=getattr(element, "due_date", None),
            currency=_enum(getattr(element, "currency_code", None)),
        )
    )


def _failed(element: Any) -> list[str]:
    errors = [storable(e.message or "") for e in element.validation_errors or []]
    if (
        errors
        or getattr(element, "has_errors", False)
        or (_enum(getattr(element, "status_attribute_string", "")) == "ERROR")
    ):
        return errors or ["Xero refused it without saying why."]
    return []


# --- From ours to the SDK's --------------------------------------------------------------------


def _lines(upload: DocumentUpload) -> list[SdkLineItem]:
    return [
        SdkLineItem(
            description=line.description,
            quantity=float(line.quantity),
            unit_amount=float(line.unit_amount),
            account_code=line.account_code,
            tax_type=line.tax_type,
            tracking=[SdkLineItemTracking(name=t.category, option=t.option) for t in line.tracking]
            or None,
        )
        for line in upload.lines
    ]


def _sdk_document(upload: DocumentUpload) -> Any:
    common: dict[str, Any] = {
        "contact": SdkContact(contact_id=str(upload.contact_id)),
        "line_items": _lines(upload),
        "date": upload.date,
        "line_amount_types": LineAmountTypes(upload.line_amount_types),
        "currency_code": CurrencyCode(upload.currency),
        "status": upload.status,
    }
    if upload.reference:
        common["reference"] = upload.reference
    if upload.currency_rate is not None:
        common["currency_rate"] = float(upload.currency_rate)
    existing = str(upload.document_id) if upload.document_id else None
    if upload.kind == DocumentKind.INVOICE:
        return SdkInvoice(
            type=upload.type,
            invoice_number=upload.number,
            due_date=upload.due_date,
            invoice_id=existing,
            **common,
        )
    if upload.kind == DocumentKind.CREDIT_NOTE:
        return SdkCreditNote(
            type=upload.type, credit_note_number=upload.number, credit_note_id=existing, **common
        )
    return SdkPurchaseOrder(
        purchase_order_number=upload.number,
        delivery_date=upload.due_date,
        purchase_order_id=existing,
        **common,
    )


def _save_request(
    kind: DocumentKind, body: list[Any]
) -> Callable[[Any, str, str | None], list[Any]]:
    """The SDK call that POSTs the documents (creating those without an ID), per element."""

    def request(api: Any, tenant: str, key: str | None) -> list[Any]:
        if kind == DocumentKind.INVOICE:
            found = api.update_or_create_invoices(
                tenant,
                SdkInvoices(invoices=body),
                summarize_errors=False,
                unitdp=UNIT_DP,
                idempotency_key=key,
            )
            return list(found.invoices or [])
        if kind == DocumentKind.CREDIT_NOTE:
            found = api.update_or_create_credit_notes(
                tenant,
                SdkCreditNotes(credit_notes=body),
                summarize_errors=False,
                unitdp=UNIT_DP,
                idempotency_key=key,
            )
            return list(found.credit_notes or [])
        found = api.update_or_create_purchase_orders(
            tenant,
            SdkPurchaseOrders(purchase_orders=body),
            summarize_errors=False,
            idempotency_key=key,
        )
        return list(found.purchase_orders or [])

    return request


def documents_save(
    session: Session,
    *,
    kind: DocumentKind,
    documents: Sequence[DocumentUpload],
    idempotency_key: str,
) -> list[DocumentOutcome]:
    """Create (or, with their ID, update) documents of one kind in one POST, each element
    answered on its own (`summarizeErrors=false`). Every retry, and any later call with the
    same key, gets Xero's first answer instead of writing again.

    https://developer.xero.com/documentation/api/accounting/invoices#post-invoices
    """
    body = [_sdk_document(d) for d in documents]
    elements = _accounting(
        session,
        _save_request(kind, body),
        write=True,
        idempotency_key=idempotency_key,
    )
    outcomes = []
    for element in elements:
        errors = _failed(element)
        outcomes.append(
            DocumentOutcome(document=None if errors else _document(kind, element), errors=errors)
        )
    return outcomes


def _page(
    session: Session,
    kind: DocumentKind,
    *,
    page: int,
    modified_since: datetime | None = None,
    numbers: Sequence[str] = (),
) -> list[XeroDocument]:
    options: dict[str, Any] = {"page": page}
    if modified_since is not None:
        options["if_modified_since"] = _modified(modified_since)
    if kind == DocumentKind.INVOICE:
        if numbers:
            options["invoice_numbers"] = list(numbers)
        options["page_size"] = PAGE_SIZE
        found = _accounting(
            session, lambda api, tenant, _: api.get_invoices(tenant, **options)
        ).invoices
    elif kind == DocumentKind.CREDIT_NOTE:
        if numbers:
            options["where"] = " OR ".join(
                f'CreditNoteNumber=="{n.replace(chr(34), "")}"' for n in numbers
            )
        options["page_size"] = PAGE_SIZE
        found = _accounting(
            session, lambda api, tenant, _: api.get_credit_notes(tenant, **options)
        ).credit_notes
    else:
        options["page_size"] = PAGE_SIZE
        found = _accounting(
            session, lambda api, tenant, _: api.get_purchase_orders(tenant, **options)
        ).purchase_orders
    return [_document(kind, element) for element in found or []]


def documents_pages(
    session: Session,
    *,
    kind: DocumentKind,
    modified_since: datetime | None = None,
    numbers: Sequence[str] = (),
) -> Iterator[list[XeroDocument]]:
    """Every page of documents of a kind changed since a moment, or with these numbers
    (purchase orders cannot be asked for by number in bulk: give them a moment instead).

    https://developer.xero.com/documentation/api/accounting/invoices#get-invoices
    """
    page = 1
    while True:
        found = _page(session, kind, page=page, modified_since=modified_since, numbers=numbers)
        yield found
        if len(found) < PAGE_SIZE:
            return
        page += 1


# Documents asked for by ID in one call. Invoices take an `IDs` list, as contacts do (each
# ID 37 characters of the URL with its comma; about 52 fit before Xero's gateway answers
# 404). Credit notes have no `IDs` parameter (neither in Xero's spec nor in the SDK), only
# `where`, where each ID costs `CreditNoteID==Guid("…") OR ` (about 75 characters
# URL-encoded): half as many fit.
DOCUMENT_IDS_PER_CALL = {DocumentKind.INVOICE: 50, DocumentKind.CREDIT_NOTE: 25}


def documents_by_ids(
    session: Session, *, kind: DocumentKind, document_ids: Sequence[uuid.UUID]
) -> list[XeroDocument]:
    """The invoices (or credit notes) with these IDs, in one call (at most
    DOCUMENT_IDS_PER_CALL[kind] of them: the caller splits a longer list). A document Xero
    does not return (deleted, or not this organisation's) is simply missing.

    https://developer.xero.com/documentation/api/accounting/invoices#get-invoices ("IDs":
    a comma-separated list of InvoiceIDs);
    https://developer.xero.com/documentation/api/accounting/creditnotes#get-creditnotes
    (filtered with `where`)
    """
    most = DOCUMENT_IDS_PER_CALL.get(kind)
    if most is None:
        raise ValueError(f"{kind} cannot be asked for by ID in bulk.")
    if len(document_ids) > most:
        raise ValueError(f"At most {most} {kind} IDs a call.")
    if not document_ids:
        return []
    ids = [str(document_id) for document_id in document_ids]
    # Paged, so that page 1 holds all of them whatever Xero's unpaged default is.
    options: dict[str, Any] = {"page": 1, "page_size": most}
    if kind == DocumentKind.INVOICE:
        found = _accounting(
            session, lambda api, tenant, _: api.get_invoices(tenant, i_ds=ids, **options)
        ).invoices
    else:
        where = " OR ".join(f'CreditNoteID==Guid("{i}")' for i in ids)
        found = _accounting(
            session, lambda api, tenant, _: api.get_credit_notes(tenant, where=where, **options)
        ).credit_notes
    return [_document(kind, element) for element in found or []]


def accounts_list(session: Session) -> list[XeroAccount]:
    """The organisation's chart of accounts, archived accounts included.

    https://developer.xero.com/documentation/api/accounting/accounts
    """
    found = _accounting(session, lambda api, tenant, _: api.get_accounts(tenant)).accounts
    return [_account(a) for a in found or []]


def _account(account: SdkAccount) -> XeroAccount:
    return from_xero(
        XeroAccount(
            account_id=uuid.UUID(str(account.account_id)),
            code=account.code or "",
            name=account.name or "",
            type=_enum(account.type),
            status=_enum(account.status) or "ACTIVE",
            tax_type=account.tax_type or "",
            enable_payments=bool(account.enable_payments_to_account),
        )
    )


def tax_rates_list(session: Session) -> list[XeroTaxRate]:
    """The organisation's tax rates, deleted and archived ones included.

    https://developer.xero.com/documentation/api/accounting/taxrates
    """
    found = _accounting(session, lambda api, tenant, _: api.get_tax_rates(tenant)).tax_rates
    return [
        from_xero(
            XeroTaxRate(
                tax_type=rate.tax_type or "",
                name=rate.name or "",
                status=_enum(rate.status) or "ACTIVE",
                rate=_decimal(rate.effective_rate),
                can_apply_to_revenue=rate.can_apply_to_revenue,
                can_apply_to_expenses=rate.can_apply_to_expenses,
            )
        )
        for rate in found or []
    ]


def currencies_list(session: Session) -> list[XeroCurrency]:
    """The currencies the organisation uses (its base currency among them); Xero takes no
    If-Modified-Since here, and the list is short.

    https://developer.xero.com/documentation/api/accounting/currencies
    """
    found = _accounting(session, lambda api, tenant, _: api.get_currencies(tenant)).currencies
    return [
        from_xero(XeroCurrency(code=_enum(c.code), description=c.description or ""))
        for c in found or []
    ]


def tracking_categories_list(session: Session) -> list[XeroTrackingCategory]:
    """The organisation's tracking categories and their options, archived ones included
    (Xero takes no If-Modified-Since here; deleted ones are not returned).

    https://developer.xero.com/documentation/api/accounting/trackingcategories
    """
    found = _accounting(
        session, lambda api, tenant, _: api.get_tracking_categories(tenant, include_archived=True)
    ).tracking_categories
    return [
        from_xero(
            XeroTrackingCategory(
                category_id=uuid.UUID(str(c.tracking_category_id)),
                name=c.name or "",
                status=_enum(c.status) or "ACTIVE",
                options=tuple(
                    from_xero(
                        XeroTrackingOption(
                            option_id=uuid.UUID(str(o.tracking_option_id)),
                            name=o.name or "",
                            status=_enum(o.status) or "ACTIVE",
                        )
                    )
                    for o in c.options or []
                ),
            )
        )
        for c in found or []
    ]
