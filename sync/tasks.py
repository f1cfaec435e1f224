"""Background jobs, run by the django-tasks-db worker (`manage.py db_worker`)."""

from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from . import mirror, runs, uploads
from .models import ConnectionStatus, SyncRun, UploadJob, XeroConnection


@task()
def refresh_xero_contacts(connection_id: int, full: bool = False) -> dict[str, str | int | bool]:
    """Refresh one connection's mirror of Xero contacts."""
    connection = XeroConnection.objects.filter(
        pk=connection_id, status=ConnectionStatus.ACTIVE
    ).first()
    if connection is None:
        return {"skipped": "not connected"}
    try:
        result = mirror.xero_contacts_refresh(connection=connection, full=full)
    except mirror.RefreshRunning as running:
        # Not a failure: the refresh already running brings the mirror up to date.
        return {"skipped": str(running)}
    return {"api_calls": result.api_calls, "received": result.received, "full": result.full}


@task()
def upload_continue(job_id: int) -> dict[str, str | int]:
    """Go on with an upload: the batches after the first, or after Xero's rate limit."""
    job = UploadJob.objects.filter(pk=job_id).first()
    if job is None:
        return {"skipped": "no such upload"}
    job = uploads.upload_job_run(job=job)
    return {"state": job.state, "rows": job.rows.count()}


@task()
def sync_continue(run_id: int) -> dict[str, str | int]:
    """Run (or go on with) a sync of transactions to Xero."""
    run = SyncRun.objects.filter(pk=run_id).first()
    if run is None:
        return {"skipped": "no such sync"}
    run = runs.sync_run(run=run)
    return {"state": run.state, "items": run.items.count()}


def contact_refreshes_enqueue() -> int:
    """Queue a refresh for every connected organisation that has none queued or running."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    # django-tasks-db has no heartbeat: a worker killed mid-refresh leaves its result RUNNING
    # for ever. A refresh runs while it holds its connection's lease (renewed after every
    # page), or for a lease's length after it started (before it has claimed one); after
    # that a RUNNING result is taken for dead, and a new refresh is queued.
    pending = DBTaskResult.objects.filter(task_path=f"{__name__}.refresh_xero_contacts").filter(
        Q(status="READY") | Q(status="RUNNING", started_at__gt=now - mirror.refresh_lease())
    )
    busy = {
        args["args"][0]
        for args in pending.values_list("args_kwargs", flat=True)
        if args.get("args")
    }
    busy |= set(
        XeroConnection.objects.filter(contacts_refresh_lease_until__gt=now).values_list(
            "pk", flat=True
        )
    )
    queued = 0
    for pk in XeroConnection.objects.filter(status=ConnectionStatus.ACTIVE).values_list(
        "pk", flat=True
    ):
        if pk not in busy:
            refresh_xero_contacts.enqueue(pk)
            queued += 1
    return queued
