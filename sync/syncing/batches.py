"""What every batch a sync run sends shares, documents and payments alike: its size, its
Idempotency-Key, its items claimed as sending before the call, and put back in the queue
when Xero turned the call away at the door."""

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import F
from django.utils import timezone

from sync import jobs, xero
from sync.models import PaymentItem, SyncItem, SyncRun, XeroConnection

BATCH_SIZE = 50
# An item whose batch got no answer this many times is marked failed (after a lookup in
# Xero found nothing: it was never created).
MAX_ATTEMPTS = 3

Item = SyncItem | PaymentItem


class RunTakenOver(jobs.LeaseLost):
    """Another worker took this run over (its lease had run out): this one lets it be."""


def batch_key(connection: XeroConnection, items: Sequence[Item], uploads: Sequence[Any]) -> str:
    """The batch's Idempotency-Key, from what it sends and which attempt it is: a retry of
    the same call gets Xero's first answer back, while a send after the first one's
    outcome was settled (refused, or looked up and not found) is a new request, whose
    answer is not an old refusal replayed."""
    parts = [
        str(connection.tenant_id),
        *sorted(f"{i.pk}:{i.attempts}:{u!r}" for i, u in zip(items, uploads, strict=True)),
    ]
    return "omni-xero-sync-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def batch_send[T](
    run: SyncRun,
    statuses: list[int | None],
    items: Sequence[Item],
    uploads: Sequence[Any],
    call: Callable[[str], T],
) -> T:
    """Claim the items as sending (their next attempt) and make the call with the batch's
    key. If its answer is lost, the next run looks them up before anything is sent again.
    `statuses` are the session's answers so far: when every attempt of this call was turned
    away (429, or never made), nothing was written and the items go back in the queue."""
    model = type(items[0])
    for item in items:
        item.attempts += 1
    key = batch_key(run.connection, items, uploads)
    now = timezone.now()
    for item in items:
        item.state, item.batch_key, item.sent_at = SyncItem.State.SENDING, key, now
    # A conditional UPDATE: an item another worker took meanwhile is not sent twice.
    pks = [item.pk for item in items]
    claimed = model.objects.filter(pk__in=pks, run=run, state=SyncItem.State.QUEUED).update(
        state=SyncItem.State.SENDING, batch_key=key, sent_at=now, attempts=F("attempts") + 1
    )
    if claimed != len(items):
        # Lost a race for some (a second worker on this run): send none of the batch now;
        # those still queued are picked up again with a key of their own.
        model.objects.filter(pk__in=pks, batch_key=key).update(
            state=SyncItem.State.QUEUED, attempts=F("attempts") - 1
        )
        raise RunTakenOver()
    answered = len(statuses)
    try:
        return call(key)
    except xero.RateLimited:
        # An earlier attempt whose answer was lost may have been saved: then they stay
        # sending, to be looked up before anything is sent again.
        if all(status == 429 for status in statuses[answered:]):
            requeue(items)
        raise


def requeue(items: Sequence[Item]) -> None:
    """Put items claimed for a call that wrote nothing back in the queue."""
    for item in items:
        item.state = SyncItem.State.QUEUED
        item.attempts = max(0, item.attempts - 1)
    type(items[0]).objects.filter(pk__in=[item.pk for item in items]).update(
        state=SyncItem.State.QUEUED, attempts=F("attempts") - 1
    )
