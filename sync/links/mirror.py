"""The local mirror of each connection's Xero contacts, kept current incrementally.

Searching the mirror costs no API call per keystroke. A full pull pages through every contact
(archived included) 1,000 at a time; later pulls ask only for what changed since the newest
change already seen (If-Modified-Since).
"""

import logging
import uuid
from dataclasses import asdict, dataclass, fields
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from sync import jobs, xero
from sync.connections import services as connections
from sync.exceptions import UserFacingError
from sync.links import health as links
from sync.models import (
    ConnectionStatus,
    UnmirroredContact,
    XeroConnection,
    XeroContact,
    fitted,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000
BATCH_SIZE = 500
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
    token_refresh = 2 * settings.XERO_TIMEOUT + 10  # sync.connections.services' refresh lease
    seconds = (
        (2 + retries) * per_attempt
        + retries * settings.XERO_MAX_RETRY_WAIT
        + 2 * token_refresh
        + 60
    )
    return timedelta(seconds=seconds)


def _claim(connection: XeroConnection) -> jobs.Lease:
    lease = jobs.Lease.claim(
        XeroConnection,
        connection.pk,
        field="contacts_refresh_lease_until",
        length=refresh_lease(),
        contacts_refresh_queued_at=None,  # the queued refresh, if any, is this one
    )
    if lease is None:
        raise RefreshRunning(f"The Xero contacts of {connection} are being refreshed already.")
    return lease


def xero_contacts_refresh(
    *, connection: XeroConnection, full: bool = False, session: xero.Session | None = None
) -> RefreshResult:
    """Bring the mirror up to date with Xero; full=True pulls everything again.

    One refresh of a connection at a time: raises RefreshRunning while another holds it.
    The links to the contacts that changed are judged against the refreshed mirror, every
    link after a full pull (sync.links.health.links_check). `session`
    (the connection's, by default) lets a caller pace and count the calls.
    A failure is kept on the connection (when and why), for the dashboard to show with a
    Retry button, and raised; the next refresh that works clears it.
    """
    lease = _claim(connection)
    try:
        result = _refresh(
            connection, full=full, lease=lease, session=session or connections.session(connection)
        )
        # Every contact that changed is in the mirror now: judge the links to them (all of
        # them after a full pull).
        links.links_check(connection=connection, full=full)
        return result
    except (RefreshRunning, jobs.LeaseLost):
        raise  # another refresh took over, or another worker the job it refreshes for
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


def xero_contacts_refresh_some(
    *,
    connection: XeroConnection,
    xero_contact_ids: list[uuid.UUID],
    session: xero.Session | None = None,
) -> RefreshResult:
    """Bring these contacts of the mirror up to date (the ones a webhook says changed), in
    as few calls as Xero allows (IDs lists, archived ones included), and judge the links to
    them again. Raises RefreshRunning while a refresh of the connection runs (it holds the
    mirror); a contact Xero no longer returns is left as the mirror has it."""
    if not xero_contact_ids:
        return RefreshResult(api_calls=0, received=0, full=False)
    lease = _claim(connection)
    try:
        session = session or connections.session(connection)
        calls = received = 0
        for start in range(0, len(xero_contact_ids), xero.IDS_PER_CALL):
            chunk = xero_contact_ids[start : start + xero.IDS_PER_CALL]
            found = xero.contacts_by_ids(session, contact_ids=chunk)
            calls += 1
            received += len(found)
            contacts_mirrored(connection=connection, contacts=found)
            lease.renew()
        links.links_check(connection=connection, xero_contact_ids=xero_contact_ids)
        return RefreshResult(api_calls=calls, received=received, full=False)
    except jobs.LeaseLost:
        raise RefreshRunning(f"A refresh of the Xero contacts of {connection} took over.") from None
    finally:
        lease.release()


def contacts_refresh_queue(*, connection: XeroConnection, full: bool = False) -> None:
    """Queue a refresh of the connection's mirror for the worker (once the transaction
    commits), and note it, so that the scheduler queues no second one meanwhile."""
    XeroConnection.objects.filter(pk=connection.pk).update(
        contacts_refresh_queued_at=timezone.now()
    )
    jobs.enqueue("contacts_refresh", connection.pk, full)


def contact_refreshes_enqueue(
    *, stalled_only: bool = False, connection_ids: list[int] | None = None
) -> int:
    """Queue a refresh for every connected organisation with none running or queued (or
    only for `connection_ids`: those whose refresh is due); with stalled_only, only where a
    refresh's lease ran out (its worker was killed).

    The connection rows say it, not the task table: a refresh runs while it holds its
    lease (renewed after every page), and one is queued from when it is queued until it
    starts, or for a lease's length (a task not started by then was lost). django-tasks-db
    keeps a killed worker's task RUNNING for ever; that task counts for nothing here.
    """
    now = timezone.now()
    idle = (
        XeroConnection.objects.filter(status=ConnectionStatus.ACTIVE)
        .filter(
            Q(contacts_refresh_lease_until__isnull=True) | Q(contacts_refresh_lease_until__lt=now)
        )
        .filter(
            Q(contacts_refresh_queued_at__isnull=True)
            | Q(contacts_refresh_queued_at__lt=now - refresh_lease())
        )
    )
    if stalled_only:
        idle = idle.filter(contacts_refresh_lease_until__lt=now)
    if connection_ids is not None:
        idle = idle.filter(pk__in=connection_ids)
    queued = 0
    for pk in idle.values_list("pk", flat=True):
        # A conditional UPDATE: two schedulers at once queue one refresh, not two.
        if idle.filter(pk=pk).update(contacts_refresh_queued_at=now):
            jobs.enqueue("contacts_refresh", pk, False)
            queued += 1
    return queued


def _refresh(
    connection: XeroConnection, *, full: bool, lease: jobs.Lease, session: xero.Session
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
        try:
            lease.renew()
        except jobs.LeaseLost:
            # A refresh that stalled past its lease has been replaced, and stops rather
            # than run beside its replacement.
            raise RefreshRunning(
                f"Another refresh of the Xero contacts of {connection} took over."
            ) from None
    XeroConnection.objects.filter(pk=connection.pk).update(
        contacts_modified_since=newest,
        contacts_refreshed_at=timezone.now(),
        contacts_refresh_failed_at=None,
        contacts_refresh_error="",
    )
    connection.refresh_from_db()
    return RefreshResult(api_calls=calls, received=received, full=since is None)


def _row(connection: XeroConnection, contact: xero.XeroContactData) -> XeroContact:
    """The mirror row of a contact, its text cut to the columns (and the cut fields noted)."""
    values, cut = fitted(XeroContact, asdict(contact))
    if cut:
        noted = [n for n in values["cleaned_fields"].split(",") if n]
        values["cleaned_fields"] = ",".join(sorted({*noted, *cut}))[:255]
    return XeroContact(connection=connection, **values)


def _upsert(rows: list[XeroContact]) -> None:
    XeroContact.objects.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["connection", "contact_id"],
        update_fields=[*MIRRORED_FIELDS, "mirrored_at"],
    )


# What storing one bad row raises: the database's refusal, or the driver's when it cannot
# encode the text (UnicodeEncodeError is a ValueError).
UNSTORABLE = (DatabaseError, ValueError)


def contacts_mirrored(
    *, connection: XeroConnection, contacts: list[xero.XeroContactData]
) -> list[UnmirroredContact]:
    """Put contacts into the mirror as Xero just gave them (a page, or an upload's answer).

    Rows go in batches; a batch the database refuses is stored again row by row, so that
    one contact it cannot store is left out (recorded as an UnmirroredContact, shown on
    the Errors view) and the others are kept. Returns those left out.
    """
    rows = [_row(connection, c) for c in contacts]
    stored: list[XeroContact] = []
    skipped: list[UnmirroredContact] = []
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        try:
            with transaction.atomic():
                _upsert(batch)
            stored += batch
            continue
        except UNSTORABLE:
            pass
        for row in batch:  # find the row the database refused; keep the others
            try:
                with transaction.atomic():
                    _upsert([row])
                stored.append(row)
            except UNSTORABLE as error:
                skipped.append(_unmirrored(connection, row, error))
    if skipped:
        UnmirroredContact.objects.bulk_create(
            skipped,
            update_conflicts=True,
            unique_fields=["connection", "contact_id"],
            update_fields=["name", "reason", "at"],
        )
    # Once stored, a contact left out before is no longer a problem.
    UnmirroredContact.objects.filter(
        connection=connection, contact_id__in=[r.contact_id for r in stored]
    ).delete()
    return skipped


def _unmirrored(
    connection: XeroConnection, row: XeroContact, error: Exception
) -> UnmirroredContact:
    # The database's words may echo the text it refused.
    reason = xero.storable((str(error).strip().splitlines() or [type(error).__name__])[0])
    logger.warning(
        "Xero contact %s (%r) of %s could not be mirrored: %s",
        row.contact_id,
        row.name,
        connection,
        reason,
    )
    return UnmirroredContact(
        connection=connection,
        contact_id=row.contact_id,
        name=xero.storable(row.name)[:255],
        reason=reason[:500],
    )
