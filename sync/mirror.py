"""The local mirror of each connection's Xero contacts, kept current incrementally.

Searching the mirror costs no API call per keystroke. A full pull pages through every contact
(archived included) 1,000 at a time; later pulls ask only for what changed since the newest
change already seen (If-Modified-Since).
"""

from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import connections, xero
from .models import XeroConnection, XeroContact

PAGE_SIZE = 1000
# Every field of a Xero contact but its ID is a column of the mirror, of the same name.
MIRRORED_FIELDS = [f.name for f in fields(xero.XeroContactData) if f.name != "contact_id"]


@dataclass(frozen=True)
class RefreshResult:
    api_calls: int
    received: int
    full: bool


def xero_contacts_refresh(*, connection: XeroConnection, full: bool = False) -> RefreshResult:
    """Bring the mirror up to date with Xero; full=True pulls everything again.

    A failure is kept on the connection (when and why), for the dashboard to show with a
    Retry button, and raised; the next refresh that works clears it.
    """
    try:
        return _refresh(connection, full=full)
    except Exception as error:
        reason = (
            str(error)
            if isinstance(error, xero.XeroError)
            else f"omni-xero hit an unexpected error ({type(error).__name__}); "
            "the details are in the worker's log"
        )
        XeroConnection.objects.filter(pk=connection.pk).update(
            contacts_refresh_failed_at=timezone.now(), contacts_refresh_error=reason[:500]
        )
        raise


def _refresh(connection: XeroConnection, *, full: bool) -> RefreshResult:
    connection.refresh_from_db(fields=["contacts_modified_since"])
    since = None if full else connection.contacts_modified_since
    newest = connection.contacts_modified_since
    calls = received = 0
    # Each page is saved as it arrives, with no transaction open across the Xero call: an
    # interrupted refresh keeps what it fetched, and the next one starts from the same mark.
    # Xero returns what changed at or after the mark, so the newest contact already seen
    # comes again (harmless) and nothing changed in the same instant is missed.
    pages = xero.contact_pages(
        connections.session(connection), modified_since=since, page_size=PAGE_SIZE
    )
    for page in pages:
        calls += 1
        received += len(page.contacts)
        _save(connection, page.contacts)
        for contact in page.contacts:
            changed = contact.updated_in_xero
            if changed and (newest is None or changed > newest):
                newest = changed
    XeroConnection.objects.filter(pk=connection.pk).update(
        contacts_modified_since=newest,
        contacts_refreshed_at=timezone.now(),
        contacts_refresh_failed_at=None,
        contacts_refresh_error="",
    )
    connection.refresh_from_db()
    return RefreshResult(api_calls=calls, received=received, full=since is None)


def _fitted(contact: xero.XeroContactData) -> dict[str, Any]:
    """The contact's values, text cut to the mirror's column lengths."""
    values = asdict(contact)
    for name, value in values.items():
        limit = getattr(XeroContact._meta.get_field(name), "max_length", None)
        if limit and isinstance(value, str):
            values[name] = value[:limit]
    return values


def _save(connection: XeroConnection, contacts: list[xero.XeroContactData]) -> None:
    rows = [XeroContact(connection=connection, **_fitted(c)) for c in contacts]
    with transaction.atomic():
        XeroContact.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["connection", "contact_id"],
            update_fields=[*MIRRORED_FIELDS, "mirrored_at"],
        )
