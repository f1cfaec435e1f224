"""The scheduler's loop (`schedule_xero_refresh --loop`, one of make serve's processes) goes
on when PostgreSQL cuts its connection: under honcho, a scheduler that ended would stop
every other process with it (found by bench/soak.py)."""

import logging
import threading

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from sync.management.commands import schedule_xero_refresh as scheduler

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


class Rounds(threading.Event):
    """The loop's stop event, with no sleeping between its steps."""

    made: list["Rounds"] = []

    def __init__(self) -> None:
        super().__init__()
        Rounds.made.append(self)

    def wait(self, timeout: float | None = None) -> bool:
        return self.is_set()


def test_the_scheduler_loop_goes_on_after_postgresql_cuts_its_connection(monkeypatch, caplog):
    resumed = []
    real_resume = scheduler.jobs_resume

    def jobs_resume():
        resumed.append(connection.connection.info.backend_pid if connection.connection else 0)
        if len(resumed) == 1:
            # What `pg_terminate_backend` does to every process of make serve at once.
            settings = connection.settings_dict
            with psycopg.connect(
                host=settings["HOST"] or "127.0.0.1",
                port=settings["PORT"] or 5432,
                user=settings["USER"],
                dbname=settings["NAME"],
                autocommit=True,
            ) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [resumed[0]])
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
