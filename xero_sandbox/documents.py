"""Invoices (ACCREC/ACCPAY), CreditNotes and PurchaseOrders: one engine, three kinds.

Rules follow https://developer.xero.com/documentation/api/invoices and the spec's examples
(tests/sandbox/openapi/xero_accounting.yaml): totals computed from the lines, ACCREC (and
ACCRECCREDIT, PO) numbers unique and generated when missing, ACCPAY numbers free; the
contact is found by ContactID, ContactNumber or Name (a new name creates a contact:
https://community.xero.com/developer/discussion/106550833) and must not be archived
(checked when a document is created or moved to another contact).
"""

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from xero_sandbox import common, contacts, org_settings, schema, wire
from xero_sandbox.common import Ctx, batch_answer, body_items, is_guid, query_list
from xero_sandbox.web import Response

CENT = Decimal("0.01")
# Unit amounts keep 2 decimal places unless the call asks for 4 with `unitdp=4`, both when
# written and when read: a unit amount stored with 4 comes back with 2 from a call without
# it, while LineAmount and the totals stay as stored ("All summary values such as Total,
# LineAmount etc will remain at two decimal places only",
# https://developer.xero.com/documentation/api-guides/rounding-in-xero).
UNIT_PLACES = {2: Decimal("0.01"), 4: Decimal("0.0001")}
# The largest figure a line may carry ([sandbox] bound: Xero's own is unconfirmed); beyond
# it amounts stop being money and floats turn into Infinity.
MAX_AMOUNT = Decimal("1e12")
MSG_NUMBERS = "[sandbox] Quantity, UnitAmount, LineAmount and DiscountRate must be numbers"
MSG_RANGE = (
    f"[sandbox] Quantity, UnitAmount, LineAmount and DiscountRate must be within ±{MAX_AMOUNT:,.0f}"
)
SALES_TYPES = {"ACCREC", "ACCRECCREDIT"}
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
FINAL_STATUSES = {"PAID", "VOIDED", "DELETED", "BILLED"}

MSG_ARCHIVED = (
    "The contact with the specified contact details has been archived. "
    "The contact must be un-archived before creating new invoices or credit notes."
)
MSG_NO_CONTACT = "A Contact must be specified for this type of transaction"
MSG_CONTACT_KEYS = (
    "The Contact must contain at least 1 of the following elements to identify the contact: "
    "Name, ContactID, ContactNumber"
)
# Xero's answer for a well-formed but unknown ContactID is unconfirmed in Xero's docs; the
# sandbox's guess, marked [sandbox] in xero_sandbox/README.md.
MSG_UNKNOWN_CONTACT = (
    "[sandbox placeholder] The contact with the specified ContactID was not found."
)
MSG_NO_LINES = "One or more line items must be specified"
# Xero's message as integrators report it (third-party sources, not Xero's own docs): a
# part-paid document is frozen.
MSG_PAYMENT_ALLOCATED = (
    "This document cannot be edited as it has a payment or credit note allocated to it."
)
CONTACT_KEYS = ("ContactNumber", "Name")  # with ContactID, what may identify a contact


@dataclass(frozen=True)
class Kind:
    key: str  # collection name in bodies and answers
    table: str  # table in the organisation's state
    entity: str  # singular, for the "no data" message
    id_field: str
    number_field: str
    types: tuple[str, ...]  # allowed Type values; empty when the document has no Type
    unique_types: tuple[str, ...]  # types whose numbers must be unique
    prefix: str  # generated numbers
    creatable: tuple[str, ...]
    statuses: tuple[str, ...]
    msg_duplicate: str
    msg_missing: str
    msg_status_create: str
    msg_status_modify: str
    date_fields: tuple[str, ...]


INVOICES = Kind(
    "Invoices",
    "invoices",
    "Invoice",
    "InvoiceID",
    "InvoiceNumber",
    ("ACCREC", "ACCPAY"),
    ("ACCREC",),
    "INV-",
    ("DRAFT", "SUBMITTED", "AUTHORISED"),
    ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED", "VOIDED"),
    "Invoice # must be unique.",
    "[sandbox] An existing Invoice with the specified InvoiceID could not be found",
    "Invoice not of valid status for creation",
    "Invoice not of valid status for modification",
    ("Date", "DueDate"),
)
CREDIT_NOTES = Kind(
    "CreditNotes",
    "credit_notes",
    "CreditNote",
    "CreditNoteID",
    "CreditNoteNumber",
    ("ACCRECCREDIT", "ACCPAYCREDIT"),
    ("ACCRECCREDIT",),
    "CN-",
    ("DRAFT", "SUBMITTED", "AUTHORISED"),
    ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED", "VOIDED"),
    "[sandbox] Credit Note # must be unique.",
    "An existing Credit Note with the specified CreditNoteID could not be found",
    "[sandbox] Credit note not of valid status for creation",
    "[sandbox] Credit note not of valid status for modification",
    ("Date", "DueDate"),
)
PURCHASE_ORDERS = Kind(
    "PurchaseOrders",
    "purchase_orders",
    "PurchaseOrder",
    "PurchaseOrderID",
    "PurchaseOrderNumber",
    (),
    ("PO",),
    "PO-",
    ("DRAFT", "SUBMITTED", "AUTHORISED"),
    ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED"),
    "Order number must be unique",
    "[sandbox] An existing Purchase Order with the specified PurchaseOrderID could not be found",
    "[sandbox] Purchase order not of valid status for creation",
    "[sandbox] Purchase order not of valid status for modification",
    ("Date", "DeliveryDate", "ExpectedArrivalDate"),
)
KINDS = {k.key.lower(): k for k in (INVOICES, CREDIT_NOTES, PURCHASE_ORDERS)}

TEXT_FIELDS = {
    "Reference",
    "Url",
    "BrandingThemeID",
    "DeliveryAddress",
    "AttentionTo",
    "Telephone",
    "DeliveryInstructions",
}


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _decimal(value: Any, default: str | None = None) -> Decimal | None:
    """A sent number (or numeric text) as a Decimal; None if it is not a finite number."""
    if value is None or value == "":
        return Decimal(default) if default is not None else None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _unit_places(ctx: Ctx) -> Decimal:
    """How many decimal places of a unit amount this call writes and reads."""
    return UNIT_PLACES[4 if ctx.req.arg("unitdp").strip() == "4" else 2]


def _doc_type(kind: Kind, doc: dict) -> str:
    return doc.get("Type") or "PO"


# Lines and totals ----------------------------------------------------------------------------


def _lines(ctx: Ctx, kind: Kind, doc: dict, raw_lines: list[Any]) -> tuple[list[dict], list[str]]:
    """Normalise line items and compute each line's amount and tax."""
    org = ctx.org
    accounts = {a["Code"]: a for a in org["accounts"]}
    rates = {t["TaxType"]: Decimal(str(t["EffectiveRate"])) / 100 for t in org["tax_rates"]}
    sales = _doc_type(kind, doc) in SALES_TYPES
    places = _unit_places(ctx)
    errors: list[str] = []
    lines = []
    for raw in raw_lines:
        if not isinstance(raw, dict):
            errors.append("[sandbox] Each line item must be an object")
            continue
        line_errors = _line_shape_errors(raw)
        if line_errors:
            errors.extend(line_errors)
            continue
        line, line_errors = _line(raw, accounts, rates, sales, doc["LineAmountTypes"], places)
        line["Tracking"], tracking_errors = org_settings.line_tracking(org, raw.get("Tracking"))
        errors.extend(line_errors + tracking_errors)
        lines.append(line)
    return lines, errors


def _line_shape_errors(raw: dict) -> list[str]:
    """A line's text fields that are not text, or too long (checked before any sum)."""
    limits = schema.MAX_LENGTH["LineItem"]
    found = (
        common.text_error(field, raw.get(field), limits.get(field))
        for field in ("Description", "AccountCode", "TaxType", "ItemCode", "LineItemID")
    )
    return [message for message in found if message]


def _line(
    raw: dict, accounts: dict, rates: dict, sales: bool, amount_types: str, places: Decimal
) -> tuple[dict, list[str]]:
    errors = []
    quantity = _decimal(raw.get("Quantity"), "1")
    unit = _decimal(raw.get("UnitAmount"))
    given_amount = _decimal(raw.get("LineAmount"))
    discount = _decimal(raw.get("DiscountRate"), "0")
    if (
        quantity is None
        or discount is None
        or (raw.get("UnitAmount") not in (None, "") and unit is None)
        or (raw.get("LineAmount") not in (None, "") and given_amount is None)
    ):
        errors.append(MSG_NUMBERS)
        quantity, unit, given_amount, discount = Decimal(1), Decimal(0), None, Decimal(0)
    given = (quantity, unit, given_amount, discount)
    if any(n is not None and abs(n) > MAX_AMOUNT for n in given):
        errors.append(MSG_RANGE)
        quantity, unit, given_amount = Decimal(1), Decimal(0), None
    if unit is None:
        # "If you wish to omit either the Quantity or UnitAmount you can provide a LineAmount
        # and Xero will calculate the missing amount" (the spec's LineItem.LineAmount).
        unit = (given_amount or Decimal(0)) / quantity if quantity else Decimal(0)
    # The line amount and the totals follow from the rounded unit amount, as Xero's do.
    unit = unit.quantize(places, rounding=ROUND_HALF_UP)
    amount = (quantity * unit * (1 - discount / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
    code = raw.get("AccountCode")
    account = accounts.get(code) if code else None
    if code and account is None:
        errors.append(
            f"Account code '{code}' has been removed as it does not match a recognised account."
        )
    elif account and account["Status"] != "ACTIVE":
        errors.append(
            f"Account code '{code}' has been archived, or has been deleted. "
            "Each line item must reference a valid account"
        )
    tax_type = (
        raw.get("TaxType") or (account or {}).get("TaxType") or ("OUTPUT2" if sales else "INPUT2")
    )
    if amount_types == "NoTax":
        tax_type = "NONE"
    rate = rates.get(tax_type)
    if rate is None:
        errors.append(f"[sandbox] The TaxType code '{tax_type}' does not exist.")
        rate = Decimal(0)
    tax = amount - amount / (1 + rate) if amount_types == "Inclusive" else amount * rate
    line: dict[str, Any] = {
        "LineItemID": str(raw.get("LineItemID") or uuid.uuid4()),
        "Description": raw.get("Description") or "",
        "Quantity": float(quantity),
        "UnitAmount": float(unit),
        "TaxType": tax_type,
        "TaxAmount": _money(tax),
        "LineAmount": _money(amount),
    }
    if code:
        line["AccountCode"] = code
    for optional in ("ItemCode", "DiscountRate"):
        if raw.get(optional) not in (None, ""):
            line[optional] = raw[optional]
    return line, errors


def _totals(doc: dict) -> None:
    amount = sum((Decimal(str(li["LineAmount"])) for li in doc["LineItems"]), Decimal(0))
    tax = sum((Decimal(str(li["TaxAmount"])) for li in doc["LineItems"]), Decimal(0))
    subtotal = amount - tax if doc["LineAmountTypes"] == "Inclusive" else amount
    doc["SubTotal"], doc["TotalTax"] = _money(subtotal), _money(tax)
    doc["Total"] = _money(subtotal + tax)


# Building and checking a document ------------------------------------------------------------


def _merge_fields(ctx: Ctx, kind: Kind, doc: dict, item: dict) -> list[str]:
    """Copy the writable fields of `item` onto `doc`; returns format errors."""
    errors = []
    limits = schema.MAX_LENGTH[kind.entity]
    texts = ["Type"] if kind.types else []
    texts += [*sorted(TEXT_FIELDS), kind.number_field, "Status", "CurrencyCode", "LineAmountTypes"]
    for field in texts:
        if item.get(field) is None:
            continue
        message = common.text_error(field, item[field], limits.get(field))
        if (
            not message
            and field == "CurrencyCode"
            and item[field] not in org_settings.currency_codes(ctx.org)
        ):
            message = org_settings.msg_currency(item[field])
        if message:
            errors.append(message)
        elif field != "LineAmountTypes" or item[field]:
            doc[field] = item[field]
    for field in kind.date_fields:
        if item.get(field) not in (None, ""):
            day = wire.parse_date(item[field])
            if day is None:
                errors.append(f"[sandbox] {field} is not a valid date")
            else:
                doc[field] = day
    if "SentToContact" in item:
        doc["SentToContact"] = bool(item["SentToContact"])
    if item.get("CurrencyRate") not in (None, ""):
        rate = _decimal(item["CurrencyRate"])
        if rate is None or rate <= 0 or rate > MAX_AMOUNT:
            errors.append("[sandbox] CurrencyRate must be a positive number")
        else:
            doc["CurrencyRate"] = float(rate)
    base = ctx.org["organisation"]["BaseCurrency"]
    if doc.get("CurrencyCode", base) == base:
        doc.pop("CurrencyRate", None)  # a document in the base currency has rate 1
    return errors


def _resolve_contact(ctx: Ctx, ref: Any) -> tuple[dict | None, str | None, list[str]]:
    """The contact named by an embedded `Contact` reference.

    By ContactID, ContactNumber or Name (the spec's examples); a Name no contact has creates
    one (https://community.xero.com/developer/discussion/106550833).

    Returns (existing contact, name of a contact to create, errors).
    """
    if not isinstance(ref, dict):
        return None, None, [MSG_NO_CONTACT]
    limits = schema.MAX_LENGTH["Contact"]
    found = (common.text_error(k, ref.get(k), limits.get(k)) for k in ("ContactID", *CONTACT_KEYS))
    if shape_errors := [message for message in found if message]:
        return None, None, shape_errors
    org = ctx.org
    if ref.get("ContactID"):
        contact = org["contacts"].get(str(ref["ContactID"]).lower())
        return (contact, None, []) if contact else (None, None, [MSG_UNKNOWN_CONTACT])
    if ref.get("ContactNumber"):
        contact = contacts.find(org, str(ref["ContactNumber"]))
        if contact:
            return contact, None, []
    name = (ref.get("Name") or "").strip()
    if name:
        index = contacts.index_for(org)
        cid = index.active_names.get(name.casefold())
        if cid:
            return org["contacts"][cid], None, []
        # No ACTIVE contact has the name but an archived (or merged) one does: answer
        # "has been archived" rather than create a twin ([sandbox] guess, README).
        archived = index.archived_by_name(name)
        return (org["contacts"][archived], None, []) if archived else (None, name, [])
    if ref.get("ContactNumber"):
        return None, None, [MSG_UNKNOWN_CONTACT]
    return None, None, [MSG_CONTACT_KEYS]


_NUMBER_INDEXES: dict[int, tuple[dict, dict[str, dict[tuple[str, str], str]]]] = {}


def _numbers(ctx: Ctx, kind: Kind) -> dict[tuple[str, str], str]:
    """(type, folded number) → ID for one table; rebuilt when the state was replaced."""
    cached = _NUMBER_INDEXES.get(id(ctx.org))
    if cached is None or cached[0] is not ctx.org:
        cached = (ctx.org, {})
        _NUMBER_INDEXES[id(ctx.org)] = cached
    tables = cached[1]
    if kind.table not in tables:
        tables[kind.table] = {
            (_doc_type(kind, d), (d.get(kind.number_field) or "").casefold()): d[kind.id_field]
            for d in ctx.org[kind.table].values()
            if d.get(kind.number_field)
        }
    return tables[kind.table]


def _number_taken(ctx: Ctx, kind: Kind, doc: dict) -> bool:
    number = doc.get(kind.number_field)
    doc_type = _doc_type(kind, doc)
    if not number or doc_type not in kind.unique_types:
        return False
    holder = _numbers(ctx, kind).get((doc_type, number.casefold()))
    return holder is not None and holder != doc[kind.id_field]


def _next_number(ctx: Ctx, kind: Kind, doc_type: str) -> str:
    numbers = _numbers(ctx, kind)
    sequences = ctx.org["sequences"]
    while True:
        sequences[kind.table] += 1
        candidate = f"{kind.prefix}{sequences[kind.table]:04d}"
        if (doc_type, candidate.casefold()) not in numbers:
            return candidate


def _store(ctx: Ctx, kind: Kind, doc: dict, previous: dict | None) -> None:
    """Keep a document and the number index in step."""
    numbers = _numbers(ctx, kind)
    if previous and previous.get(kind.number_field):
        key = (_doc_type(kind, previous), previous[kind.number_field].casefold())
        if numbers.get(key) == previous[kind.id_field]:
            del numbers[key]
    if doc.get(kind.number_field):
        numbers.setdefault(
            (_doc_type(kind, doc), doc[kind.number_field].casefold()), doc[kind.id_field]
        )
    ctx.org[kind.table][doc[kind.id_field]] = doc


def _check(
    ctx: Ctx, kind: Kind, doc: dict, item: dict, previous: dict | None
) -> tuple[dict | None, str | None, list[str]]:
    """Validate a document about to be stored; returns its contact and the errors."""
    errors: list[str] = []
    if kind.types and doc.get("Type") not in kind.types:
        errors.append(f"[sandbox] {kind.entity} Type must be one of {', '.join(kind.types)}")
    if previous is None and doc["Status"] not in kind.creatable:
        errors.append(kind.msg_status_create)
    elif previous is not None and (
        previous["Status"] in FINAL_STATUSES or doc["Status"] not in kind.statuses
    ):
        errors.append(kind.msg_status_modify)
    elif previous is not None and previous.get("AmountPaid"):
        errors.append(MSG_PAYMENT_ALLOCATED)
    if doc["LineAmountTypes"] not in LINE_AMOUNT_TYPES:
        errors.append("[sandbox] LineAmountTypes must be Exclusive, Inclusive or NoTax")
        doc["LineAmountTypes"] = "Exclusive"
    if "Contact" in item or previous is None:
        contact, new_name, contact_errors = _resolve_contact(ctx, item.get("Contact"))
    else:
        contact, new_name, contact_errors = ctx.org["contacts"].get(doc["ContactID"]), None, []
    errors.extend(contact_errors)
    # Only new documents, or a change of contact, need an active contact: a document of a
    # since-archived contact can still be edited (Xero's message is about "creating new
    # invoices or credit notes").
    changes_contact = previous is None or (contact and contact["ContactID"] != doc["ContactID"])
    if contact and contact["ContactStatus"] != "ACTIVE" and changes_contact:
        errors.append(MSG_ARCHIVED)
    raw_lines = item.get("LineItems") if "LineItems" in item else None
    if raw_lines is not None or previous is None:
        if not raw_lines:
            errors.append(MSG_NO_LINES)
        if raw_lines is not None and not isinstance(raw_lines, list):
            errors.append("[sandbox] LineItems must be a list")
            raw_lines = []
        doc["LineItems"], line_errors = _lines(ctx, kind, doc, raw_lines or [])
        errors.extend(line_errors)
    if _number_taken(ctx, kind, doc):
        errors.append(kind.msg_duplicate)
    return contact, new_name, errors


def write(ctx: Ctx, kind: Kind, item: dict, existing_id: str | None) -> tuple[dict, list[str]]:
    """Create (existing_id None) or update one document; commit only if it is valid."""
    previous = None
    if existing_id and not isinstance(existing_id, str):
        message = common.text_error(kind.id_field, existing_id, None) or kind.msg_missing
        return _render_rejected(ctx, kind, item, {}), [message]
    if existing_id:
        previous = ctx.org[kind.table].get(existing_id.lower())
        if previous is None:
            return _render_rejected(ctx, kind, item, {}), [kind.msg_missing]
    doc = dict(previous) if previous else _blank(ctx, kind)
    errors = _merge_fields(ctx, kind, doc, item)
    contact, new_name, check_errors = _check(ctx, kind, doc, item, previous)
    errors.extend(check_errors)
    if errors:
        return _render_rejected(ctx, kind, item, doc, contact), errors
    if new_name:
        created, _ = contacts.create(ctx, {"Name": new_name})
        contact = ctx.org["contacts"][created["ContactID"]]
    doc["ContactID"] = contact["ContactID"]
    if not doc.get(kind.number_field) and _doc_type(kind, doc) in kind.unique_types:
        doc[kind.number_field] = _next_number(ctx, kind, _doc_type(kind, doc))
    _totals(doc)
    doc["UpdatedDateUTC"] = ctx.now
    _store(ctx, kind, doc, previous)
    _mark_contact_role(ctx, kind, doc, contact)
    ctx.commit()
    return render(ctx, kind, doc, with_lines=True, full_contact=True), []


def _blank(ctx: Ctx, kind: Kind) -> dict:
    doc = {
        kind.id_field: str(uuid.uuid4()),
        "Status": "DRAFT",
        "Date": wire.today(ctx.now),
        "LineAmountTypes": "Exclusive",
        "CurrencyCode": "NZD",
        "LineItems": [],
    }
    return doc


def _mark_contact_role(ctx: Ctx, kind: Kind, doc: dict, contact: dict) -> None:
    """IsCustomer/IsSupplier follow the documents; they do not bump UpdatedDateUTC."""
    doc_type = _doc_type(kind, doc)
    flag = "IsCustomer" if doc_type in SALES_TYPES else "IsSupplier"
    if doc_type != "PO" and not contact.get(flag):
        contact[flag] = True


# Rendering -----------------------------------------------------------------------------------


def _contact_summary(contact: dict) -> dict:
    out = {
        "ContactID": contact["ContactID"],
        "Name": contact["Name"],
        "ContactStatus": contact["ContactStatus"],
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }
    if contact.get("ContactNumber"):
        out["ContactNumber"] = contact["ContactNumber"]
    return out


def render(
    ctx: Ctx,
    kind: Kind,
    doc: dict,
    *,
    with_lines: bool,
    summary: bool = False,
    full_contact: bool = False,
) -> dict:
    """A stored document as Xero returns it: `/Date()/` dates, totals, embedded contact.

    Write answers embed the whole contact, as the spec's 200 examples of PUT /Invoices,
    /CreditNotes and /PurchaseOrders do; reads embed a summary of it.
    """
    contact = ctx.org["contacts"].get(doc["ContactID"])
    if contact is None:
        embedded = {"ContactID": doc["ContactID"], "Name": "", "ContactStatus": "ACTIVE"}
    elif full_contact:
        embedded = contacts.render(contact)
    else:
        embedded = _contact_summary(contact)
    places = _unit_places(ctx)
    shown = {**doc, "LineItems": [_shown_line(line, places) for line in doc["LineItems"]]}
    return _document(kind, shown, embedded, with_lines=with_lines and not summary)


def _shown_line(line: dict, places: Decimal) -> dict:
    """A stored line as this call reads it: its unit amount to the call's decimal places."""
    unit = Decimal(str(line["UnitAmount"])).quantize(places, rounding=ROUND_HALF_UP)
    return {**line, "UnitAmount": float(unit)}


def _document(kind: Kind, doc: dict, embedded: dict, *, with_lines: bool) -> dict[str, Any]:
    """The keys of a document in the order and with the defaults of the spec's examples."""
    out: dict[str, Any] = {}
    if kind.types and doc.get("Type") in kind.types:
        out["Type"] = doc["Type"]
    out[kind.id_field] = doc[kind.id_field]
    out[kind.number_field] = doc.get(kind.number_field) or ""
    out["Reference"] = doc.get("Reference") or ""
    out["Contact"] = embedded
    for field in kind.date_fields:
        if doc.get(field):
            out[field] = wire.ms_date(doc[field])
            out[f"{field}String"] = wire.date_string(doc[field])
    if doc.get("Status") in (*kind.statuses, "PAID"):
        out["Status"] = doc["Status"]
    out.update(
        LineAmountTypes=doc["LineAmountTypes"],
        SubTotal=doc["SubTotal"],
        TotalTax=doc["TotalTax"],
        Total=doc["Total"],
    )
    if kind is not CREDIT_NOTES:
        out["TotalDiscount"] = 0.0
    if doc.get("UpdatedDateUTC") is not None:
        out["UpdatedDateUTC"] = wire.ms_datetime(doc["UpdatedDateUTC"])
        if kind is not PURCHASE_ORDERS:
            out["UpdatedDateUTCString"] = wire.timestamp_string(doc["UpdatedDateUTC"])
    out.update(
        CurrencyCode=doc.get("CurrencyCode") or "NZD",
        # [sandbox] without a rate sent, Xero takes its day rate (XE.com); the sandbox has
        # none and shows 1.
        CurrencyRate=doc.get("CurrencyRate") or 1.0,
        SentToContact=bool(doc.get("SentToContact")),
        HasAttachments=False,
    )
    for field in TEXT_FIELDS - {"Reference"}:
        if doc.get(field):
            out[field] = doc[field]
    if with_lines:
        out["LineItems"] = doc["LineItems"]
    if kind is not PURCHASE_ORDERS:
        paid = Decimal(str(doc.get("AmountPaid") or 0))
        # Nothing is owed on a paid, voided or deleted document; else its total less payments.
        open_amount = (
            0.0
            if doc.get("Status") in FINAL_STATUSES
            else _money(Decimal(str(doc["Total"])) - paid)
        )
        payments = [{"PaymentID": p} for p in doc.get("PaymentIDs", [])]
        out.update(HasErrors=False, Payments=payments)
        if kind is INVOICES:
            if doc.get("FullyPaidOnDate"):
                out["FullyPaidOnDate"] = wire.ms_date(doc["FullyPaidOnDate"])
            out.update(
                AmountPaid=_money(paid),
                AmountDue=open_amount,
                AmountCredited=0.0,
                IsDiscounted=False,
                CreditNotes=[],
                Prepayments=[],
                Overpayments=[],
            )
        else:
            out.update(RemainingCredit=open_amount, Allocations=[])
    return out


def _render_rejected(
    ctx: Ctx, kind: Kind, item: dict, doc: dict, contact: dict | None = None
) -> dict:
    """A failed element, echoed whole as far as it could be read (the spec's 400 examples).

    A new document carries the zero GUID as its ID; its amounts are worked out from the
    lines that could be read; its contact is the one it named, or the reference as sent.
    """
    draft = {"LineItems": [], "LineAmountTypes": "Exclusive", **doc}
    if draft.get("LineAmountTypes") not in LINE_AMOUNT_TYPES:
        draft["LineAmountTypes"] = "Exclusive"
    given_id = item.get(kind.id_field)
    draft[kind.id_field] = given_id if is_guid(given_id) and not doc else common.ZERO_GUID
    if doc.get("UpdatedDateUTC") is not None:  # an existing document: its own ID
        draft[kind.id_field] = doc[kind.id_field]
    draft.pop("UpdatedDateUTC", None)
    _totals(draft)
    if contact is not None:
        embedded = contacts.render(contact)
    else:
        ref = item.get("Contact") if isinstance(item.get("Contact"), dict) else {}
        embedded = {"ContactID": common.ZERO_GUID}
        embedded.update((k, ref[k]) for k in CONTACT_KEYS if isinstance(ref.get(k), str))
        if is_guid(ref.get("ContactID")):
            embedded["ContactID"] = ref["ContactID"]
        embedded.update(Addresses=[], Phones=[], ContactGroups=[], ContactPersons=[])
    return _document(kind, draft, embedded, with_lines=True)


# Endpoints -----------------------------------------------------------------------------------


def kind_of(ctx: Ctx) -> Kind:
    """The kind a request is about, from its path (`/api.xro/2.0/Invoices/…`)."""
    return KINDS[ctx.req.path.split("/")[3].lower()]


def put_documents(ctx: Ctx) -> Response:
    """PUT: create only."""
    kind = kind_of(ctx)
    items, error = body_items(ctx, kind.key, kind.entity)
    if error:
        return error
    outcomes = [write(ctx, kind, item, None) for item in items]
    return batch_answer(ctx, kind.key, outcomes, "HasErrors")


def post_documents(ctx: Ctx) -> Response:
    """POST: update the elements that carry an ID, create the rest."""
    kind = kind_of(ctx)
    items, error = body_items(ctx, kind.key, kind.entity)
    if error:
        return error
    outcomes = [write(ctx, kind, item, item.get(kind.id_field) or None) for item in items]
    return batch_answer(ctx, kind.key, outcomes, "HasErrors")


def post_document(ctx: Ctx) -> Response:
    kind = kind_of(ctx)
    doc = _find(ctx, kind, ctx.req.params["key"])
    if doc is None:
        return Response.not_found()
    items, error = body_items(ctx, kind.key, kind.entity)
    if error:
        return error
    outcome = write(ctx, kind, items[0], doc[kind.id_field])
    return batch_answer(ctx, kind.key, [outcome], "HasErrors")


def _find(ctx: Ctx, kind: Kind, key: str) -> dict | None:
    table = ctx.org[kind.table]
    if is_guid(key):
        return table.get(key.lower())
    folded = key.casefold()
    return next(
        (d for d in table.values() if (d.get(kind.number_field) or "").casefold() == folded), None
    )


def get_document(ctx: Ctx) -> Response:
    kind = kind_of(ctx)
    doc = _find(ctx, kind, ctx.req.params["key"])
    if doc is None:
        return Response.not_found()
    return ctx.ok(**{kind.key: [render(ctx, kind, doc, with_lines=True)]})


def _view(ctx: Ctx, doc: dict) -> dict:
    """What `where` and `order` see: the document with its contact embedded."""
    contact = ctx.org["contacts"].get(doc["ContactID"], {})
    summary = {k: contact.get(k) for k in ("ContactID", "Name", "ContactNumber")}
    return {**doc, "Contact": summary}


def _filters(ctx: Ctx, kind: Kind) -> list[dict]:
    docs = list(ctx.org[kind.table].values())
    arg = ctx.req.arg

    def csv(name: str) -> set[str]:
        return {v.strip().casefold() for v in arg(name).split(",") if v.strip()}

    if ids := csv("IDs"):
        docs = [d for d in docs if d[kind.id_field].casefold() in ids]
    if numbers := csv("InvoiceNumbers"):
        docs = [d for d in docs if (d.get(kind.number_field) or "").casefold() in numbers]
    if contact_ids := csv("ContactIDs"):
        docs = [d for d in docs if d["ContactID"].casefold() in contact_ids]
    if statuses := csv("Statuses") | csv("Status"):
        docs = [d for d in docs if d["Status"].casefold() in statuses]
    if date_from := wire.parse_date(arg("DateFrom")):
        docs = [d for d in docs if d["Date"] >= date_from]
    if date_to := wire.parse_date(arg("DateTo")):
        docs = [d for d in docs if d["Date"] <= date_to]
    if term := arg("searchTerm").strip().casefold():
        docs = [
            d
            for d in docs
            if term in (d.get(kind.number_field) or "").casefold()
            or term in (d.get("Reference") or "").casefold()
        ]
    return docs


def list_documents(ctx: Ctx) -> Response:
    """GET a list. Without `page`, invoices come without line items.

    https://developer.xero.com/documentation/api/invoices
    """
    kind = kind_of(ctx)
    rows, pagination, error = query_list(
        ctx, _filters(ctx, kind), type_name=kind.entity, view=lambda d: _view(ctx, d)
    )
    if error:
        return error
    with_lines = pagination is not None or kind is not INVOICES
    summary = ctx.req.flag("summaryOnly")
    payload: dict[str, Any] = {}
    if pagination is not None:
        payload["pagination"] = pagination
    payload[kind.key] = [render(ctx, kind, d, with_lines=with_lines, summary=summary) for d in rows]
    return ctx.ok(**payload)
