"""The local mirror of each connection's Xero contacts, kept current incrementally.

The dashboard searches the mirror instead of Xero: no API call per keystroke. A full pull
pages through every contact (archived included) 1,000 at a time; later pulls ask only for
what changed since the newest change already seen (If-Modified-Since).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from . import xero
from .models import XeroConnection, XeroContact

PAGE_SIZE = 1000
MIRRORED_FIELDS = [
    "name", "first_name", "last_name", "email", "account_number", "contact_number",
    "tax_number", "status", "merged_to_contact_id", "is_customer", "is_supplier",
    "updated_in_xero",
]  # fmt: skip


@dataclass(frozen=True)
class RefreshResult:
    api_calls: int
    received: int
    full: bool


def xero_contacts_refresh(*, connection: XeroConnection, full: bool = False) -> RefreshResult:
    """Bring the mirror up to date with Xero; full=True pulls everything again."""
    connection.refresh_from_db(fields=["contacts_modified_since"])
    since = None if full else connection.contacts_modified_since
    newest = connection.contacts_modified_since
    calls = received = 0
    # Each page is saved as it arrives, with no transaction open across the Xero call: an
    # interrupted refresh keeps what it fetched, and the next one starts from the same mark.
    # Xero returns what changed at or after the mark, so the newest contact already seen
    # comes again (harmless) and nothing changed in the same instant is missed.
    for page in xero.iter_contact_pages(connection, modified_since=since, page_size=PAGE_SIZE):
        calls += 1
        received += len(page.contacts)
        _save(connection, page.contacts)
        for contact in page.contacts:
            if contact.updated_at and (newest is None or contact.updated_at > newest):
                newest = contact.updated_at
    connection.contacts_modified_since, connection.contacts_refreshed_at = newest, timezone.now()
    connection.save(update_fields=["contacts_modified_since", "contacts_refreshed_at"])
    return RefreshResult(api_calls=calls, received=received, full=since is None)


def _save(connection: XeroConnection, contacts: list[xero.XeroContactData]) -> None:
    rows = [
        XeroContact(
            connection=connection,
            contact_id=c.contact_id,
            name=c.name[:255],
            first_name=c.first_name[:255],
            last_name=c.last_name[:255],
            email=c.email[:255],
            account_number=c.account_number[:50],
            contact_number=c.contact_number[:50],
            tax_number=c.tax_number[:50],
            status=c.status,
            merged_to_contact_id=c.merged_to_contact_id,
            is_customer=c.is_customer,
            is_supplier=c.is_supplier,
            updated_in_xero=c.updated_at,
        )
        for c in contacts
    ]
    with transaction.atomic():
        XeroContact.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["connection", "contact_id"],
            update_fields=[*MIRRORED_FIELDS, "mirrored_at"],
        )
