"""Background jobs, run by the django-tasks-db worker (`manage.py db_worker`)."""

from datetime import timedelta

from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from . import mirror
from .models import ConnectionStatus, XeroConnection


@task()
def refresh_xero_contacts(connection_id: int, full: bool = False) -> dict[str, str | int | bool]:
    """Refresh one connection's mirror of Xero contacts."""
    connection = XeroConnection.objects.filter(
        pk=connection_id, status=ConnectionStatus.ACTIVE
    ).first()
    if connection is None:
        return {"skipped": "not connected"}
    result = mirror.xero_contacts_refresh(connection=connection, full=full)
    return {"api_calls": result.api_calls, "received": result.received, "full": result.full}


# A refresh "running" for longer than this was left behind by a worker that was killed.
STALE_RUN = timedelta(minutes=30)


def contact_refreshes_enqueue() -> int:
    """Queue a refresh for every connected organisation that has none queued or running."""
    from django_tasks_db.models import DBTaskResult

    pending = DBTaskResult.objects.filter(task_path=f"{__name__}.refresh_xero_contacts").filter(
        Q(status="READY") | Q(status="RUNNING", started_at__gt=timezone.now() - STALE_RUN)
    )
    busy = {
        args["args"][0]
        for args in pending.values_list("args_kwargs", flat=True)
        if args.get("args")
    }
    queued = 0
    for pk in XeroConnection.objects.filter(status=ConnectionStatus.ACTIVE).values_list(
        "pk", flat=True
    ):
        if pk not in busy:
            refresh_xero_contacts.enqueue(pk)
            queued += 1
    return queued
