"""Xero's call limits, shared by every process: each call to Xero takes a slot here first.

Per organisation Xero allows 60 calls in any rolling minute, 5 in flight at once and 5,000
in a rolling day; per app 10,000 a minute across all organisations
(https://developer.xero.com/faq/limits). The counts live in the database (`XeroQuota`, one
row per organisation; `XeroAppQuota`, one for the app), so two workers, or a worker and a
web request, never spend the same call: a slot is taken in a short transaction holding the
rows' locks (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers), never across
the call itself.

A call counts in the minute from when its slot is taken until its answer came, and then
for a window after the answer (Xero counted it at some moment in between: never freed
sooner than Xero frees it, and no later than one call's duration). When an answer says
fewer calls are left than counted here (another app, or a call this budget never saw), the
budget takes Xero's word. A slot whose answer never comes (its process died) stops counting
as in flight after the longest a call can take.

When no slot is free: inside a page request (`transport.interactive()`) the caller gets
RateLimited at once; in the background a wait of a second or two is slept out, and a longer
one raised as RateLimited, so the job engine hands the job back for later and the worker
takes other work.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from sync import xero
from sync.models import XeroAppQuota, XeroQuota
from sync.xero import transport

# Unix seconds now; tests that move the sandbox's clock move this one with it.
clock: Callable[[], float] = time.time
# The longest wait for a slot a background job sleeps out (seconds); a longer one is raised.
SHORT_WAIT = 2.0
# How long a day whose calls are used up is taken as used up before a call tries again
# (Xero does not say when its rolling day frees a call).
DAY_RETRY = 3600.0
# The app's minute is counted in this many slices.
APP_SLICES = 60
# A wait for a call in flight to end (seconds): calls take a fraction of a second.
IN_FLIGHT_WAIT = 0.05


@dataclass(frozen=True)
class Slot:
    """One call's place in an organisation's quota, from its start until its answer."""

    connection_id: int
    key: str
    started: float


@dataclass(frozen=True)
class _Full:
    wait: float
    problem: str


def _window() -> float:
    return float(settings.XERO_RATE_WINDOW_SECONDS)


def _in_flight_for() -> float:
    """How long a call can be under way (connect and read timeouts, and some)."""
    return 2 * float(settings.XERO_TIMEOUT) + 10


def slot_take(connection_id: int) -> Slot:
    """A slot for one call to Xero on behalf of the organisation, waiting for one only as
    long as allowed (see the module's docstring); raises RateLimited otherwise."""
    while True:
        try:
            taken = _take(connection_id)
        except (XeroQuota.DoesNotExist, XeroAppQuota.DoesNotExist):
            # The organisation's first call (or the app's): its row is made once, not
            # looked for before every call.
            _rows_ensure(connection_id)
            continue
        if isinstance(taken, Slot):
            return taken
        if not transport.waiting_allowed() or taken.wait > SHORT_WAIT:
            raise xero.RateLimited(wait_seconds=max(taken.wait, 0.001), problem=taken.problem)
        transport.sleep(max(taken.wait, 0.001))


def slot_release(slot: Slot, quota: xero.Quota) -> None:
    """The call's answer came (or it failed): it is no longer in flight, counts in the minute
    from now, and what Xero said is left is taken when it is less than counted here."""
    with transaction.atomic():
        row = XeroQuota.objects.select_for_update().get(connection_id=slot.connection_id)
        now = clock()
        calls = _recent(row.calls, now)
        if row.in_flight.pop(slot.key, None) is not None and slot.started in calls:
            calls.remove(slot.started)
            calls.append(now)
        if quota.minute_remaining is not None:
            # Xero counted at most this many of this minute; our own count may be higher
            # (calls it had not seen yet), never lower unless someone else called.
            used = settings.XERO_MINUTE_LIMIT - quota.minute_remaining
            calls += [now] * max(0, used - len(calls))
        row.calls = calls[-settings.XERO_MINUTE_LIMIT :]
        if quota.day_remaining is not None:
            # Those in flight were not in Xero's count yet.
            row.day_left = quota.day_remaining - len(_alive(row.in_flight, now))
            row.day_seen_at = now
        row.save(update_fields=["calls", "in_flight", "day_left", "day_seen_at"])
        if quota.app_minute_remaining is not None:
            _app_heed(quota.app_minute_remaining, now)


def _rows_ensure(connection_id: int) -> None:
    if XeroQuota.objects.filter(connection_id=connection_id).exists():
        return
    try:
        with transaction.atomic():
            XeroQuota.objects.create(connection_id=connection_id)
    except IntegrityError:
        pass  # another process made it meanwhile
    if not XeroAppQuota.objects.filter(pk=1).exists():
        try:
            with transaction.atomic():
                XeroAppQuota.objects.create(pk=1)
        except IntegrityError:
            pass


def _take(connection_id: int) -> Slot | _Full:
    # The organisation's row first, then the app's: every taker locks in this order.
    with transaction.atomic():
        row = XeroQuota.objects.select_for_update().get(connection_id=connection_id)
        now = clock()
        if row.day_left is not None and row.day_left <= 0 and row.day_seen_at is not None:
            waited = now - row.day_seen_at
            if waited < DAY_RETRY:
                return _Full(DAY_RETRY - waited, "day")
        calls = _recent(row.calls, now)
        limit = settings.XERO_MINUTE_LIMIT
        if len(calls) >= limit:
            return _Full(calls[-limit] + _window() - now, "minute")
        flying = _alive(row.in_flight, now)
        if len(flying) >= settings.XERO_CONCURRENT_LIMIT:
            return _Full(IN_FLIGHT_WAIT, "concurrent")
        app = XeroAppQuota.objects.select_for_update().get(pk=1)
        buckets = _app_recent(app.buckets, now)
        if sum(buckets.values()) >= settings.XERO_APP_MINUTE_LIMIT:
            oldest = min(float(b) for b in buckets)
            return _Full(oldest + _slice() + _window() - now, "appminute")
        slot = Slot(connection_id=connection_id, key=uuid.uuid4().hex, started=now)
        flying[slot.key] = now + _in_flight_for()
        row.calls, row.in_flight = [*calls, now], flying
        if row.day_left is not None:
            row.day_left -= 1
        row.save(update_fields=["calls", "in_flight", "day_left"])
        bucket = _bucket(now)
        buckets[bucket] = buckets.get(bucket, 0) + 1
        app.buckets = buckets
        app.save(update_fields=["buckets"])
        return slot


def _recent(calls: list[float], now: float) -> list[float]:
    """The calls that still count in the minute, oldest first."""
    return sorted(t for t in calls if t > now - _window())


def _alive(in_flight: dict[str, float], now: float) -> dict[str, float]:
    return {key: until for key, until in in_flight.items() if until > now}


def _slice() -> float:
    return _window() / APP_SLICES


def _bucket(now: float) -> str:
    return repr(now - now % _slice())


def _app_recent(buckets: dict[str, int], now: float) -> dict[str, int]:
    """The app's slices that still count: one counts until a window after it ended."""
    horizon = now - _window() - _slice()
    return {b: n for b, n in buckets.items() if float(b) > horizon}


def _app_heed(remaining: int, now: float) -> None:
    """Xero said the app has `remaining` calls left this minute: count no more than that."""
    app = XeroAppQuota.objects.select_for_update().get(pk=1)
    buckets = _app_recent(app.buckets, now)
    missing = settings.XERO_APP_MINUTE_LIMIT - remaining - sum(buckets.values())
    if missing > 0:
        bucket = _bucket(now)
        buckets[bucket] = buckets.get(bucket, 0) + missing
        app.buckets = buckets
        app.save(update_fields=["buckets"])
