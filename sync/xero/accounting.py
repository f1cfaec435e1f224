"""The Accounting API calls omni-xero makes, one small function each.

https://developer.xero.com/documentation/api/accounting/overview
"""

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from xero_python.accounting import AccountingApi
from xero_python.accounting import Address as SdkAddress
from xero_python.accounting import Contact as SdkContact
from xero_python.accounting import Contacts as SdkContacts
from xero_python.accounting import Phone as SdkPhone

from .data import (
    SDK_CONTACT_ATTRIBUTES,
    Address,
    ContactDetails,
    ContactsPage,
    ContactUpload,
    Organisation,
    SaveOutcome,
    XeroContactData,
)
from .errors import NotFound
from .text import from_xero, storable
from .transport import Session, _ApiClient, call


def _accounting[T](
    session: Session,
    request: Callable[[AccountingApi, str, str | None], T],
    *,
    write: bool = False,
    idempotency_key: str | None = None,
) -> T:
    """call() with the Accounting API and the session's tenant."""

    def run(client: _ApiClient, key: str | None) -> T:
        api = AccountingApi(client, base_url=settings.XERO_API_URL + "/api.xro/2.0")
        return request(api, session.tenant_id, key)

    return call(session, run, write=write, idempotency_key=idempotency_key)


def organisation_get(session: Session) -> Organisation:
    """The organisation the session's token is for, as Xero has it now.

    https://developer.xero.com/documentation/api/accounting/organisation
    """
    found = _accounting(session, lambda api, tenant, _: api.get_organisations(tenant))
    organisation = found.organisations[0]
    return from_xero(
        Organisation(
            organisation_id=uuid.UUID(str(organisation.organisation_id)),
            name=organisation.name or "",
            base_currency=str(getattr(organisation.base_currency, "value", "") or ""),
        )
    )


def _contact_data(contact: SdkContact) -> XeroContactData:
    status = contact.contact_status
    merged_into = contact.merged_to_contact_id
    return from_xero(
        XeroContactData(
            **{ours: getattr(contact, sdk) or "" for ours, sdk in SDK_CONTACT_ATTRIBUTES.items()},
            contact_id=uuid.UUID(str(contact.contact_id)),
            status=getattr(status, "value", status) or "ACTIVE",
            merged_into_xero_contact_id=uuid.UUID(str(merged_into)) if merged_into else None,
            is_customer=bool(contact.is_customer),
            is_supplier=bool(contact.is_supplier),
            updated_in_xero=contact.updated_date_utc,
        )
    )


def _sdk_contact(details: ContactDetails) -> SdkContact:
    # Empty fields are left out (None), not sent as "": Xero would blank them.
    return SdkContact(
        **{
            SDK_CONTACT_ATTRIBUTES[f.name]: getattr(details, f.name) or None
            for f in fields(ContactDetails)
        }
    )


def contacts_page(
    session: Session,
    *,
    page: int,
    page_size: int = 1000,
    modified_since: datetime | None = None,
) -> ContactsPage:
    """One page of contacts, archived ones included.

    https://developer.xero.com/documentation/api/accounting/contacts#get-contacts
    """
    # The SDK sends every argument it is given, None included: pass only what is set.
    options: dict[str, Any] = {"page": page, "page_size": page_size, "include_archived": True}
    if modified_since is not None:
        # Xero documents whole seconds (yyyy-mm-ddThh:mm:ss); its filter includes the mark.
        options["if_modified_since"] = modified_since.astimezone(UTC).replace(microsecond=0)
    result = _accounting(session, lambda api, tenant, _: api.get_contacts(tenant, **options))
    pagination = getattr(result, "pagination", None)
    return ContactsPage(
        contacts=[_contact_data(c) for c in result.contacts or []],
        page=page,
        page_count=getattr(pagination, "page_count", None),
    )


def contact_pages(
    session: Session, *, modified_since: datetime | None, page_size: int = 1000
) -> Iterator[ContactsPage]:
    """Every page of contacts changed since a moment (all contacts without one)."""
    page = 1
    while True:
        found = contacts_page(
            session, page=page, page_size=page_size, modified_since=modified_since
        )
        yield found
        if len(found.contacts) < page_size or (found.page_count and page >= found.page_count):
            return
        page += 1


# Contacts asked for by ID in one call: each ID is 37 characters of the URL with its comma.
IDS_PER_CALL = 50


def contacts_by_ids(session: Session, *, contact_ids: Sequence[uuid.UUID]) -> list[XeroContactData]:
    """The contacts with these ContactIDs, archived and merged ones too, in one call (at most
    IDS_PER_CALL of them: the caller splits a longer list).

    https://developer.xero.com/documentation/api/accounting/contacts#get-contacts ("IDs":
    a comma separated list of ContactIDs, to retrieve a specific set of contacts in one call)
    """
    if len(contact_ids) > IDS_PER_CALL:
        raise ValueError(f"At most {IDS_PER_CALL} ContactIDs a call.")
    ids = [str(contact_id) for contact_id in contact_ids]
    # Paged (page 1 holds all of them): MergedToContactID comes only on paged GETs.
    result = _accounting(
        session,
        lambda api, tenant, _: api.get_contacts(
            tenant, i_ds=ids, include_archived=True, page=1, page_size=IDS_PER_CALL
        ),
    )
    return [_contact_data(c) for c in result.contacts or []]


def contact_get(session: Session, *, contact_id: uuid.UUID | str) -> XeroContactData:
    """One contact by ID, archived or merged ones too.

    https://developer.xero.com/documentation/api/accounting/contacts#get-contacts
    """
    result = _accounting(session, lambda api, tenant, _: api.get_contact(tenant, str(contact_id)))
    if not result.contacts:
        raise NotFound("Xero has no such contact.")
    return _contact_data(result.contacts[0])


def contacts_create(
    session: Session, *, contacts: Sequence[ContactDetails]
) -> list[XeroContactData]:
    """Create contacts (PUT; one Idempotency-Key for all its retries).

    https://developer.xero.com/documentation/api/accounting/contacts#put-contacts
    """
    body = SdkContacts(contacts=[_sdk_contact(c) for c in contacts])
    result = _accounting(
        session,
        lambda api, tenant, key: api.create_contacts(tenant, body, idempotency_key=key),
        write=True,
    )
    return [_contact_data(c) for c in result.contacts or []]


def _sdk_address(kind: str, address: Address, *, blank: bool) -> SdkAddress | None:
    """The address, or None when it is empty; with `blank`, an empty one clears Xero's."""
    if not any(vars(address).values()) and not blank:
        return None
    empty = "" if blank else None
    return SdkAddress(
        address_type=kind,
        address_line1=address.line1 or empty,
        address_line2=address.line2 or empty,
        city=address.city or empty,
        region=address.region or empty,
        postal_code=address.postal_code or empty,
        country=address.country or empty,
    )


def _sdk_upload(upload: ContactUpload) -> SdkContact:
    """The SDK contact for a create (empty fields left out) or an update (empty fields sent
    empty, so that what Omni cleared is cleared in Xero too; but the ContactNumber, which an
    update leaves as Xero has it)."""
    update = upload.contact_id is not None
    contact = _sdk_contact(upload)
    if update:
        contact.contact_id = str(upload.contact_id)
        for f in fields(ContactDetails):
            if f.name not in ("name", "contact_number") and not getattr(upload, f.name):
                setattr(contact, SDK_CONTACT_ATTRIBUTES[f.name], "")
    if upload.phone or update:
        contact.phones = [SdkPhone(phone_type="DEFAULT", phone_number=upload.phone)]
    addresses = [
        _sdk_address(kind, address, blank=update)
        for kind, address in (("POBOX", upload.postal_address), ("STREET", upload.street_address))
    ]
    if any(a is not None for a in addresses):
        contact.addresses = [a for a in addresses if a is not None]
    return contact


def contacts_save(
    session: Session, *, contacts: Sequence[ContactUpload], idempotency_key: str
) -> list[SaveOutcome]:
    """Create the contacts without an ID and update those with one, in one call (POST),
    each element answered on its own (`summarizeErrors=false`).

    The caller's Idempotency-Key is reused by every retry, and by a later call with the
    same key: Xero then answers as it did the first time instead of writing again.
    https://developer.xero.com/documentation/api/accounting/contacts#post-contacts
    """
    body = SdkContacts(contacts=[_sdk_upload(c) for c in contacts])
    result = _accounting(
        session,
        lambda api, tenant, key: api.update_or_create_contacts(
            tenant, body, summarize_errors=False, idempotency_key=key
        ),
        write=True,
        idempotency_key=idempotency_key,
    )
    return _outcomes(result.contacts or [])


def contacts_create_each(
    session: Session, *, contacts: Sequence[ContactUpload], idempotency_key: str
) -> list[SaveOutcome]:
    """Create the contacts (PUT: create only, so that nothing sent can update a contact
    Xero already has, an archived one holding the same ContactNumber say), each element
    answered on its own (`summarizeErrors=false`). The caller's Idempotency-Key is reused
    by every retry, and Xero then answers as it did the first time.
    https://developer.xero.com/documentation/api/accounting/contacts#put-contacts
    """
    assert all(c.contact_id is None for c in contacts), "an update goes by ContactID (POST)"
    body = SdkContacts(contacts=[_sdk_upload(c) for c in contacts])
    result = _accounting(
        session,
        lambda api, tenant, key: api.create_contacts(
            tenant, body, summarize_errors=False, idempotency_key=key
        ),
        write=True,
        idempotency_key=idempotency_key,
    )
    return _outcomes(result.contacts or [])


def _outcomes(elements: Sequence[SdkContact]) -> list[SaveOutcome]:
    outcomes = []
    for element in elements:
        errors = [storable(e.message or "") for e in element.validation_errors or []]
        if errors or element.has_validation_errors:
            outcomes.append(SaveOutcome(contact=None, errors=errors or ["Xero refused it."]))
        else:
            outcomes.append(SaveOutcome(contact=_contact_data(element), errors=[]))
    return outcomes
