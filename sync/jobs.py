"""The job engine under every background job: leases, claims, continuations, the resume sweep.

Uploads (`UploadJob`), syncs (`SyncRun`), the mirror refresh and the token refresh all hold
their work the same way: a `Lease`, a time in one column of one row, claimed with one
conditional UPDATE whose row count says who won, renewed while the holder works, released
when it stops, and free to take over once it has run out (its holder died). A job model
(`Job`, and `JobItem` for its items) keeps its lease in `lease_until`; `job_claim` makes a
worker its one runner, `job_continue` hands it to a task for later, `job_finish` ends it.

Services never import `sync.tasks`: a task registers itself here under a kind's name
(`register`), and a service asks for follow-up work by that name (`enqueue`). Every enqueue
waits for the transaction to commit, so a task never starts before the row it reads exists.

A worker killed mid-job leaves its lease to run out (a job's is a minute long, renewed as it
works: `holding`, `keep_alive`), and its task RUNNING in django-tasks-db for ever. The job
rows alone say what is stalled (`job_alive`): the scheduler's sweep (`jobs_resume`) queues a
continuation for each stalled job, whatever the task table says.
"""

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.tasks import Task
from django.utils import timezone

from sync import request_id

QUEUED, RUNNING, WAITING, DONE, STOPPED = "queued", "running", "waiting", "done", "stopped"
ACTIVE = [QUEUED, RUNNING, WAITING]
FINISHED = [DONE, STOPPED]
# Renewing a lease costs an UPDATE: a heartbeat renews at most this often (seconds).
HEARTBEAT_EVERY = 10.0


class LeaseLost(Exception):
    """Another worker took over the lease (it had run out): this one stops and lets it be."""


class Lease:
    """One worker's hold on one row, by a time in one of its columns.

    The time it runs until tells the holder's lease from a successor's: renewing and
    releasing touch the row only while it still holds that time.
    """

    def __init__(
        self, model: type[models.Model], pk: Any, field: str, until: datetime, length: timedelta
    ):
        self.model, self.pk, self.field, self.until, self.length = model, pk, field, until, length
        self._renewed = time.monotonic()

    @classmethod
    def claim(
        cls,
        model: type[models.Model],
        pk: Any,
        *,
        field: str,
        length: timedelta,
        where: Q | None = None,
        **changes: Any,
    ) -> "Lease | None":
        """The row's lease if it is free (never held, released, or run out), else None.

        A conditional UPDATE, not a row lock, as no transaction may stay open across the
        calls to Xero the holder makes: of two workers claiming together, exactly one
        updates the row. `changes` are saved in the same UPDATE.
        """
        now = timezone.now()
        until = now + length
        free = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now})
        rows = model._default_manager.filter(free, pk=pk)
        if where is not None:
            rows = rows.filter(where)
        if rows.update(**{field: until}, **changes) != 1:
            return None
        return cls(model, pk, field, until, length)

    def held(self) -> "QuerySet[Any]":
        """The row, while this lease still holds it."""
        return self.model._default_manager.filter(pk=self.pk, **{self.field: self.until})

    def renew(self, **changes: Any) -> None:
        """Hold the row for another lease's length; raises LeaseLost if it was taken over
        (a holder that stalled past its lease stops rather than run beside its successor)."""
        until = timezone.now() + self.length
        if not self.held().update(**{self.field: until}, **changes):
            raise LeaseLost(f"{self.model._meta.verbose_name} {self.pk} was taken over")
        self.until = until
        self._renewed = time.monotonic()

    def beat(self) -> None:
        """Renew, at most once every HEARTBEAT_EVERY seconds (jobs' keep_alive)."""
        if time.monotonic() - self._renewed >= HEARTBEAT_EVERY:
            self.renew()

    def release(self, **changes: Any) -> bool:
        """Let the row go, saving `changes` with it; False if it was no longer held."""
        return bool(self.held().update(**{self.field: None}, **changes))


# --- Kinds of job, and their tasks -------------------------------------------------------------

_TaskT = TypeVar("_TaskT", bound=Task[Any, Any])
_TASKS: dict[str, Task[Any, Any]] = {}
_JOB_MODELS: dict[str, type["Job"]] = {}
_FINISH_LISTENERS: list[Callable[["Job"], object]] = []


def register(kind: str) -> Callable[[_TaskT], _TaskT]:
    """Make a task the one that carries on jobs of `kind` (sync.tasks registers them). It
    takes a `request_id` keyword, which `enqueue` fills in and the task binds."""

    def add(task: _TaskT) -> _TaskT:
        _TASKS[kind] = task
        return task

    return add


def enqueue(kind: str, *args: Any, at: datetime | None = None) -> None:
    """Queue the task of `kind` once the current transaction commits (at once outside one):
    a worker quicker than the commit would find nothing to do, or rows not yet there."""
    task = _TASKS[kind]
    planned = task.using(run_after=at) if at is not None else task
    # The request (or job) asking for the work: the worker's log lines for it carry its ID.
    asked_by = request_id.current()
    transaction.on_commit(lambda: planned.enqueue(*args, request_id=asked_by))


def registered_models() -> dict[str, type["Job"]]:
    """Every kind of job, and its model."""
    return dict(_JOB_MODELS)


def on_finish(listener: Callable[["Job"], object]) -> Callable[["Job"], object]:
    """Have `listener` called with every job that ends, of any kind, in the transaction that
    ends it (sync.notifications tells the person who started it)."""
    _FINISH_LISTENERS.append(listener)
    return listener


# --- Jobs --------------------------------------------------------------------------------------


class Job(models.Model):
    """What every background job has: its state, its lease, when it goes on, and how it went.

    A job is *running* while a worker holds its lease (renewed as it works), or while it is
    handed to a queued task (`job_continue`: no lease, `resume_at` set); *waiting* until
    `resume_at` (Xero's rate limit); *queued* for its turn. A subclass sets `KIND` (its task
    registers under it) and `LEASE`, and overrides `state` with choices labelled its way.
    """

    KIND: ClassVar[str]
    # Longer than anything the holder does between two renewals: it renews (keep_alive)
    # before every attempt of a call to Xero and every few seconds of a wait between
    # attempts, at most HEARTBEAT_EVERY apart, so the longest step is one attempt (10 s to
    # connect, XERO_TIMEOUT's 30 to read). Short, so that a killed worker's job is taken
    # over within a minute or so (the scheduler's next round after it runs out).
    LEASE: ClassVar[timedelta] = timedelta(seconds=60)
    # A continuation queued this long ago and not started was lost (its task row deleted):
    # the sweep queues another. Not the lease: a long queue (many organisations, few
    # workers) must not make the sweep queue each waiting job again every minute.
    TASK_LOST_AFTER: ClassVar[timedelta] = timedelta(minutes=10)

    state = models.CharField(max_length=16, default=QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    resume_at = models.DateTimeField(
        null=True, blank=True, help_text="When it goes on (its continuation is due)."
    )
    lease_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A worker running it renews this; past it, the worker is taken for dead.",
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When its worker last said it was alive."
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text="How many times a worker took it on."
    )
    detail = models.CharField(max_length=500, blank=True, help_text="Why it waits or stopped.")
    request_id = models.CharField(
        max_length=request_id.MAX_LENGTH,
        blank=True,
        default=request_id.current,
        editable=False,
        help_text="The request that started it (X-Request-ID): its log lines carry it.",
    )

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "KIND" in cls.__dict__:
            _JOB_MODELS[cls.KIND] = cls

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE

    def outcome_counts(self) -> dict[str, Any]:
        """Its items counted by outcome, as numbers (JSON), for whoever is told it ended."""
        return {}


class JobItem(models.Model):
    """What every item of a job has: its state, and until when its sender holds it.

    An item claimed for sending holds the job's lease time (`claimed_until`): when the job
    is taken over, its items left sending by the dead worker have run out with it.
    """

    state = models.CharField(max_length=16, default=QUEUED)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


_J = TypeVar("_J", bound=Job)


def _stalled(now: datetime, grace: timedelta) -> Q:
    """Active, held by no live worker, and no continuation due lately: its worker died, or
    its task was lost. The one rule `job_alive` and the sweep both ask."""
    unheld = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    undue = Q(resume_at__isnull=True) | Q(resume_at__lt=now - grace)
    return Q(state__in=ACTIVE) & unheld & undue


def job_alive(job: Job) -> bool:
    """Whether someone carries the job on without the sweep's help: a worker holding its
    lease, or a continuation due (waiting for its time, or queued lately). A finished job is
    not alive."""
    model = type(job)
    return (
        model._default_manager.filter(pk=job.pk, state__in=ACTIVE)
        .exclude(_stalled(timezone.now(), model.TASK_LOST_AFTER))
        .exists()
    )


def job_claim(job: Job) -> Lease | None:
    """Make this worker the job's one runner, or None if it may not run now: finished,
    held by a live worker, waiting for a time still to come, or refused by a constraint on
    running jobs (one sync per organisation). A lease run out is taken over."""
    now = timezone.now()
    model = type(job)
    due = Q(state__in=[QUEUED, RUNNING]) | Q(
        Q(resume_at__isnull=True) | Q(resume_at__lte=now), state=WAITING
    )
    try:
        with transaction.atomic():
            return Lease.claim(
                model,
                job.pk,
                field="lease_until",
                length=model.LEASE,
                where=due,
                state=RUNNING,
                heartbeat_at=now,
                resume_at=None,
                detail="",
                attempts=F("attempts") + 1,
                started_at=Coalesce("started_at", Value(now, output_field=models.DateTimeField())),
            )
    except IntegrityError:
        return None


def job_heartbeat(lease: Lease) -> None:
    """Renew the job's lease now (between batches): the worker is alive."""
    lease.renew(heartbeat_at=timezone.now())


# The lease of the job this worker (thread) is running, for keep_alive.
_held: contextvars.ContextVar[Lease | None] = contextvars.ContextVar("held", default=None)


@contextlib.contextmanager
def holding(lease: Lease) -> Iterator[Lease]:
    """Run a job's work holding its lease: inside, `keep_alive` renews it."""
    token = _held.set(lease)
    try:
        yield lease
    finally:
        _held.reset(token)


def keep_alive() -> None:
    """Renew the lease of the job being run here (`holding`), at most every
    HEARTBEAT_EVERY seconds; nothing outside a job. The connection's session calls it before
    every attempt of every call to Xero and during the waits between attempts, so no single
    step outlasts Job.LEASE, however long the job. Raises LeaseLost if another worker took
    the job over (this one stalled past its lease)."""
    lease = _held.get()
    if lease is not None:
        lease.beat()


def job_continue(lease: Lease, *, at: datetime | None = None, **changes: Any) -> None:
    """Hand the job to its task: now (more to do), or at `at` (state "waiting" unless
    `changes` say otherwise). Without the lease (taken over) nothing is changed."""
    model = lease.model
    assert issubclass(model, Job)
    changes.setdefault("state", WAITING if at is not None else RUNNING)
    if lease.release(resume_at=at or timezone.now(), **changes):
        enqueue(model.KIND, lease.pk, at=at)


def others_waiting(lease: Lease) -> bool:
    """Whether tasks of other jobs are queued and due, waiting for a worker: a long job
    hands itself back (`job_continue`) to take turns with them. django-tasks-db gives its
    workers the due task of highest priority, then the earliest `run_after`, then the first
    queued: a job handed back now goes behind those already waiting. The job's own tasks
    (one queued again for it meanwhile, by the sweep or by the run before it) are nobody
    else waiting: handing back to them would only cost it a turn in the queue."""
    from django_tasks_db.models import DBTaskResult

    model = lease.model
    assert issubclass(model, Job)
    own = DBTaskResult.objects.filter(
        task_path=_TASKS[model.KIND].module_path, args_kwargs__args=[lease.pk]
    )
    return DBTaskResult.objects.ready().exclude(pk__in=own.values("pk")).exists()


def job_finish(lease: Lease, *, state: str, **changes: Any) -> bool:
    """End the job (done or stopped) and let its lease go: the one place every job ends.
    The `on_finish` listeners hear of it, in the same transaction, only if this worker still
    held it (a job taken over is ended by its new holder, once)."""
    with transaction.atomic():
        if not lease.release(state=state, finished_at=timezone.now(), **changes):
            return False
        if _FINISH_LISTENERS:
            job = lease.model._default_manager.get(pk=lease.pk)
            assert isinstance(job, Job)
            for listener in _FINISH_LISTENERS:
                listener(job)
    return True


def job_queue(job: Job, *, at: datetime | None = None) -> None:
    """Queue a job no worker holds (new, or next in line), stamping when it is due so the
    sweep leaves it alone meanwhile."""
    model = type(job)
    model._default_manager.filter(pk=job.pk).update(resume_at=at or timezone.now())
    enqueue(model.KIND, job.pk, at=at)


def jobs_resume() -> dict[str, int]:
    """Queue a continuation for every stalled job of every kind (the scheduler calls this
    with each round). How many of each kind, by the model's plural name.

    Each is stamped due with a conditional UPDATE first: two sweeps at once queue it once,
    and the next round leaves it alone for a lease's length while its task waits in line.
    """
    now = timezone.now()
    resumed: dict[str, int] = {}
    for kind, model in _JOB_MODELS.items():
        stalled = model._default_manager.filter(_stalled(now, model.TASK_LOST_AFTER))
        count = 0
        for pk, started_by in stalled.order_by("created_at", "pk").values_list("pk", "request_id"):
            if stalled.filter(pk=pk).update(resume_at=now):
                # Its continuation's log lines carry the ID of the request that started it.
                with request_id.bound(started_by):
                    enqueue(kind, pk)
                count += 1
        resumed[str(model._meta.verbose_name_plural)] = count
    return resumed


# --- Items -------------------------------------------------------------------------------------


def items_claim(
    items: "QuerySet[Any]", *, lease: Lease, limit: int, sending: str = "sending"
) -> list[Any]:
    """Up to `limit` of these queued items, claimed for sending under the job's lease with a
    conditional UPDATE (an item another worker took meanwhile is not taken twice). The job
    lease is renewed first, so the items hold a full lease's time."""
    lease.renew()
    ids = list(items.filter(state=QUEUED).order_by("pk").values_list("pk", flat=True)[:limit])
    items.filter(pk__in=ids, state=QUEUED).update(
        state=sending, claimed_until=lease.until, updated_at=timezone.now()
    )
    return list(items.filter(pk__in=ids, state=sending, claimed_until=lease.until))


def items_reclaim(items: "QuerySet[Any]", *, sending: str = "sending") -> int:
    """Put back in the queue the items a dead worker left sending (their claim ran out with
    its lease); how many."""
    stale = Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now())
    return items.filter(stale, state=sending).update(state=QUEUED, claimed_until=None)
