"""What /metrics tells Prometheus, read from the database at scrape time: every gunicorn
worker and every machine answers the same. Only the HTTP request counts are kept in the web
processes (sync.monitoring.requests), and added here.

Each family is one aggregate query (a GROUP BY), or one per kind of job, whatever the number
of rows or organisations. Organisations are labelled by their connection's ID, never by name.
The Xero call counts and the job durations cover a sliding window (WINDOW, the last hour)
rather than all history, so that their cost stays bounded: they are gauges of that hour, to
be read as they are (not through rate()).
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from sync import jobs
from sync.models import XeroApiCall, XeroConnection
from sync.monitoring import heartbeats, requests

WINDOW = timedelta(hours=1)
# Job durations, in seconds: a batch or two, a sync of hundreds, a job waiting out Xero's limit.
DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600)
RATE_LIMITED = 429


def _queue_depth() -> Metric:
    family = GaugeMetricFamily(
        "omni_xero_queue_depth",
        "Tasks waiting in django-tasks-db's queue (ready to run), by task path.",
        labels=["task"],
    )
    waiting = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .order_by()
        .values_list("task_path")
        .annotate(n=Count("pk"))
    )
    for path, n in waiting:
        family.add_metric([path], n)
    return family


def _jobs(since: datetime) -> Iterator[Metric]:
    durations = HistogramMetricFamily(
        "omni_xero_job_duration_seconds",
        "How long the jobs that finished in the last hour took, start to end, by kind.",
        labels=["kind"],
    )
    active = GaugeMetricFamily(
        "omni_xero_jobs_active", "Jobs queued, running or waiting, by kind.", labels=["kind"]
    )
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    for kind, model in sorted(jobs.registered_models().items()):
        finished = model._default_manager.filter(finished_at__gte=since, started_at__isnull=False)
        counts = finished.order_by().aggregate(
            n=Count("pk"),
            total=Sum(took),
            **{
                f"le{i}": Count(
                    "pk", filter=Q(finished_at__lte=F("started_at") + timedelta(seconds=bound))
                )
                for i, bound in enumerate(DURATION_BUCKETS)
            },
        )
        buckets = [(str(float(b)), counts[f"le{i}"]) for i, b in enumerate(DURATION_BUCKETS)]
        total = counts["total"] or timedelta()
        durations.add_metric([kind], [*buckets, ("+Inf", counts["n"])], total.total_seconds())
        active.add_metric([kind], model._default_manager.filter(state__in=jobs.ACTIVE).count())
    yield durations
    yield active


def _xero_calls(since: datetime) -> Iterator[Metric]:
    calls = GaugeMetricFamily(
        "omni_xero_xero_calls_last_hour",
        "Requests made to Xero in the last hour, by organisation (connection ID).",
        labels=["organisation"],
    )
    limited = GaugeMetricFamily(
        "omni_xero_xero_rate_limited_last_hour",
        "Xero's 429 answers in the last hour, by organisation (connection ID).",
        labels=["organisation"],
    )
    per_organisation = (
        XeroApiCall.objects.filter(at__gte=since, connection__isnull=False)
        .order_by()
        .values_list("connection_id")
        .annotate(n=Count("pk"), limited=Count("pk", filter=Q(status=RATE_LIMITED)))
    )
    for connection_id, n, n_limited in per_organisation:
        calls.add_metric([str(connection_id)], n)
        limited.add_metric([str(connection_id)], n_limited)
    yield calls
    yield limited


def _quota() -> Iterator[Metric]:
    minute = GaugeMetricFamily(
        "omni_xero_xero_minute_remaining",
        "Calls left in Xero's minute window, as the organisation's last answer said.",
        labels=["organisation"],
    )
    day = GaugeMetricFamily(
        "omni_xero_xero_day_remaining",
        "Calls left in Xero's daily quota, as the organisation's last answer said.",
        labels=["organisation"],
    )
    connections = GaugeMetricFamily(
        "omni_xero_connections", "Xero connections by status.", labels=["status"]
    )
    by_status: dict[str, int] = {}
    for pk, status, minute_left, day_left in XeroConnection.objects.order_by("pk").values_list(
        "pk", "status", "minute_remaining", "day_remaining"
    ):
        by_status[status] = by_status.get(status, 0) + 1
        if minute_left is not None:
            minute.add_metric([str(pk)], minute_left)
        if day_left is not None:
            day.add_metric([str(pk)], day_left)
    for status, n in sorted(by_status.items()):
        connections.add_metric([status], n)
    yield minute
    yield day
    yield connections


def _heartbeats() -> Metric:
    ages = GaugeMetricFamily(
        "omni_xero_heartbeat_age_seconds",
        "Seconds since the freshest process of a kind last beat (worker, scheduler).",
        labels=["process"],
    )
    for kind, age in sorted(heartbeats.ages().items()):
        ages.add_metric([kind], age.total_seconds())
    return ages


class DatabaseCollector(Collector):
    """Every family above, read afresh at each scrape."""

    def collect(self) -> Iterator[Metric]:
        since = timezone.now() - WINDOW
        yield _queue_depth()
        yield from _jobs(since)
        yield from _xero_calls(since)
        yield from _quota()
        yield _heartbeats()


def registry() -> CollectorRegistry:
    """A registry of the database's metrics, and of the HTTP requests served (by every web
    process when they share PROMETHEUS_MULTIPROC_DIR, else by this one: requests.py)."""
    found = CollectorRegistry(auto_describe=False)
    found.register(DatabaseCollector())
    found.register(requests.requests_collector())
    return found
