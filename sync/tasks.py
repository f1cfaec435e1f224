"""Background jobs, run by the django-tasks-db worker (`manage.py db_worker`)."""

from django.tasks import task

from . import mirror
from .models import ConnectionStatus, XeroConnection


@task()
def refresh_xero_contacts(connection_id: int, full: bool = False) -> dict:
    """Refresh one connection's mirror of Xero contacts."""
    connection = XeroConnection.objects.filter(
        pk=connection_id, status=ConnectionStatus.ACTIVE
    ).first()
    if connection is None:
        return {"skipped": "not connected"}
    result = mirror.xero_contacts_refresh(connection=connection, full=full)
    return {"api_calls": result.api_calls, "received": result.received, "full": result.full}


def enqueue_contact_refreshes() -> int:
    """Queue a refresh for every connected organisation that has none queued or running."""
    from django_tasks_db.models import DBTaskResult

    busy = {
        args["args"][0]
        for args in DBTaskResult.objects.filter(
            task_path=f"{__name__}.refresh_xero_contacts", status__in=["READY", "RUNNING"]
        ).values_list("args_kwargs", flat=True)
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
