"""The dashboard's whole-history counts, kept: what every page would otherwise count anew.

A contacts subtab's link counts, a transaction subtab's ready and blocked, and the Errors
badge each count across the organisation's whole history (tens of milliseconds at 50,000
contacts, on every page). `kept_counts` reads them in one query from `KeptCounts` and counts
again only when they are stale: a link or transaction audit row newer than they are (someone
linked, unlinked, skipped or moved), or older than DASHBOARD_COUNTS_SECONDS (a sync's
outcomes, an Omni edit). One request at a time counts them again; the others meanwhile show
the counts kept, so a burst of readers pays for one count, not one each.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from sync.models import KeptCounts, LinkEvent, SyncRun, TransactionEvent, XeroConnection

Counts = dict[str, int]
# Longest a request may take to count before another may try (it died, or was slow).
COUNTING_FOR = timedelta(seconds=30)


def kept_counts(
    connection: XeroConnection | None, scope: str, count: Callable[[], Counts]
) -> Counts:
    """`count()` of the organisation, kept under `scope`: the kept counts while they are
    current, else counted now (by this request, unless another is counting them)."""
    if connection is None:
        return count()
    now = timezone.now()
    row = (
        KeptCounts.objects.filter(connection=connection, scope=scope)
        .annotate(current=_mark(connection))
        .first()
    )
    current = _mark_of(row.current) if row is not None else _current_mark(connection)
    if row is not None:
        fresh = row.counted_at > now - timedelta(seconds=settings.DASHBOARD_COUNTS_SECONDS)
        if fresh and row.mark == current:
            return dict(row.counts)
        idle = Q(counting_until__isnull=True) | Q(counting_until__lt=now)
        claimed = KeptCounts.objects.filter(Q(pk=row.pk) & idle).update(
            counting_until=now + COUNTING_FOR
        )
        if not claimed:  # another request is counting them: show what is kept meanwhile
            return dict(row.counts)
    counts = count()
    _keep(connection, scope, counts, current, now)
    return counts


def _keep(connection: XeroConnection, scope: str, counts: Counts, mark: str, at: datetime) -> None:
    """Keep the counts, in one statement whether or not the scope has been kept before."""
    kept = KeptCounts(connection=connection, scope=scope, counts=counts, mark=mark, counted_at=at)
    KeptCounts.objects.bulk_create(
        [kept],
        update_conflicts=True,
        unique_fields=["connection", "scope"],
        update_fields=["counts", "mark", "counted_at", "counting_until"],
    )


def _mark(connection: XeroConnection) -> models.Func:
    """What has changed, as one expression of the kept row's query: the newest link and
    transaction audit rows' ids (lookups on primary keys) and the organisation's newest sync
    run, when it finished (on its index): a finished sync counts them again at once."""
    newest = [
        models.Subquery(model.objects.order_by("-pk").values("pk")[:1])
        for model in (LinkEvent, TransactionEvent)
    ]
    runs = SyncRun.objects.filter(connection=connection).order_by("-pk")
    parts: list[Any] = [
        *(Cast(Coalesce(n, 0), models.CharField()) for n in newest),
        Cast(models.Subquery(runs.values("pk")[:1]), models.CharField()),
        Cast(models.Subquery(runs.values("finished_at")[:1]), models.CharField()),
    ]
    joined: list[Any] = []
    for part in parts:
        joined += [Coalesce(part, models.Value("")), models.Value(":")]
    return Concat(*joined[:-1], output_field=models.CharField())


def _mark_of(value: object) -> str:
    return str(value or "")


def _current_mark(connection: XeroConnection) -> str:
    """The mark `_mark()` reads, for a scope not kept yet (one query)."""
    found = XeroConnection.objects.filter(pk=connection.pk).annotate(current=_mark(connection))
    return _mark_of(found.values_list("current", flat=True).first())
