"""What /health/ checks, and which of them make the node unhealthy.

Critical (any failing: 503, a load balancer takes the node out): the database answers, every
migration is applied, a worker ran the heartbeat task within a minute, the scheduler's last
round is younger than two rounds. Not critical (200, reported as a warning): an organisation
whose connection needs reconnecting, which only a person can fix and which no other node
would serve better.

The checks are django-health-check's (its Database check) and this app's own on the same
base; sync.monitoring.views runs them in the request (its view answers 500 for a warning).
"""

import dataclasses
import logging
from collections import Counter
from datetime import timedelta

from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import HealthCheckException, ServiceUnavailable, ServiceWarning

from sync.models import ConnectionStatus, Heartbeat, XeroConnection
from sync.monitoring import heartbeats

logger = logging.getLogger(__name__)

SCHEDULER_STALE_AFTER = timedelta(seconds=2 * heartbeats.TICK_SECONDS)


@dataclasses.dataclass
class Migrations(HealthCheck):  # type: ignore[misc]  # untyped package
    """Every migration of the code running is applied to the database."""

    alias: str = "default"

    def run(self) -> None:
        executor = MigrationExecutor(connections[self.alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            raise ServiceUnavailable(f"{len(plan)} migration(s) not applied")


def _age(seconds: timedelta) -> str:
    return f"{seconds.total_seconds():.0f} s ago"


@dataclasses.dataclass
class WorkerHeartbeat(HealthCheck):  # type: ignore[misc]  # untyped package
    """A worker ran the heartbeat task within WORKER_STALE_AFTER."""

    def run(self) -> None:
        age = heartbeats.latest(Heartbeat.Kind.WORKER)
        if age is None:
            raise ServiceUnavailable("no worker has run the heartbeat task yet")
        if age > heartbeats.WORKER_STALE_AFTER:
            raise ServiceUnavailable(
                f"the last worker heartbeat was {_age(age)} "
                f"(stale after {heartbeats.WORKER_STALE_AFTER.total_seconds():.0f} s)"
            )


@dataclasses.dataclass
class SchedulerTick(HealthCheck):  # type: ignore[misc]  # untyped package
    """The scheduler's last round is younger than two rounds."""

    def run(self) -> None:
        age = heartbeats.latest(Heartbeat.Kind.SCHEDULER)
        if age is None:
            raise ServiceUnavailable("the scheduler has not run yet")
        if age > SCHEDULER_STALE_AFTER:
            raise ServiceUnavailable(
                f"the scheduler's last round was {_age(age)} "
                f"(stale after {SCHEDULER_STALE_AFTER.total_seconds():.0f} s)"
            )


@dataclasses.dataclass
class XeroConnections(HealthCheck):  # type: ignore[misc]  # untyped package
    """Each organisation's connection: connected, or needing a person to reconnect it. By
    ID unless `names` (a staff member asks): anonymous callers learn no organisation's name."""

    names: bool = dataclasses.field(default=False, repr=False)

    def run(self) -> None:
        rows = XeroConnection.objects.usable().order_by("pk")
        found = list(rows.values_list("pk", "organisation_name", "status"))
        counts = Counter(status for _, _, status in found)
        reconnect = [
            name if self.names else str(pk)
            for pk, name, status in found
            if status == ConnectionStatus.NEEDS_RECONNECT
        ]
        if reconnect:
            which = ", ".join(reconnect) if self.names else f"IDs {', '.join(reconnect)}"
            raise ServiceWarning(
                f"{len(reconnect)} of {len(found)} organisation(s) need reconnecting ({which})"
            )
        if counts[ConnectionStatus.PENDING]:
            raise ServiceWarning(
                f"{counts[ConnectionStatus.PENDING]} of {len(found)} organisation(s) "
                "not ready yet (no call to Xero through)"
            )


@dataclasses.dataclass(frozen=True)
class Result:
    name: str
    critical: bool
    error: HealthCheckException | None

    @property
    def status(self) -> str:
        if self.error is None:
            return "ok"
        return "warning" if isinstance(self.error, ServiceWarning) else "unavailable"

    @property
    def detail(self) -> str:
        return "" if self.error is None else self.error.message


# Name, check, critical.
CHECKS: tuple[tuple[str, type[HealthCheck], bool], ...] = (
    ("database", Database, True),
    ("migrations", Migrations, True),
    ("worker", WorkerHeartbeat, True),
    ("scheduler", SchedulerTick, True),
    ("xero_connections", XeroConnections, False),
)


def health_run(*, names: bool = False) -> list[Result]:
    """Every check, in this thread, one after the other (each a query or two)."""
    results = []
    for name, check_class, critical in CHECKS:
        check = check_class(names=names) if check_class is XeroConnections else check_class()
        try:
            check.run()  # every check here is synchronous
        except HealthCheckException as error:
            results.append(Result(name, critical, error))
        except DatabaseError:
            results.append(
                Result(name, critical, ServiceUnavailable("the database did not answer"))
            )
        except Exception:
            logger.exception("Health check %s failed unexpectedly", name)
            results.append(Result(name, critical, ServiceUnavailable("unknown error")))
        else:
            results.append(Result(name, critical, None))
    return results


def overall(results: list[Result]) -> str:
    """ "unhealthy" if a critical check failed, "warning" if any other did, else "ok"."""
    if any(r.critical and r.error is not None for r in results):
        return "unhealthy"
    return "warning" if any(r.error is not None for r in results) else "ok"
