"""make serve's long-running processes go on when PostgreSQL cuts their connections (a
restart, `pg_terminate_backend`): the scheduler's loop, and a task worker whose task was
cut mid-way. Under honcho, one that ended would stop every other process with it (found by
bench/soak.py)."""

import logging
import threading

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from sync import tasks
from sync.management.commands import schedule_xero_refresh as scheduler
from sync.models import XeroConnection
from sync.webhooks import services as webhooks

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


class Rounds(threading.Event):
    """The loop's stop event, with no sleeping between its steps."""

    made: list["Rounds"] = []

    def __init__(self) -> None:
        super().__init__()
        Rounds.made.append(self)

    def wait(self, timeout: float | None = None) -> bool:
        return self.is_set()


def cut_own_connection() -> int:
    """What `pg_terminate_backend` does to every process of make serve at once, done to this
    process's connection (from another): its backend's pid."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    return pid


def test_the_scheduler_loop_goes_on_after_postgresql_cuts_its_connection(monkeypatch, caplog):
    resumed = []
    real_resume = scheduler.jobs_resume

    def jobs_resume():
        connection.ensure_connection()
        resumed.append(connection.connection.info.backend_pid)
        if len(resumed) == 1:
            cut_own_connection()
        else:
            Rounds.made[-1].set()  # stop after this round
        return real_resume()

    monkeypatch.setattr(scheduler, "jobs_resume", jobs_resume)
    monkeypatch.setattr(scheduler.threading, "Event", Rounds)
    monkeypatch.setattr(scheduler.signal, "signal", lambda *args: None)
    with caplog.at_level(logging.ERROR, logger=scheduler.__name__):
        call_command("schedule_xero_refresh", "--loop")

    assert len(resumed) == 2  # the round after the cut ran, on a new connection
    assert resumed[1] != resumed[0]
    assert "database was not there" in caplog.text


def test_a_worker_whose_task_lost_its_connection_records_the_failure_and_goes_on(monkeypatch):
    real_process = webhooks.webhook_events_process

    def cut_mid_task(*, connection_id):
        if connection_id == 1:
            cut_own_connection()
            XeroConnection.objects.count()  # the task's next query finds it gone
        return real_process(connection_id=connection_id)

    monkeypatch.setattr(webhooks, "webhook_events_process", cut_mid_task)
    cut = tasks.webhook_events.enqueue(1)
    after = tasks.webhook_events.enqueue(0)  # an organisation not connected: done at once

    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")

    statuses = {str(pk): status for pk, status in DBTaskResult.objects.values_list("id", "status")}
    assert statuses[cut.id] == "FAILED"
    assert statuses[after.id] == "SUCCESSFUL"  # the same worker went on
