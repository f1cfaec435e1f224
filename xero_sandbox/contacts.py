"""Contacts: queries, create/update rules and the Xero-side actions (archive, merge, GDPR).

Rules follow Xero's spec (tests/sandbox/openapi/xero_accounting.yaml): names unique among
ACTIVE contacts (its 400 examples for PUT and POST /Contacts), archived and GDPR contacts
hidden unless `includeArchived=true` (https://hacklines.com/en/editions/27965/click, Xero's
"GDPR and the Xero Contact API"), a merged contact is ARCHIVED with `MergedToContactID`.
POST /Contacts matches an element to an existing contact by ContactID, else by ContactNumber
(Xero's own page for its contacts batch save: "If any of the contact records do not exist
(based on either ContactID or ContactNumber) then it's created, otherwise it's updated",
http://blog.xero.com/developer/post-apixro10contacts/).
"""

import re
import uuid
from typing import Any

from xero_sandbox import org_settings, schema, wire
from xero_sandbox.common import (
    ZERO_GUID,
    Ctx,
    batch_answer,
    body_items,
    is_guid,
    query_list,
    text_error,
)
from xero_sandbox.web import Response
from xero_sandbox.where import compared_to

WRITABLE = {
    "ContactNumber",
    "AccountNumber",
    "Name",
    "FirstName",
    "LastName",
    "CompanyNumber",
    "EmailAddress",
    "ContactPersons",
    "BankAccountDetails",
    "TaxNumber",
    "TaxNumberType",
    "AccountsReceivableTaxType",
    "AccountsPayableTaxType",
    "Addresses",
    "Phones",
    "SalesDefaultLineAmountType",
    "PurchasesDefaultLineAmountType",
    "DefaultCurrency",
    "SalesDefaultAccountCode",
    "PurchasesDefaultAccountCode",
    "PaymentTerms",
    "Website",
    "Discount",
}
# The writable fields that are not text, and what each must be.
NESTED = {"Addresses": "Address", "Phones": "Phone", "ContactPersons": "ContactPerson"}
OBJECTS = ("PaymentTerms",)

NUMBERS = ("Discount",)
SUMMARY_FIELDS = (
    "ContactID",
    "ContactNumber",
    "AccountNumber",
    "ContactStatus",
    "Name",
    "FirstName",
    "LastName",
    "EmailAddress",
    "IsSupplier",
    "IsCustomer",
)
SEARCH_FIELDS = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
PERSONAL_FIELDS = ("FirstName", "LastName", "EmailAddress", "ContactPersons", "BankAccountDetails")
HIDDEN_STATUSES = {"ARCHIVED", "GDPRREQUEST"}
# The values the spec's enums allow (Address.AddressType, Phone.PhoneType); the SDK refuses
# to read anything else.
KINDS = {
    "Address": ("AddressType", {"POBOX", "STREET"}),
    "Phone": ("PhoneType", {"DEFAULT", "DDI", "MOBILE", "FAX", "OFFICE"}),
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

MSG_NAME_EMPTY = "Contact Name cannot be empty."
MSG_EMAIL = "Email address must be valid"
MSG_ACCOUNT_NUMBER = "The Account Number already exists. Please enter a different Account Number."
MSG_GDPR_EDIT = "[sandbox] This contact was redacted after a GDPR request and cannot be edited."
MSG_STATUS = "[sandbox] ContactStatus can only be set to ACTIVE or ARCHIVED through the API."
MSG_UNKNOWN_ID = "[sandbox] No contact with the specified ContactID exists."


def msg_number_taken(number: str) -> str:
    """PUT (create only) with a ContactNumber another contact holds: Xero's answer is
    unconfirmed in Xero's docs; the sandbox refuses rather than make a second holder."""
    return (
        f"[sandbox] The contact number {number} is already assigned to another contact. "
        "Update that contact (POST) or send another ContactNumber."
    )


def msg_duplicate(name: str) -> str:
    return (
        f"The contact name {name} is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    )


def msg_rename(old: str, new: str) -> str:
    return (
        f'The existing contact with name "{old}" cannot be updated to use new name "{new}". '
        "There is an existing contact with that name."
    )


# The index: active names and contact numbers, kept beside the state, never persisted ----


class ContactIndex:
    """Lookups that must stay fast with 10,000 contacts (uniqueness, numbers, search).

    ContactNumbers may repeat (Xero's rule is unconfirmed in Xero's docs; the sandbox's
    guess, noted in xero_sandbox/README.md), and so may the names of archived contacts, so
    those map to every holder: a number answers its earliest-created holder still there,
    however often the holders were updated since.
    """

    def __init__(self, contacts: dict[str, dict]):
        # Creation order: the organisation's table keeps each contact where it was first
        # stored (updates replace the value in place), and the state file keeps that order.
        self.created: dict[str, int] = {}
        self.active_names: dict[str, str] = {}
        self.archived_names: dict[str, dict[str, None]] = {}
        self.numbers: dict[str, dict[str, None]] = {}
        self.account_numbers: dict[str, str] = {}
        self.search: dict[str, str] = {}
        for contact in contacts.values():
            self.add(contact)

    def add(self, contact: dict) -> None:
        cid = contact["ContactID"]
        self.created.setdefault(cid, len(self.created))
        if contact["ContactStatus"] == "ACTIVE":
            self.active_names[contact["Name"].casefold()] = cid
        elif contact["ContactStatus"] == "ARCHIVED" and contact.get("Name"):
            self.archived_names.setdefault(contact["Name"].casefold(), {})[cid] = None
        if contact.get("ContactNumber"):
            self.numbers.setdefault(contact["ContactNumber"].casefold(), {})[cid] = None
        if contact.get("AccountNumber"):
            self.account_numbers[contact["AccountNumber"].casefold()] = cid
        self.search[cid] = "\x00".join(str(contact.get(f) or "") for f in SEARCH_FIELDS).casefold()

    def remove(self, contact: dict) -> None:
        cid = contact["ContactID"]
        for table, value in (
            (self.active_names, contact.get("Name")),
            (self.account_numbers, contact.get("AccountNumber")),
        ):
            if value and table.get(value.casefold()) == cid:
                del table[value.casefold()]
        for multi, value in (
            (self.numbers, contact.get("ContactNumber")),
            (self.archived_names, contact.get("Name")),
        ):
            holders = multi.get(value.casefold()) if value else None
            if holders is not None:
                holders.pop(cid, None)
                if not holders:
                    del multi[value.casefold()]
        self.search.pop(cid, None)

    def by_number(self, number: str) -> str | None:
        """The earliest-created contact that still has this ContactNumber."""
        holders = self.numbers.get(number.casefold())
        return min(holders, key=self.created.__getitem__) if holders else None

    def archived_by_name(self, name: str) -> str | None:
        """An ARCHIVED (or merged) contact with this name, if any."""
        return next(iter(self.archived_names.get(name.casefold(), ())), None)


_INDEXES: dict[int, tuple[dict, ContactIndex]] = {}


def index_for(org: dict) -> ContactIndex:
    """The index of an organisation's contacts, rebuilt if the state was replaced (reset)."""
    cached = _INDEXES.get(id(org))
    if cached is None or cached[0] is not org:
        cached = (org, ContactIndex(org["contacts"]))
        _INDEXES[id(org)] = cached
    return cached[1]


def save(org: dict, contact: dict, previous: dict | None) -> None:
    """Store a contact and keep the index in step; every contact change goes through here."""
    index = index_for(org)
    if previous is not None:
        index.remove(previous)
    org["contacts"][contact["ContactID"]] = contact
    index.add(contact)


def find(org: dict, key: str) -> dict | None:
    """A contact by ContactID, or by ContactNumber (`GET /Contacts/{ContactNumber}`)."""
    if is_guid(key):
        return org["contacts"].get(key.lower())
    cid = index_for(org).by_number(key)
    return org["contacts"].get(cid) if cid else None


# Rendering ---------------------------------------------------------------------------------


def _addresses(contact: dict) -> list[dict]:
    given = [a for a in contact.get("Addresses") or [] if isinstance(a, dict)]
    kinds = {a.get("AddressType") for a in given}
    return given + [{"AddressType": k} for k in ("STREET", "POBOX") if k not in kinds]


def _phones(contact: dict) -> list[dict]:
    given = [p for p in contact.get("Phones") or [] if isinstance(p, dict)]
    kinds = {p.get("PhoneType") for p in given}
    defaults = ("DEFAULT", "DDI", "FAX", "MOBILE")
    return given + [{"PhoneType": k} for k in defaults if k not in kinds]


def render(contact: dict, *, summary: bool = False, merged_to: bool = False) -> dict[str, Any]:
    """A contact as Xero returns it; `MergedToContactID` only on paged or single reads."""
    if summary:
        out = {k: contact[k] for k in SUMMARY_FIELDS if contact.get(k) is not None}
    else:
        out = {k: v for k, v in contact.items() if v is not None and k != "MergedToContactID"}
        out["Addresses"] = _addresses(contact)
        out["Phones"] = _phones(contact)
        out.setdefault("ContactPersons", [])
        out["ContactGroups"] = []
        out["HasAttachments"] = False
    out["HasValidationErrors"] = False
    out["UpdatedDateUTC"] = wire.ms_datetime(contact["UpdatedDateUTC"])
    if merged_to and contact.get("MergedToContactID"):
        out["MergedToContactID"] = contact["MergedToContactID"]
    return out


def _render_rejected(fields: dict) -> dict[str, Any]:
    """A failed element echoed back as the spec's 400 example shows it.

    What was sent (only the values of the right kind, so the SDK's strict reader copes),
    the zero GUID unless an existing contact was named, no groups or persons.
    """
    out: dict[str, Any] = {"ContactID": ZERO_GUID}
    if is_guid(fields.get("ContactID")):
        out["ContactID"] = fields["ContactID"]
    out.update(
        (k, v)
        for k, v in fields.items()
        if k in WRITABLE and v is not None and not _field_errors(k, v)
    )
    out["Addresses"] = _addresses(out)
    out["Phones"] = _phones(out)
    out["ContactGroups"] = []
    out["ContactPersons"] = []
    return out


# Reads -------------------------------------------------------------------------------------


def list_contacts(ctx: Ctx) -> Response:
    table = ctx.org["contacts"]
    ids = [i.strip().lower() for i in ctx.req.arg("IDs").split(",") if i.strip()]
    term = ctx.req.arg("searchTerm").strip().casefold()
    if ids:
        records = [table[i] for i in ids if i in table]
    elif term:
        # Scan the prepared search texts, not the contacts: this is the hot path of linking.
        search = index_for(ctx.org).search
        records = [table[cid] for cid, text in search.items() if term in text]
    else:
        records = list(table.values())
    if term and ids:
        search = index_for(ctx.org).search
        records = [c for c in records if term in search.get(c["ContactID"], "")]
    # Only ACTIVE contacts unless includeArchived=true, or a `where` that explicitly asks
    # for ARCHIVED or GDPRREQUEST ones (that `where` then filters by status itself).
    asks_hidden = compared_to(ctx.req.arg("where"), "ContactStatus") & HIDDEN_STATUSES
    if not ids and not ctx.req.flag("includeArchived") and not asks_hidden:
        records = [c for c in records if c["ContactStatus"] == "ACTIVE"]
    # Name, then ContactID: Xero does not document its default order; this one is stable
    # from page to page ([sandbox] guess, README).
    rows, pagination, error = query_list(
        ctx, records, type_name="Contact", default_order="Name ASC", tiebreak="ContactID"
    )
    if error:
        return error
    summary = ctx.req.flag("summaryOnly")
    paged = pagination is not None
    payload: dict[str, Any] = {}
    if paged:
        payload["pagination"] = pagination
    payload["Contacts"] = [render(c, summary=summary, merged_to=paged) for c in rows]
    return ctx.ok(**payload)


def get_contact(ctx: Ctx) -> Response:
    contact = find(ctx.org, ctx.req.params["key"])
    if contact is None:
        return Response.not_found()
    return ctx.ok(Contacts=[render(contact, merged_to=True)])


# Writes ------------------------------------------------------------------------------------


def put_contacts(ctx: Ctx) -> Response:
    """PUT /Contacts: create only; a ContactID in the body is ignored.

    Xero staff: https://github.com/XeroAPI/Xero-NetStandard/issues/226. An element whose
    ContactNumber another contact (of any status) already holds is refused ([sandbox]: what
    Xero does is unconfirmed; refusing keeps a client from assuming it made a new contact).
    """
    items, error = body_items(ctx, "Contacts", "Contact")
    if error:
        return error
    outcomes = [create(ctx, item) for item in items]
    return batch_answer(ctx, "Contacts", outcomes, "HasValidationErrors")


def post_contacts(ctx: Ctx) -> Response:
    """POST /Contacts: update or create each element.

    An element is the existing contact its ContactID names, else the one holding its
    ContactNumber (the holder `GET /Contacts/{ContactNumber}` answers, whatever its status:
    an ARCHIVED contact is updated and stays ARCHIVED unless the element sets ContactStatus),
    else a new contact. Elements are taken in order, so a later one with the number of a
    contact an earlier one created updates it.
    """
    items, error = body_items(ctx, "Contacts", "Contact")
    if error:
        return error
    outcomes = []
    for item in items:
        if item.get("ContactID"):
            outcomes.append(update(ctx, str(item["ContactID"]), item))
        elif holder := _number_holder(ctx.org, item):
            outcomes.append(update(ctx, holder, item))
        else:
            outcomes.append(create(ctx, item))
    return batch_answer(ctx, "Contacts", outcomes, "HasValidationErrors")


def _number_holder(org: dict, item: dict) -> str | None:
    """The ContactID of the contact holding the element's ContactNumber, if any."""
    number = item.get("ContactNumber")
    if not isinstance(number, str) or not number.strip():
        return None
    return index_for(org).by_number(number.strip())


def post_contact(ctx: Ctx) -> Response:
    """POST /Contacts/{ContactID}: update one contact."""
    contact = find(ctx.org, ctx.req.params["key"])
    if contact is None:
        return Response.not_found()
    items, error = body_items(ctx, "Contacts", "Contact")
    if error:
        return error
    outcome = update(ctx, contact["ContactID"], items[0])
    return batch_answer(ctx, "Contacts", [outcome], "HasValidationErrors")


def _fields(item: dict) -> dict[str, Any]:
    fields = {k: v for k, v in item.items() if k in WRITABLE}
    for key in ("Name", "FirstName", "LastName", "EmailAddress", "ContactNumber", "AccountNumber"):
        if isinstance(fields.get(key), str):
            fields[key] = fields[key].strip()
    return fields


def _field_errors(key: str, value: Any) -> list[str]:
    """Why one sent field cannot be stored: wrong kind of value, or text too long."""
    if value is None:
        return []
    if key in NESTED:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return [f"[sandbox] {key} must be a list of objects"]
        limits = schema.MAX_LENGTH.get(NESTED[key], {})
        found = [text_error(f, entry.get(f), n) for entry in value for f, n in limits.items()]
        kind_field, allowed = KINDS.get(NESTED[key], ("", set()))
        for entry in value:
            kind = entry.get(kind_field) if kind_field else None
            if kind is not None and (not isinstance(kind, str) or kind not in allowed):
                found.append(f"[sandbox] {kind_field} must be one of {', '.join(sorted(allowed))}")
        return [message for message in found if message]
    if key in OBJECTS:
        return [] if isinstance(value, dict) else [f"[sandbox] {key} must be an object"]
    if key in NUMBERS:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if number else [f"[sandbox] {key} must be a number"]
    message = text_error(key, value, schema.MAX_LENGTH["Contact"].get(key))
    return [message] if message else []


def _shape_errors(fields: dict) -> list[str]:
    """Every field of a write that cannot be stored as sent (checked before any rule)."""
    return [message for key, value in fields.items() for message in _field_errors(key, value)]


def _check(org: dict, contact: dict, previous: dict | None) -> list[str]:
    """The validation messages for a contact about to be stored."""
    errors = []
    index = index_for(org)
    name = contact.get("Name") or ""
    if not name:
        errors.append(MSG_NAME_EMPTY)
    elif contact["ContactStatus"] == "ACTIVE":
        holder = index.active_names.get(name.casefold())
        if holder and holder != contact["ContactID"]:
            renaming = previous and previous["Name"].casefold() != name.casefold()
            if renaming and previous["ContactStatus"] == "ACTIVE":
                errors.append(msg_rename(previous["Name"], name))
            else:
                errors.append(msg_duplicate(name))
    email = contact.get("EmailAddress")
    if email and not EMAIL.match(email):
        errors.append(MSG_EMAIL)
    currency = contact.get("DefaultCurrency")
    if currency and currency not in org_settings.currency_codes(org):
        errors.append(org_settings.msg_currency(currency))
    account_number = contact.get("AccountNumber")
    if account_number:
        holder = index.account_numbers.get(account_number.casefold())
        if holder and holder != contact["ContactID"]:
            errors.append(MSG_ACCOUNT_NUMBER)
    return errors


def create(ctx: Ctx, item: dict, *, commit: bool = True) -> tuple[dict, list[str]]:
    fields = _fields(item)
    shape_errors = _shape_errors(fields)
    if shape_errors:
        return _render_rejected(fields), shape_errors
    contact = {
        "ContactID": str(uuid.uuid4()),
        "ContactStatus": "ACTIVE",
        **fields,
        "IsSupplier": False,
        "IsCustomer": False,
        "UpdatedDateUTC": ctx.now,
    }
    errors = _check(ctx.org, contact, None)
    number = fields.get("ContactNumber")
    if number and index_for(ctx.org).by_number(number):
        errors.append(msg_number_taken(number))
    if errors:
        return _render_rejected(fields), errors
    if commit:
        save(ctx.org, contact, None)
        ctx.commit()
    return render(contact), []


def update(ctx: Ctx, contact_id: str, item: dict) -> tuple[dict, list[str]]:
    previous = ctx.org["contacts"].get(contact_id.lower())
    if previous is None:
        rejected = _render_rejected({**_fields(item), "ContactID": contact_id})
        return rejected, [MSG_UNKNOWN_ID]
    if previous["ContactStatus"] == "GDPRREQUEST":
        return render(previous), [MSG_GDPR_EDIT]
    shape_errors = _shape_errors(_fields(item))
    if shape_errors:
        return _render_rejected({**_fields(item), "ContactID": contact_id}), shape_errors
    contact = {**previous, **_fields(item), "UpdatedDateUTC": ctx.now}
    status = item.get("ContactStatus")
    if status:
        if status not in ("ACTIVE", "ARCHIVED"):
            return render(previous), [MSG_STATUS]
        contact["ContactStatus"] = status
        if status == "ACTIVE":
            contact.pop("MergedToContactID", None)
    errors = _check(ctx.org, contact, previous)
    if errors:
        return render(contact), errors
    save(ctx.org, contact, previous)
    ctx.commit()
    return render(contact), []


# Xero-side actions (web UI and control API) --------------------------------------------------


class ActionError(ValueError):
    """A Xero-side action that Xero itself would refuse (shown to the person or test)."""


def locate(state: dict, contact_id: str) -> tuple[dict, dict]:
    for org in state["orgs"].values():
        contact = org["contacts"].get(contact_id.lower())
        if contact:
            return org, contact
    raise ActionError(f"No contact {contact_id}")


def set_status(org: dict, contact: dict, status: str, now: float, **extra: Any) -> dict:
    updated = {**contact, "ContactStatus": status, "UpdatedDateUTC": now, **extra}
    save(org, updated, contact)
    return updated


def archive(state: dict, contact_id: str, now: float) -> dict:
    org, contact = locate(state, contact_id)
    if contact["ContactStatus"] == "GDPRREQUEST":
        raise ActionError("A contact under a GDPR request cannot be archived")
    return set_status(org, contact, "ARCHIVED", now)


def restore(state: dict, contact_id: str, now: float) -> dict:
    org, contact = locate(state, contact_id)
    if contact["ContactStatus"] == "GDPRREQUEST":
        raise ActionError("A contact under a GDPR request cannot be restored")
    holder = index_for(org).active_names.get(contact["Name"].casefold())
    if holder and holder != contact["ContactID"]:
        raise ActionError(msg_duplicate(contact["Name"]))
    restored = {k: v for k, v in contact.items() if k != "MergedToContactID"}
    return set_status(org, restored, "ACTIVE", now)


def merge(state: dict, contact_id: str, into: str, now: float) -> dict:
    """Merge `contact_id` into `into`: the source is archived and points at the survivor.

    Its transactions move to the survivor, as they do when merging in Xero's UI.
    """
    org, source = locate(state, contact_id)
    survivor = org["contacts"].get(into.lower())
    if survivor is None or survivor["ContactID"] == source["ContactID"]:
        raise ActionError("Merge needs another contact of the same organisation")
    if survivor["ContactStatus"] != "ACTIVE":
        raise ActionError("Contacts can only be merged into an active contact")
    for table in ("invoices", "credit_notes", "purchase_orders"):
        for document in org[table].values():
            if document["ContactID"] == source["ContactID"]:
                document["ContactID"] = survivor["ContactID"]
    return set_status(org, source, "ARCHIVED", now, MergedToContactID=survivor["ContactID"])


def gdpr(state: dict, contact_id: str, now: float) -> dict:
    """Mark a GDPR request: personal details are redacted; the name stays for bookkeeping."""
    org, contact = locate(state, contact_id)
    redacted = {k: v for k, v in contact.items() if k not in PERSONAL_FIELDS}
    redacted["Addresses"], redacted["Phones"] = [], []
    return set_status(org, redacted, "GDPRREQUEST", now)


def seed(org: dict, bodies: list[dict], now: float) -> tuple[list[dict], list[dict]]:
    """Bulk-create contacts for tests (no rate limits); returns (created, rejected)."""
    created, rejected = [], []
    for body in bodies:
        contact = {
            "ContactID": str(body.get("ContactID") or uuid.uuid4()).lower(),
            "ContactStatus": body.get("ContactStatus") or "ACTIVE",
            **_fields(body),
            "IsSupplier": bool(body.get("IsSupplier")),
            "IsCustomer": bool(body.get("IsCustomer")),
            "UpdatedDateUTC": now,
        }
        errors = _shape_errors(_fields(body)) or _check(org, contact, None)
        if errors:
            rejected.append({"Name": contact.get("Name"), "errors": errors})
            continue
        save(org, contact, None)
        created.append(contact)
    return created, rejected
