"""The HTTP requests each web process served, for /metrics: a count and a duration histogram
by view (its URL name, or its route pattern: never the path, which would make a series per
contact), method and status class.

These live in the process that served the request, unlike the database's families
(sync.monitoring.metrics). With PROMETHEUS_MULTIPROC_DIR set (`make serve` sets it, a folder
under VAR_DIR emptied at each start), prometheus_client keeps each gunicorn worker's values
in a file there and /metrics adds up every worker's; without it, each worker counts its own.
"""

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector, CollectorRegistry

# Seconds: a poll that finds nothing, a page, a big list, a request that calls Xero.
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNRESOLVED = "<unresolved>"  # no URL matched (a 404), or a middleware answered first

# The process's own registry: the database's families are read at each scrape instead.
PROCESS = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "omni_xero_http_requests",
    "HTTP requests served, by view (URL name or route), method and status class.",
    ["view", "method", "status"],
    registry=PROCESS,
)
DURATIONS = Histogram(
    "omni_xero_http_request_duration_seconds",
    "How long HTTP requests took in the web process, by view (URL name or route) and method.",
    ["view", "method"],
    buckets=DURATION_BUCKETS,
    registry=PROCESS,
)


def view_label(request: HttpRequest) -> str:
    """The request's view, as few values as there are URLs in urls.py."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNRESOLVED
    return match.view_name or match.route or UNRESOLVED


def requests_collector() -> Collector | CollectorRegistry:
    """Every web process's request metrics when they share PROMETHEUS_MULTIPROC_DIR, else
    this process's own."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return PROCESS
    combined = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(combined, path=folder)  # type: ignore[no-untyped-call]
    return combined


class RequestMetricsMiddleware:
    """Counts and times every request, first in and last out (so it times the others)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view, method, f"{response.status_code // 100}xx").inc()
        DURATIONS.labels(view, method).observe(time.perf_counter() - started)
        return response
