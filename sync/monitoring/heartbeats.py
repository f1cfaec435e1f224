"""The scheduler's and the workers' heartbeats: the scheduler records its own round and queues
a tiny task, and whichever worker runs it records that it did (django-tasks-db's worker has
no hooks of its own)."""

import os
import socket
from datetime import timedelta

from django.db.models import Max
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sync import jobs
from sync.models import Heartbeat

# Between the scheduler's rounds that resume stalled work and start the automatic syncs due.
TICK_SECONDS = 60
# How often the scheduler queues the heartbeat task (between its rounds too).
WORKER_BEAT_SECONDS = 20
# A worker beat older than this: no worker ran a task queued at least 40 s earlier.
WORKER_STALE_AFTER = timedelta(seconds=60)
# Rows of processes gone this long are forgotten (every restart is a new process).
FORGOTTEN_AFTER = timedelta(days=1)
# The heartbeat task's own finished results are deleted after this: three a minute would
# otherwise fill django-tasks-db's table.
RESULTS_KEPT = timedelta(hours=1)
TASK_PATH = "sync.tasks.heartbeat"


def _process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_record(*, kind: str) -> None:
    """This process is alive now."""
    Heartbeat.objects.update_or_create(
        process=f"{kind} {_process()}", defaults={"kind": kind, "at": timezone.now()}
    )


def worker_beat_request() -> None:
    """Queue the heartbeat task for the next free worker (ahead of other work: a long queue
    is not a stuck worker)."""
    jobs.enqueue("heartbeat")


def scheduler_tick() -> None:
    """The scheduler's round began: record it, ask a worker for its beat, and forget what is
    old (processes gone, the heartbeat task's finished results)."""
    heartbeat_record(kind=Heartbeat.Kind.SCHEDULER)
    worker_beat_request()
    now = timezone.now()
    Heartbeat.objects.filter(at__lt=now - FORGOTTEN_AFTER).delete()
    DBTaskResult.objects.filter(task_path=TASK_PATH, finished_at__lt=now - RESULTS_KEPT).delete()


def ages() -> dict[str, timedelta]:
    """How long ago the freshest process of each kind beat, for the kinds that ever did (one
    query)."""
    now = timezone.now()
    found = Heartbeat.objects.order_by().values_list("kind").annotate(latest=Max("at"))
    return {kind: now - at for kind, at in found}


def latest(kind: str) -> timedelta | None:
    """How long ago the freshest process of this kind beat; None if none ever did."""
    return ages().get(kind)
