"""The local mirror of each connection's Xero contacts, kept current incrementally.

The dashboard searches the mirror instead of Xero: no API call per keystroke. A full pull
pages through every contact (archived included) 1,000 at a time; later pulls ask only for
what changed since the newest change already seen (If-Modified-Since).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import xero
from .exceptions import UserFacingError
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


class RefreshRunning(UserFacingError):
    """Another refresh of the same organisation's contacts is running."""


def refresh_lease() -> timedelta:
    """How long a refresh holds its connection without renewing: longer than any one page.

    A page can take one XERO_TIMEOUT per attempt and, between attempts, a rate-limit wait of
    up to XERO_MAX_RETRY_WAIT; a minute more covers saving it and a token refresh. That is 6
    minutes with the defaults: a live refresh renews in time, and one whose worker was
    killed stops blocking the next that soon.
    """
    retries = max(0, settings.XERO_MAX_RETRIES)
    seconds = (1 + retries) * settings.XERO_TIMEOUT + retries * settings.XERO_MAX_RETRY_WAIT
    return timedelta(seconds=seconds + 60)


@dataclass
class _Lease:
    """A refresh's hold on its connection; the time it runs until tells it from another's."""

    connection: XeroConnection
    until: datetime

    @classmethod
    def claim(cls, connection: XeroConnection) -> "_Lease":
        now = timezone.now()
        until = now + refresh_lease()
        # A conditional UPDATE instead of a row lock, as no transaction may stay open across
        # the calls to Xero: of two refreshes starting together, exactly one updates the row.
        claimed = (
            XeroConnection.objects.filter(pk=connection.pk)
            .filter(
                Q(contacts_refresh_lease_until__isnull=True)
                | Q(contacts_refresh_lease_until__lt=now)
            )
            .update(contacts_refresh_lease_until=until)
        )
        if not claimed:
            raise RefreshRunning(f"The Xero contacts of {connection} are being refreshed already.")
        return cls(connection, until)

    def renew(self) -> None:
        until = timezone.now() + refresh_lease()
        # Only while still ours: a refresh that stalled past its lease has been replaced, and
        # stops rather than run beside its replacement.
        if not self._held().update(contacts_refresh_lease_until=until):
            raise RefreshRunning(
                f"Another refresh of the Xero contacts of {self.connection} took over."
            )
        self.until = until

    def release(self) -> None:
        self._held().update(contacts_refresh_lease_until=None)

    def _held(self):
        return XeroConnection.objects.filter(
            pk=self.connection.pk, contacts_refresh_lease_until=self.until
        )


def xero_contacts_refresh(*, connection: XeroConnection, full: bool = False) -> RefreshResult:
    """Bring the mirror up to date with Xero; full=True pulls everything again.

    One refresh of a connection at a time: raises RefreshRunning while another holds it.
    """
    lease = _Lease.claim(connection)
    try:
        return _refresh(connection, full=full, lease=lease)
    finally:
        lease.release()


def _refresh(connection: XeroConnection, *, full: bool, lease: _Lease) -> RefreshResult:
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
        lease.renew()
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
