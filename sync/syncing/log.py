"""The sync log: every sync run with its counts, each run's items, their CSV export, and the
prune that alone removes them."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from sync.csv_export import csv_lines, text, value
from sync.models import PaymentItem, SyncItem, SyncRun, XeroConnection

CSV_COLUMNS = [
    value("run"),
    value("run started"),
    value("trigger"),
    text("transaction number"),
    value("transaction type"),
    text("contact"),
    value("outcome"),
    value("refusal"),
    text("message"),
    value("Xero ID"),
    text("Xero number"),
    value("updated"),
]


def runs_with_counts(connection: XeroConnection | None) -> QuerySet[SyncRun]:
    """The organisation's runs, newest first, each with its items counted by outcome."""
    runs = SyncRun.objects.filter(connection=connection).select_related("created_by")
    return runs.annotate(
        total=Count("items"),
        **{
            state: Count("items", filter=Q(items__state=state))
            for state in ("synced", "refused", "failed", "skipped")
        },
    ).order_by("-created_at", "-pk")


PAYMENTS_SHOWN = 50


def payments_of(run: SyncRun) -> list[PaymentItem]:
    """The first PAYMENTS_SHOWN payments of a run, each with its transaction (one query)."""
    items = run.payment_items.select_related("payment__transaction").order_by("pk")
    return list(items[:PAYMENTS_SHOWN])


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def runs_filtered(
    runs: QuerySet[SyncRun],
    *,
    state: str = "",
    trigger: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[SyncRun]:
    if state:
        runs = runs.filter(state=state)
    if trigger:
        runs = runs.filter(trigger=trigger)
    if since:
        runs = runs.filter(created_at__gte=_day_start(since))
    if until:
        runs = runs.filter(created_at__lt=_day_start(until) + timedelta(days=1))
    return runs


def items_of(runs: QuerySet[SyncRun], outcome: str = "") -> QuerySet[SyncItem]:
    items = SyncItem.objects.filter(run__in=runs.values("pk"))
    if outcome:
        items = items.filter(state=outcome)
    return items.select_related("transaction__contact", "run").order_by("-run_id", "pk")


def items_csv(items: QuerySet[SyncItem]) -> Iterator[str]:
    """The items as CSV lines, read from the database in chunks (a big log never sits in
    memory at once)."""
    return csv_lines(CSV_COLUMNS, _item_rows(items))


def _item_rows(items: QuerySet[SyncItem]) -> Iterator[list[object]]:
    for item in items.iterator(chunk_size=2000):
        txn, run = item.transaction, item.run
        yield [
            run.pk,
            timezone.localtime(run.started_at or run.created_at).isoformat(timespec="seconds"),
            run.get_trigger_display(),
            txn.number,
            txn.get_type_display(),
            txn.contact.name,
            item.get_state_display(),
            item.get_refusal_display() if item.refusal else "",
            item.message,
            str(item.xero_id or ""),
            item.xero_number,
            timezone.localtime(item.updated_at).isoformat(timespec="seconds"),
        ]


def prunable(*, before: datetime, connection: XeroConnection | None = None) -> QuerySet[SyncRun]:
    """Runs that finished before the moment (never one still under way)."""
    runs = SyncRun.objects.exclude(state__in=SyncRun.ACTIVE).filter(finished_at__lt=before)
    return runs.filter(connection=connection) if connection is not None else runs


def sync_log_prune(*, runs: QuerySet[SyncRun]) -> int:
    """Delete these runs and their items, except any still under way. Returns how many runs."""
    with transaction.atomic():
        doomed = runs.exclude(state__in=SyncRun.ACTIVE)
        count = doomed.count()
        SyncItem.objects.filter(run__in=doomed.values("pk")).delete()
        SyncRun.objects.filter(pk__in=doomed.values("pk")).delete()
    return count


@dataclass(frozen=True)
class DayOutcomes:
    """One day's sync items of an organisation, by how they ended."""

    day: date
    synced: int
    refused: int
    failed: int

    @property
    def total(self) -> int:
        return self.synced + self.refused + self.failed


CHART_OUTCOMES = (SyncItem.State.SYNCED, SyncItem.State.REFUSED, SyncItem.State.FAILED)


def daily_outcomes(
    connection: XeroConnection | None, *, days: int = 30, today: date | None = None
) -> list[DayOutcomes]:
    """The last `days` days (today last, in the local time zone), each with how many of the
    organisation's sync items were synced, refused and failed that day (when the item last
    changed); days without any are there with zeros. One aggregate query."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    counts: dict[tuple[date, str], int] = {}
    if connection is not None:
        found = (
            SyncItem.objects.filter(
                connection=connection,
                state__in=CHART_OUTCOMES,
                updated_at__gte=_day_start(first),
                updated_at__lt=_day_start(today + timedelta(days=1)),
            )
            .annotate(day=TruncDate("updated_at", tzinfo=timezone.get_current_timezone()))
            .order_by()
            .values_list("day", "state")
            .annotate(n=Count("pk"))
        )
        counts = {(day, state): n for day, state, n in found}
    return [
        DayOutcomes(
            day=day,
            synced=counts.get((day, SyncItem.State.SYNCED), 0),
            refused=counts.get((day, SyncItem.State.REFUSED), 0),
            failed=counts.get((day, SyncItem.State.FAILED), 0),
        )
        for day in (first + timedelta(days=n) for n in range(days))
    ]
