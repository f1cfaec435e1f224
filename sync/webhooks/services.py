"""Receiving Xero's webhooks and acting on their events.

Xero POSTs `{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}` with
the header `x-xero-signature`: base64(HMAC-SHA256(the webhook key, the raw body)). A
correctly signed request is answered 200 with an empty body, any other 401, within 5
seconds; before enabling a webhook Xero sends "intent to receive" requests (no events, some
wrongly signed) and enables it only if every answer is right. Delivery is at least once, in
no promised order; events carry IDs, not data.
https://developer.xero.com/documentation/guides/webhooks/overview/

Receiving only verifies, stores (each event once) and queues the processing, on commit.
Processing folds the events per organisation and resource, fetches the changed contacts
and documents in as few calls as Xero allows (what the local copies already hold as it is
since costs no call), judges the links to the contacts again with the refresh's own code
(sync.links.mirror, sync.links.health), and keeps the documents with the Discrepancies
refresh's own code (sync.syncing.discrepancies), paced by the organisation's shared quota
(sync.syncing.runs.PacedSession).
"""

import base64
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sync import jobs, xero
from sync.links import mirror
from sync.models import (
    ConnectionStatus,
    MirroredDocument,
    WebhookDelivery,
    WebhookEvent,
    XeroConnection,
    XeroContact,
)
from sync.syncing import discrepancies, runs

logger = logging.getLogger(__name__)

MAX_EVENTS = 10_000  # in one delivery; Xero batches far fewer, a larger body is not Xero's
RETRY_WHILE_REFRESHING = timedelta(seconds=30)
CATEGORIES = set(WebhookEvent.Category.values)
REFUSED_KEPT_PER_MINUTE = 60  # wrongly signed deliveries kept a minute (anyone can POST)
KEPT_FOR = timedelta(days=30)  # deliveries and processed events, for the Admin panel
# The entropy of the Admin tab's Test samples (sync.webhooks.sample): recorded as samples.
SAMPLE_ENTROPY = "omni-xero-test-"
SAMPLE_MARK = f'"entropy":"{SAMPLE_ENTROPY}'.encode()


def body_signature(body: bytes, key: str) -> str:
    """Xero's x-xero-signature of a body: base64(HMAC-SHA256(key as UTF-8, body))."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(body: bytes, signature: str, key: str) -> bool:
    """Whether `signature` is the body's (`body_signature`), compared in constant time. No
    key configured: nothing is valid."""
    if not key or not signature:
        return False
    expected = body_signature(body, key).encode()
    try:
        given = signature.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


@dataclass(frozen=True)
class Received:
    signed: bool
    events: int = 0  # readable events for connected organisations, stored once each
    ignored: int = 0  # for an organisation not connected, or not readable


def webhook_receive(*, body: bytes, signature: str) -> Received:
    """A delivery from Xero: record it; if it is signed right, store its events (each once:
    a redelivery adds nothing) and queue their processing per organisation on commit."""
    sample = SAMPLE_MARK in body
    if not signature_valid(body, signature, settings.XERO_WEBHOOK_KEY):
        _refused_record(sample=sample)
        return Received(signed=False)
    events, unreadable = _events(body)
    tenants = {event["tenant_id"] for event in events}
    connections = {
        c.tenant_id: c
        for c in XeroConnection.objects.filter(tenant_id__in=tenants).exclude(
            status=ConnectionStatus.DISCONNECTED
        )
    }
    rows = [
        WebhookEvent(connection=connections[tenant], **event)
        for event in events
        if (tenant := event.pop("tenant_id")) in connections
    ]
    unknown = len(events) - len(rows)
    if unknown:
        logger.info("Xero webhook: %s events for organisations not connected, ignored", unknown)
    with transaction.atomic():
        WebhookDelivery.objects.create(events=len(events) + unreadable, signed=True, sample=sample)
        WebhookEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        for connection_id in sorted({row.connection_id for row in rows}):
            jobs.enqueue("webhook_events", connection_id)
    return Received(signed=True, events=len(rows), ignored=unknown + unreadable)


def _refused_record(*, sample: bool) -> None:
    """Keep a wrongly signed delivery for the Admin panel's count, up to
    REFUSED_KEPT_PER_MINUTE a minute: anyone can POST to the endpoint, and a flood of them
    must not fill the database (beyond the cap they are only logged)."""
    recent = WebhookDelivery.objects.filter(
        signed=False, received_at__gte=timezone.now() - timedelta(minutes=1)
    )
    if recent.count() < REFUSED_KEPT_PER_MINUTE:
        WebhookDelivery.objects.create(events=0, signed=False, sample=sample)
    else:
        logger.warning("Xero webhook: a wrongly signed delivery refused (not kept: too many)")


def webhook_history_prune(*, now: datetime | None = None) -> int:
    """Delete the deliveries, and the events processed, received more than KEPT_FOR ago (the
    scheduler's sweep): Xero redelivers for 24 hours at most, and what arrives later is
    judged by UpdatedDateUTC anyway. Events not processed are kept whatever their age."""
    cutoff = (now or timezone.now()) - KEPT_FOR
    events, _ = WebhookEvent.objects.filter(
        received_at__lt=cutoff, processed_at__isnull=False
    ).delete()
    deliveries, _ = WebhookDelivery.objects.filter(received_at__lt=cutoff).delete()
    return events + deliveries


def _events(body: bytes) -> tuple[list[dict[str, Any]], int]:
    """The readable events of a signed body, as WebhookEvent fields with their tenant, and
    how many were not readable (a field missing, an ID that is no UUID: logged, left out)."""
    try:
        payload = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        logger.warning("Xero webhook: a signed body that is not JSON was left alone")
        return [], 0
    raw_events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(raw_events, list):
        return [], 0
    events = []
    unreadable = 0
    for raw in raw_events[:MAX_EVENTS]:
        event = _event(raw)
        if event is None:
            unreadable += 1
            logger.warning("Xero webhook: an event omni-xero cannot read was left out: %.300r", raw)
        else:
            events.append(event)
    return events, unreadable


def _event(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    try:
        tenant_id = uuid.UUID(str(raw["tenantId"]))
        resource_id = uuid.UUID(str(raw["resourceId"]))
        category = str(raw["eventCategory"]).upper()
        event_type = str(raw["eventType"]).upper()[:16]
        event_date = parse_datetime(str(raw["eventDateUtc"]))
    except (KeyError, ValueError):
        return None
    if category not in CATEGORIES or event_date is None:
        return None
    if timezone.is_naive(event_date):
        event_date = event_date.replace(tzinfo=UTC)
    return {
        "tenant_id": tenant_id,
        "resource_id": resource_id,
        "category": category,
        "event_type": event_type,
        "event_date": event_date,
    }


# --- Processing --------------------------------------------------------------------------------


def _latest(events: Iterable[WebhookEvent]) -> dict[uuid.UUID, datetime]:
    """The events folded per resource: the latest change each says happened."""
    latest: dict[uuid.UUID, datetime] = {}
    for event in events:
        if event.resource_id not in latest or event.event_date > latest[event.resource_id]:
            latest[event.resource_id] = event.event_date
    return latest


def _stale(
    latest: dict[uuid.UUID, datetime], kept: dict[uuid.UUID, datetime | None]
) -> list[uuid.UUID]:
    """The resources whose local copy is older than the latest event about them (or absent)."""
    stale = []
    for resource_id, changed in latest.items():
        known = kept.get(resource_id)
        if known is None or known < changed:
            stale.append(resource_id)
    return sorted(stale, key=str)


def contacts_to_fetch(
    connection: XeroConnection, events: Iterable[WebhookEvent]
) -> list[uuid.UUID]:
    """The contacts these events say changed that the mirror does not already have as they
    are since: a redelivered or older event costs no call (UpdatedDateUTC is compared)."""
    latest = _latest(events)
    mirrored = dict(
        XeroContact.objects.filter(connection=connection, contact_id__in=list(latest)).values_list(
            "contact_id", "updated_in_xero"
        )
    )
    return _stale(latest, mirrored)


def documents_to_fetch(
    connection: XeroConnection, events: Iterable[WebhookEvent]
) -> list[uuid.UUID]:
    """The documents these events say changed that the local copy (Discrepancies, the
    payment state) does not already have as they are since: the same comparison."""
    latest = _latest(events)
    kept = dict(
        MirroredDocument.objects.filter(
            connection=connection, document_id__in=list(latest)
        ).values_list("document_id", "updated_in_xero")
    )
    return _stale(latest, kept)


# The event categories that name documents, and the kind each is.
DOCUMENT_CATEGORIES = {
    WebhookEvent.Category.INVOICE: xero.DocumentKind.INVOICE,
    WebhookEvent.Category.CREDITNOTE: xero.DocumentKind.CREDIT_NOTE,
}
REFRESHED = "Document refreshed"
UP_TO_DATE = "Up to date: no call"
NOT_RETURNED = "Not returned by Xero (deleted, or not this organisation's)"


def _documents_process(
    connection: XeroConnection, batch: QuerySet[WebhookEvent], session: xero.Session
) -> tuple[int, int]:
    """Refresh the documents the batch's invoice and credit-note events name, in as few
    calls as Xero allows, and mark each event with what came of it. Returns the documents
    fetched and the calls made. Each call's documents are kept, and their events marked,
    before the next call: a failure of Xero leaves only the rest for the next try."""
    fetched = calls = 0
    for category, kind in DOCUMENT_CATEGORIES.items():
        events = batch.filter(category=category)
        wanted = documents_to_fetch(connection, events)
        per_call = xero.DOCUMENT_IDS_PER_CALL[kind]
        for start in range(0, len(wanted), per_call):
            chunk = wanted[start : start + per_call]
            found = xero.documents_by_ids(session, kind=kind, document_ids=chunk)
            calls += 1
            fetched += len(found)
            returned = {document.document_id for document in found}
            with transaction.atomic():
                discrepancies.documents_keep(connection=connection, documents=found)
                now = timezone.now()
                events.filter(resource_id__in=returned).update(processed_at=now, outcome=REFRESHED)
                events.filter(resource_id__in=set(chunk) - returned).update(
                    processed_at=now, outcome=NOT_RETURNED
                )
        # What is left was up to date already: its events cost no call.
        events.filter(processed_at__isnull=True).update(
            processed_at=timezone.now(), outcome=UP_TO_DATE
        )
    return fetched, calls


def webhook_events_process(*, connection_id: int) -> dict[str, int | str]:
    """Act on the organisation's events not yet processed: refresh the documents they name
    (Discrepancies and the payment state), fetch the changed contacts and judge their links
    again, and mark each event with its outcome. Every call goes through a session paced by
    the organisation's shared quota, starting from what its latest recorded call reported.

    While a mirror refresh runs, contacts are tried again shortly (it holds the mirror);
    while Xero's quota is used up (the minute beyond a wait worth making, or the day), the
    events wait and are tried again when it frees; any other failure of Xero leaves them to
    the next try."""
    connection = XeroConnection.objects.filter(
        pk=connection_id, status=ConnectionStatus.ACTIVE
    ).first()
    if connection is None:
        return {"skipped": "not connected"}
    pending = WebhookEvent.objects.filter(connection=connection, processed_at__isnull=True)
    upto = pending.aggregate(last=Max("pk"))["last"]
    if upto is None:
        return {"events": 0}
    batch = pending.filter(pk__lte=upto)
    session = runs.PacedSession.for_connection(connection)
    contacts = list(batch.filter(category=WebhookEvent.Category.CONTACT))
    wanted = contacts_to_fetch(connection, contacts)
    try:
        documents, document_calls = _documents_process(connection, batch, session)
        result = mirror.xero_contacts_refresh_some(
            connection=connection, xero_contact_ids=wanted, session=session
        )
    except mirror.RefreshRunning:
        jobs.enqueue("webhook_events", connection_id, at=timezone.now() + RETRY_WHILE_REFRESHING)
        return {"retry": "a refresh of the mirror is running", "api_calls": session.calls}
    except xero.RateLimited as limited:
        at = timezone.now() + timedelta(seconds=max(1.0, limited.wait_seconds))
        jobs.enqueue("webhook_events", connection_id, at=at)
        return {"retry": f"Xero's {limited.problem or 'rate'} limit", "api_calls": session.calls}
    now = timezone.now()
    batch.filter(category=WebhookEvent.Category.CONTACT).update(
        processed_at=now, outcome="Contact checked"
    )
    batch.filter(processed_at__isnull=True).update(
        processed_at=now, outcome="Not acted on (only contact and document events are)"
    )
    return {
        "events": len(contacts),
        "fetched": len(wanted),
        "documents": documents,
        "api_calls": result.api_calls + document_calls,
    }


# Events still unprocessed this long after they arrived lost their task (a killed worker).
STALLED_AFTER = timedelta(minutes=2)


def webhook_events_resume() -> int:
    """Queue the processing again for each organisation whose events wait longer than
    STALLED_AFTER (the scheduler's sweep): a worker killed mid-way loses no event."""
    stalled = (
        WebhookEvent.objects.filter(
            processed_at__isnull=True, received_at__lt=timezone.now() - STALLED_AFTER
        )
        .values_list("connection_id", flat=True)
        .distinct()
    )
    connection_ids = sorted(set(stalled))
    for connection_id in connection_ids:
        jobs.enqueue("webhook_events", connection_id)
    return len(connection_ids)
