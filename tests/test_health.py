"""/health/live and /health/: what a load balancer or an orchestrator reads, with no login."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sync.models import ConnectionStatus, Heartbeat
from sync.monitoring.heartbeats import heartbeat_record
from sync.tasks import heartbeat
from tests.factories import XeroConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def beating():
    """A worker and the scheduler that beat just now."""
    heartbeat_record(kind=Heartbeat.Kind.WORKER)
    heartbeat_record(kind=Heartbeat.Kind.SCHEDULER)


def health(client, **headers):
    response = client.get("/health/", headers={"Accept": "application/json", **headers})
    return response.status_code, response.json()


def test_live_answers_ok_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert (response.status_code, response.content) == (200, b"ok")


def test_health_is_200_when_all_is_well(client, beating):
    XeroConnectionFactory()
    code, body = health(client)
    assert code == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "migrations": "ok",
        "worker": "ok",
        "scheduler": "ok",
        "xero_connections": "ok",
    }


def test_health_is_503_when_the_worker_heartbeat_is_stale(client, beating):
    Heartbeat.objects.filter(kind=Heartbeat.Kind.WORKER).update(
        at=timezone.now() - timedelta(seconds=61)
    )
    code, body = health(client)
    assert (code, body["status"], body["checks"]["worker"]["status"]) == (
        503,
        "unhealthy",
        "unavailable",
    )
    assert "the last worker heartbeat was 61 s ago" in body["checks"]["worker"]["detail"]


def test_health_is_503_when_no_worker_ever_beat(client):
    heartbeat_record(kind=Heartbeat.Kind.SCHEDULER)
    code, body = health(client)
    assert code == 503
    assert body["checks"]["worker"]["detail"] == "no worker has run the heartbeat task yet"


def test_health_is_503_when_the_scheduler_missed_two_rounds(client, beating):
    Heartbeat.objects.filter(kind=Heartbeat.Kind.SCHEDULER).update(
        at=timezone.now() - timedelta(seconds=121)
    )
    code, body = health(client)
    assert (code, body["checks"]["scheduler"]["status"]) == (503, "unavailable")


def test_health_is_503_while_a_migration_is_unapplied(client, beating):
    (latest,) = MigrationLoader(db_connection).graph.leaf_nodes("sync")
    MigrationRecorder(db_connection).record_unapplied(*latest)
    code, body = health(client)
    assert code == 503
    assert body["checks"]["migrations"]["detail"] == "1 migration(s) not applied"


def test_an_organisation_needing_reconnect_is_a_warning_by_id_not_a_failure(client, beating):
    XeroConnectionFactory(organisation_name="Tui Books")
    broken = XeroConnectionFactory(
        organisation_name="Kea Traders", status=ConnectionStatus.NEEDS_RECONNECT
    )
    response = client.get("/health/", headers={"Accept": "application/json"})
    code, body = response.status_code, response.json()
    assert (code, body["status"]) == (200, "warning")
    assert body["checks"]["xero_connections"] == {
        "status": "warning",
        "critical": False,
        "detail": f"1 of 2 organisation(s) need reconnecting (IDs {broken.pk})",
    }
    assert b"Kea" not in response.content and b"Tui" not in response.content


def test_staff_see_the_organisations_by_name(admin_client, beating):
    XeroConnectionFactory(organisation_name="Kea Traders", status=ConnectionStatus.NEEDS_RECONNECT)
    _, body = health(admin_client)
    assert "(Kea Traders)" in body["checks"]["xero_connections"]["detail"]


def test_format_json_or_a_line_per_check(client, beating):
    assert client.get("/health/?format=json").json()["status"] == "ok"
    text = client.get("/health/").content.decode()
    assert text.splitlines()[:3] == ["status: ok", "database: ok", "migrations: ok"]


def test_the_scheduler_asks_and_a_worker_answers_with_its_beat(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("schedule_xero_refresh", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert health(client)[1]["checks"]["scheduler"]["status"] == "ok"
    assert health(client)[1]["checks"]["worker"]["status"] == "unavailable"  # not run yet
    queued = DBTaskResult.objects.get(task_path="sync.tasks.heartbeat")
    assert queued.priority == 100  # ahead of a long queue: waiting is not being stuck
    heartbeat.call()  # what the worker does with it
    assert health(client) == (200, health(client)[1])
    assert health(client)[1]["checks"]["worker"]["status"] == "ok"
