"""The local mirror of each connection's Xero contacts, kept current incrementally.

Searching the mirror costs no API call per keystroke. A full pull pages through every contact
(archived included) 1,000 at a time; later pulls ask only for what changed since the newest
change already seen (If-Modified-Since).
"""

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import connections, links, xero
from .exceptions import UserFacingError
from .models import XeroConnection, XeroContact

PAGE_SIZE = 1000
# Every field of a Xero contact but its ID is a column of the mirror, of the same name.
MIRRORED_FIELDS = [f.name for f in fields(xero.XeroContactData) if f.name != "contact_id"]


@dataclass(frozen=True)
class RefreshResult:
    api_calls: int
    received: int
    full: bool


class RefreshRunning(UserFacingError):
    """Another refresh of the same organisation's contacts is running."""


def refresh_lease() -> timedelta:
    """How long a refresh holds its connection without renewing: longer than any one page.

    A page can take, per attempt (the retries, plus one after a refused token), a connect
    timeout (up to 10 s) and a read timeout (XERO_TIMEOUT); between attempts a rate-limit
    wait of up to XERO_MAX_RETRY_WAIT; and two token refreshes, each waiting up to its own
    lease. A minute more covers saving the page. About 9 minutes with the defaults: a live
    refresh renews in time, and one whose worker was killed stops blocking the next that
    soon (instead of the 30 minutes a stale task result used to).
    """
    retries = max(0, settings.XERO_MAX_RETRIES)
    per_attempt = min(10.0, settings.XERO_TIMEOUT) + settings.XERO_TIMEOUT
    token_refresh = 2 * settings.XERO_TIMEOUT + 10  # sync.connections' refresh lease
    seconds = (
        (2 + retries) * per_attempt
        + retries * settings.XERO_MAX_RETRY_WAIT
        + 2 * token_refresh
        + 60
    )
    return timedelta(seconds=seconds)


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

    def _held(self) -> "QuerySet[XeroConnection]":
        return XeroConnection.objects.filter(
            pk=self.connection.pk, contacts_refresh_lease_until=self.until
        )


def xero_contacts_refresh(
    *, connection: XeroConnection, full: bool = False, session: xero.Session | None = None
) -> RefreshResult:
    """Bring the mirror up to date with Xero; full=True pulls everything again.

    One refresh of a connection at a time: raises RefreshRunning while another holds it.
    The links are checked against the refreshed mirror (sync.links.links_check). `session`
    (the connection's, by default) lets a caller pace and count the calls.
    A failure is kept on the connection (when and why), for the dashboard to show with a
    Retry button, and raised; the next refresh that works clears it.
    """
    lease = _Lease.claim(connection)
    try:
        result = _refresh(
            connection, full=full, lease=lease, session=session or connections.session(connection)
        )
        # Every contact that changed is in the mirror now: judge the links against it.
        links.links_check(connection=connection)
        return result
    except RefreshRunning:
        raise  # another refresh took over: not a failure
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
    finally:
        lease.release()


def _refresh(
    connection: XeroConnection, *, full: bool, lease: _Lease, session: xero.Session
) -> RefreshResult:
    connection.refresh_from_db(fields=["contacts_modified_since"])
    since = None if full else connection.contacts_modified_since
    newest = connection.contacts_modified_since
    calls = received = 0
    # Each page is saved as it arrives, with no transaction open across the Xero call: an
    # interrupted refresh keeps what it fetched, and the next one starts from the same mark.
    # Xero returns what changed at or after the mark, so the newest contact already seen
    # comes again (harmless) and nothing changed in the same instant is missed.
    pages = xero.contact_pages(session, modified_since=since, page_size=PAGE_SIZE)
    for page in pages:
        calls += 1
        received += len(page.contacts)
        contacts_mirrored(connection=connection, contacts=page.contacts)
        for contact in page.contacts:
            changed = contact.updated_in_xero
            if changed and (newest is None or changed > newest):
                newest = changed
        lease.renew()
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


def contacts_mirrored(*, connection: XeroConnection, contacts: list[xero.XeroContactData]) -> None:
    """Put contacts into the mirror as Xero just gave them (a page, or an upload's answer)."""
    rows = [XeroContact(connection=connection, **_fitted(c)) for c in contacts]
    with transaction.atomic():
        XeroContact.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["connection", "contact_id"],
            update_fields=[*MIRRORED_FIELDS, "mirrored_at"],
        )
