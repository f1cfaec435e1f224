"""Background jobs, run by the django-tasks-db worker (`manage.py db_worker`).

Each task is a thin wrapper: it imports its service inside its body and calls it. Services
never import this module: each task registers here under its kind's name (`sync.jobs`), and
a service that needs follow-up work asks `sync.jobs.enqueue` for it by that name.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connections
from django.tasks import task
from django.tasks.base import TASK_MAX_PRIORITY

from sync import jobs
from sync.request_id import bound

# Each task takes the `request_id` of the request (or job) that queued it (sync.jobs.enqueue),
# and runs in `running`: the worker's log lines and Xero call records carry it.


@contextmanager
def running(request_id: str = "") -> Iterator[None]:
    """What every task runs in: the request ID that queued it bound, and, when the database
    went away under it (restarted, its connections cut), its connections closed before the
    error goes on to the worker. django-tasks-db records the failure on the same connection,
    and a dead one would end the worker (under honcho, every process with it); the job's
    lease runs out and the scheduler's sweep resumes it."""
    with bound(request_id):
        try:
            yield
        except DatabaseError:
            connections.close_all()
            raise


@jobs.register("contacts_refresh")
@task()
def refresh_xero_contacts(
    connection_id: int, full: bool = False, request_id: str = ""
) -> dict[str, str | int | bool]:
    """Refresh one connection's mirror of Xero contacts (noting changes Xero did not
    announce by webhook)."""
    from sync.webhooks.health import safety_net_refresh_run

    with running(request_id):
        return safety_net_refresh_run(connection_id=connection_id, full=full)


@jobs.register("upload")
@task()
def upload_continue(job_id: int, request_id: str = "") -> dict[str, str | int]:
    """Go on with an upload: the batches after the first, or after Xero's rate limit."""
    from sync.uploads.services import upload_job_continue

    with running(request_id):
        return upload_job_continue(job_id=job_id)


@jobs.register("sync")
@task()
def sync_continue(run_id: int, request_id: str = "") -> dict[str, str | int]:
    """Run (or go on with) a sync of transactions to Xero."""
    from sync.syncing.runs import sync_run_continue

    with running(request_id):
        return sync_run_continue(run_id=run_id)


@jobs.register("webhook_events")
@task()
def webhook_events(connection_id: int, request_id: str = "") -> dict[str, int | str]:
    """Act on the webhook events of one organisation not processed yet."""
    from sync.webhooks.services import webhook_events_process

    with running(request_id):
        return webhook_events_process(connection_id=connection_id)


@jobs.register("heartbeat")
@task(priority=TASK_MAX_PRIORITY)
def heartbeat(request_id: str = "") -> None:
    """Say that a worker is alive and running tasks (the scheduler queues this)."""
    from sync.models import Heartbeat
    from sync.monitoring.heartbeats import heartbeat_record

    with running():
        heartbeat_record(kind=Heartbeat.Kind.WORKER)
