"""Background jobs, run by the django-tasks-db worker (`manage.py db_worker`).

Each task is a thin wrapper: it imports its service inside its body and calls it. Services
never import this module: each task registers here under its kind's name (`sync.jobs`), and
a service that needs follow-up work asks `sync.jobs.enqueue` for it by that name.
"""

from django.tasks import task

from sync import jobs


@jobs.register("contacts_refresh")
@task()
def refresh_xero_contacts(connection_id: int, full: bool = False) -> dict[str, str | int | bool]:
    """Refresh one connection's mirror of Xero contacts (noting changes Xero did not
    announce by webhook)."""
    from sync.webhooks.health import safety_net_refresh_run

    return safety_net_refresh_run(connection_id=connection_id, full=full)


@jobs.register("upload")
@task()
def upload_continue(job_id: int) -> dict[str, str | int]:
    """Go on with an upload: the batches after the first, or after Xero's rate limit."""
    from sync.uploads.services import upload_job_continue

    return upload_job_continue(job_id=job_id)


@jobs.register("sync")
@task()
def sync_continue(run_id: int) -> dict[str, str | int]:
    """Run (or go on with) a sync of transactions to Xero."""
    from sync.syncing.runs import sync_run_continue

    return sync_run_continue(run_id=run_id)


@jobs.register("webhook_events")
@task()
def webhook_events(connection_id: int) -> dict[str, int | str]:
    """Act on the webhook events of one organisation not processed yet."""
    from sync.webhooks.services import webhook_events_process

    return webhook_events_process(connection_id=connection_id)
