"""Whether Xero's webhooks can be trusted for an organisation, and the polling kept beside them.

One rule decides the mode (`webhook_health`): LIVE while the webhooks are healthy, and the
mirror is then refreshed only every XERO_MIRROR_REFRESH_MINUTES_WITH_WEBHOOKS as a safety
net; POLLING otherwise, refreshed every XERO_MIRROR_REFRESH_MINUTES as before webhooks. The
safety-net refresh also tells whether Xero announced every change it finds; "Check links"
fetches what changed before it judges (`links_check_fresh`).
"""

import enum
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone

from sync import xero
from sync.links import health as links
from sync.links import mirror
from sync.models import (
    ConnectionStatus,
    ContactLink,
    LinkEvent,
    WebhookDelivery,
    WebhookEvent,
    XeroConnection,
    XeroContact,
)
from sync.webhooks import services as webhooks

logger = logging.getLogger(__name__)

# Xero sends nothing while nothing changes, so a quiet day is no sign of a broken webhook:
# the window is Xero's retry window. A delivery that fails is retried for up to 24 hours and
# the webhook is then disabled, so after 24 hours without one signed delivery (events, or
# the intent-to-receive requests Xero sends when it is registered or re-enabled) omni-xero
# can no longer tell a quiet organisation from a webhook Xero gave up on.
DELIVERY_WINDOW = timedelta(hours=24)
# A change this close to a refresh may still be on its way as an event: not counted missed.
MISSED_GRACE = timedelta(minutes=2)
# An event's date and the contact's UpdatedDateUTC are both Xero's clock, but need not be
# the same instant.
EVENT_TOLERANCE = timedelta(minutes=1)
# The scheduler ticks every minute: a refresh due within half a tick is queued now, so that
# a refresh that took a few seconds does not push the next one a whole tick later.
SCHEDULER_SLACK = timedelta(seconds=30)


class Mode(enum.StrEnum):
    LIVE = "live"  # Xero reports changes as they happen; a full check runs now and then
    POLLING = "polling"  # omni-xero asks Xero for changes every few minutes


class Reason(enum.StrEnum):
    HEALTHY = "healthy"
    NO_KEY = "no key"  # XERO_WEBHOOK_KEY is not set: every delivery is refused
    NO_DELIVERY = "no delivery"  # no signed delivery within DELIVERY_WINDOW
    STALLED = "stalled"  # events of the organisation wait unprocessed
    MISSED = "missed"  # the last refresh found changes Xero never announced


@dataclass(frozen=True)
class WebhookHealth:
    mode: Mode
    reason: Reason
    interval: timedelta  # between refreshes of the mirror, in this mode
    last_delivery: datetime | None  # the last signed delivery (any organisation's: one app)
    stalled: int  # events waiting longer than webhooks.STALLED_AFTER
    missed: int  # changes the last refresh found that no event announced
    last_refresh: datetime | None  # the last refresh of the mirror that ran (or failed)
    refresh_due_at: datetime  # when the scheduler queues the next one

    @property
    def live(self) -> bool:
        return self.mode == Mode.LIVE

    @property
    def interval_minutes(self) -> int:
        return int(self.interval.total_seconds() // 60)


def refresh_interval(mode: Mode) -> timedelta:
    minutes = (
        settings.XERO_MIRROR_REFRESH_MINUTES_WITH_WEBHOOKS
        if mode == Mode.LIVE
        else settings.XERO_MIRROR_REFRESH_MINUTES
    )
    return timedelta(minutes=minutes)


def last_signed_delivery() -> datetime | None:
    """When the last correctly signed delivery arrived (Xero's webhooks are per app, so any
    organisation's, or an intent-to-receive request with no events); not the Admin tab's
    Test samples, which show only that the endpoint answers."""
    last: datetime | None = WebhookDelivery.objects.filter(signed=True, sample=False).aggregate(
        last=Max("received_at")
    )["last"]
    return last


def webhook_health(
    connection: XeroConnection,
    *,
    now: datetime | None = None,
    last_delivery: datetime | None = None,
) -> WebhookHealth:
    """The webhook mode of an organisation, why, and the refresh interval that follows.

    LIVE when a webhook key is set, a signed delivery arrived within DELIVERY_WINDOW, no
    event of the organisation waits unprocessed (webhooks.STALLED_AFTER), and the last
    refresh found no change Xero did not announce; POLLING otherwise. `last_delivery`
    saves its query when the caller asked already (the scheduler, for every organisation).
    """
    now = now or timezone.now()
    if last_delivery is None:
        last_delivery = last_signed_delivery()
    stalled = WebhookEvent.objects.filter(
        connection=connection,
        processed_at__isnull=True,
        received_at__lt=now - webhooks.STALLED_AFTER,
    ).count()
    if not settings.XERO_WEBHOOK_KEY:
        reason = Reason.NO_KEY
    elif last_delivery is None or last_delivery < now - DELIVERY_WINDOW:
        reason = Reason.NO_DELIVERY
    elif stalled:
        reason = Reason.STALLED
    elif connection.webhook_missed:
        reason = Reason.MISSED
    else:
        reason = Reason.HEALTHY
    mode = Mode.LIVE if reason == Reason.HEALTHY else Mode.POLLING
    interval = refresh_interval(mode)
    ran = (connection.contacts_refreshed_at, connection.contacts_refresh_failed_at)
    last_refresh = max((t for t in ran if t), default=None)
    return WebhookHealth(
        mode=mode,
        reason=reason,
        interval=interval,
        last_delivery=last_delivery,
        stalled=stalled,
        missed=connection.webhook_missed,
        last_refresh=last_refresh,
        refresh_due_at=last_refresh + interval if last_refresh else now,
    )


def safety_net_refreshes_enqueue(*, now: datetime | None = None) -> int:
    """Queue the refresh of each connected organisation whose refresh is due by its own
    mode's interval (the scheduler, every minute); none while one is queued or running."""
    now = now or timezone.now()
    last_delivery = last_signed_delivery()
    due = [
        connection.pk
        for connection in XeroConnection.objects.filter(status=ConnectionStatus.ACTIVE)
        if webhook_health(connection, now=now, last_delivery=last_delivery).refresh_due_at
        <= now + SCHEDULER_SLACK
    ]
    return mirror.contact_refreshes_enqueue(connection_ids=due) if due else 0


# --- Changes Xero did not announce ------------------------------------------------------------


def changes_missed(*, connection: XeroConnection, since: datetime, started: datetime) -> int:
    """How many contacts changed in Xero after `since` (the mirror's mark before a refresh)
    and well before `started` (MISSED_GRACE) with no webhook event for that change."""
    announced = WebhookEvent.objects.filter(
        connection=connection,
        category=WebhookEvent.Category.CONTACT,
        resource_id=OuterRef("contact_id"),
        event_date__gte=OuterRef("updated_in_xero") - EVENT_TOLERANCE,
    )
    return (
        XeroContact.objects.filter(
            connection=connection,
            updated_in_xero__gt=since,
            updated_in_xero__lt=started - MISSED_GRACE,
        )
        .filter(~Exists(announced))
        .count()
    )


def _refresh_noting_missed(
    connection: XeroConnection, *, full: bool = False
) -> mirror.RefreshResult:
    """Refresh the mirror, and keep on the connection how many of the changes it found Xero
    never announced (an incremental refresh only: a full one returns every contact)."""
    connection.refresh_from_db(fields=["contacts_modified_since"])
    since = None if full else connection.contacts_modified_since
    started = timezone.now()
    result = mirror.xero_contacts_refresh(connection=connection, full=full)
    if since is not None:
        missed = changes_missed(connection=connection, since=since, started=started)
        if missed and settings.XERO_WEBHOOK_KEY:
            logger.warning("%s: %s contact change(s) no webhook announced", connection, missed)
        XeroConnection.objects.filter(pk=connection.pk).update(
            webhook_missed=missed, webhook_missed_checked_at=started
        )
        connection.webhook_missed = missed
        connection.webhook_missed_checked_at = started
    return result


def safety_net_refresh_run(
    *, connection_id: int, full: bool = False
) -> dict[str, str | int | bool]:
    """What the worker's refresh task does: refresh, noting the changes Xero did not
    announce, unless the organisation was disconnected meanwhile or another refresh runs
    (which brings the mirror up to date)."""
    connection = XeroConnection.objects.filter(
        pk=connection_id, status=ConnectionStatus.ACTIVE
    ).first()
    if connection is None:
        return {"skipped": "not connected"}
    try:
        result = _refresh_noting_missed(connection, full=full)
    except mirror.RefreshRunning as running:
        # Not a failure: the refresh already running brings the mirror up to date.
        XeroConnection.objects.filter(pk=connection_id).update(contacts_refresh_queued_at=None)
        return {"skipped": str(running)}
    return {"api_calls": result.api_calls, "received": result.received, "full": result.full}


# --- Check links -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FreshCheck:
    checked: int  # the organisation's links: those not judged kept a verdict nothing changed
    went_bad: int  # valid before (or invalid for another reason), invalid now
    usable_again: int  # invalid before, valid now
    api_calls: int
    events: int  # webhook events taken up
    refresh_running: bool = False  # another refresh held the mirror: judged as it is
    fetch_failed: str = ""  # Xero's words, when the changes could not be fetched
    never_fetched: bool = False  # the mirror was never filled: nothing could be judged


def links_check_fresh(*, connection: XeroConnection) -> FreshCheck:
    """Check links as an accountant means it: fetch what changed in Xero since the last
    refresh (a delta refresh, usually one call) and take up the organisation's waiting
    webhook events, then judge the links whose Xero contact changed (links_check: every
    other link's verdict stands). Counts what changed in the whole of it, from the audit
    rows it wrote, so it costs the same with 50 links or 50,000. A mirror never filled is
    not filled here (a full pull can take many calls): its first refresh is queued for the
    worker, and the links are judged when it ends."""
    connection.refresh_from_db(fields=["contacts_refreshed_at"])
    if connection.contacts_refreshed_at is None:
        mirror.contacts_refresh_queue(connection=connection)
        return FreshCheck(0, 0, 0, api_calls=0, events=0, never_fetched=True)
    started = timezone.now()
    running = False
    failed = ""
    calls = events = 0
    try:
        calls += _refresh_noting_missed(connection).api_calls
    except mirror.RefreshRunning:
        running = True
    except xero.XeroError as error:
        failed = str(error)
    if not running and not failed:
        try:
            processed = webhooks.webhook_events_process(connection_id=connection.pk)
        except xero.XeroError as error:  # the events wait for the worker's next try
            failed = str(error)
        else:
            calls += int(processed.get("api_calls", 0))
            events = int(processed.get("events", 0))
    result = links.links_check(connection=connection)
    went_bad, usable_again = _link_changes(connection, since=started)
    return FreshCheck(
        checked=ContactLink.objects.filter(connection=connection).count(),
        went_bad=went_bad,
        usable_again=usable_again,
        api_calls=calls,
        events=events,
        refresh_running=running,
        fetch_failed=failed,
        never_fetched=result.skipped,
    )


def _link_changes(connection: XeroConnection, *, since: datetime) -> tuple[int, int]:
    """How many links went bad (marked invalid, or invalid for another reason) and how many
    became usable again since then, by each link's last verdict in the audit."""
    verdicts = LinkEvent.objects.filter(
        connection=connection,
        at__gte=since,
        action__in=[LinkEvent.Action.INVALIDATE, LinkEvent.Action.REVALIDATE],
    )
    last = dict(verdicts.order_by("pk").values_list("contact_id", "action"))
    went_bad = sum(1 for action in last.values() if action == LinkEvent.Action.INVALIDATE)
    return went_bad, len(last) - went_bad


# --- The Admin tab's panel ---------------------------------------------------------------------

WEEK = 7


@dataclass(frozen=True)
class WebhookPanel:
    configured: bool
    health: WebhookHealth
    refused_24h: int  # deliveries wrongly signed in the last 24 hours
    waiting: int  # the organisation's events not processed yet
    per_day: list[tuple[date, int]]  # events received per day (local), the last WEEK days


def webhook_panel(*, connection: XeroConnection, now: datetime | None = None) -> WebhookPanel:
    """What the Admin tab shows of the webhooks: their state and the last week's events."""
    now = now or timezone.now()
    # One aggregate over the week's events (index: connection, received_at), a count per
    # local day by plain comparisons: no time-zone conversion per row.
    first = timezone.localdate(now) - timedelta(days=WEEK - 1)
    days = [first + timedelta(days=i) for i in range(WEEK)]
    bounds = [*days, days[-1] + timedelta(days=1)]
    starts = [timezone.make_aware(datetime.combine(d, time.min)) for d in bounds]
    counted = WebhookEvent.objects.filter(
        connection=connection, received_at__gte=starts[0], received_at__lt=starts[-1]
    ).aggregate(
        **{
            f"d{i}": Count(
                "pk", filter=Q(received_at__gte=starts[i], received_at__lt=starts[i + 1])
            )
            for i in range(WEEK)
        }
    )
    return WebhookPanel(
        configured=bool(settings.XERO_WEBHOOK_KEY),
        health=webhook_health(connection, now=now),
        refused_24h=WebhookDelivery.objects.filter(
            signed=False, sample=False, received_at__gte=now - timedelta(hours=24)
        ).count(),
        waiting=WebhookEvent.objects.filter(
            connection=connection, processed_at__isnull=True
        ).count(),
        per_day=[(day, counted[f"d{i}"]) for i, day in enumerate(days)],
    )
