"""Request IDs and structured logs: every request has an ID, returned in X-Request-ID, carried
by its JSON log lines, its Xero API call records and the jobs it starts (and their tasks)."""

import io
import json
import logging
import uuid

import pytest
from django_tasks_db.models import DBTaskResult

from omni_xero.logs import JsonFormatter
from sync.models import SyncRun, XeroApiCall
from sync.request_id import bound
from sync.tasks import sync_continue
from tests.plugins.xero import back_to_app, consent
from tests.syncing.test_sync import linked, transaction_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the configured console handler writes, one line per record."""
    (console,) = [h for h in logging.getLogger().handlers if h.name == "console"]
    out = io.StringIO()
    previous = console.setStream(out)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    console.setStream(previous)


def test_a_request_gets_a_new_id_in_its_response_header(client):
    first, second = client.get("/health/live"), client.get("/health/live")
    assert uuid.UUID(first["X-Request-ID"]) != uuid.UUID(second["X-Request-ID"])


def test_a_sane_incoming_id_is_kept_and_an_insane_one_replaced(client):
    kept = client.get("/health/live", headers={"X-Request-ID": "lb-7f3a.1"})
    assert kept["X-Request-ID"] == "lb-7f3a.1"
    replaced = client.get("/health/live", headers={"X-Request-ID": "bad id\x7f<script>"})
    assert uuid.UUID(replaced["X-Request-ID"])


def test_the_requests_id_is_in_its_json_log_line(client, log_lines):
    client.get("/no/such/page/", headers={"X-Request-ID": "trace-404"})
    (line,) = [entry for entry in log_lines() if entry["logger"] == "django.request"]
    assert line == {
        "time": line["time"],
        "level": "WARNING",
        "logger": "django.request",
        "message": "Not Found: /no/such/page/",
        "request_id": "trace-404",
    }


def test_a_json_line_carries_the_traceback_as_a_string():
    record = logging.LogRecord("sync", logging.ERROR, __file__, 1, "it broke", None, None)
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    with bound("job-1"):
        entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "job-1"
    assert entry["exc_info"].startswith("Traceback") and "ValueError: boom" in entry["exc_info"]


def test_the_xero_calls_a_request_makes_carry_its_id(
    accountant_client, sandbox, xero_settings, django_capture_on_commit_callbacks
):
    start = accountant_client.post("/accounting/xero/connect/")
    with django_capture_on_commit_callbacks(execute=False):
        accountant_client.get(
            back_to_app(consent(sandbox, start.url)), headers={"X-Request-ID": "connect-42"}
        )
    calls = XeroApiCall.objects.all()
    assert calls.exists()
    assert set(calls.values_list("request_id", flat=True)) == {"connect-42"}


def test_the_sync_a_request_starts_and_its_worker_carry_the_requests_id(
    connection, sandbox, accountant_client, django_capture_on_commit_callbacks, log_lines
):
    invoice = transaction_of(linked(connection, sandbox))
    XeroApiCall.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = accountant_client.post(
            "/accounting/xero/sales/invoices/action/",
            {"action": "upload", "transaction": [invoice.pk]},
            headers={"X-Request-ID": "sync-req-9"},
        )
    assert response["X-Request-ID"] == "sync-req-9"
    run = SyncRun.objects.get()
    assert run.request_id == "sync-req-9"
    queued = DBTaskResult.objects.get(task_path="sync.tasks.sync_continue")
    assert queued.args_kwargs["kwargs"] == {"request_id": "sync-req-9"}

    # The worker runs it as the queue says: its Xero calls and log lines carry the ID.
    sync_continue.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    assert set(XeroApiCall.objects.values_list("request_id", flat=True)) == {"sync-req-9"}
    logging.getLogger("sync.syncing").info("worker says")
    assert {"request_id": "", "message": "worker says"}.items() <= log_lines()[-1].items()


def test_the_worker_log_leaves_out_the_heartbeat_but_keeps_real_tasks_each_once(
    log_lines, monkeypatch
):
    tasks = logging.getLogger("django.tasks")
    # As a worker run at its default verbosity sets it (a quiet one, earlier in the suite,
    # may have left it at CRITICAL).
    monkeypatch.setattr(tasks, "level", tasks.level)  # put back afterwards
    tasks.setLevel(logging.INFO)  # (setLevel also clears the logger's cache)
    tasks.info("Task id=%s path=%s state=%s", "1", "sync.tasks.heartbeat", "SUCCESSFUL")
    tasks.info("Task id=%s path=%s state=%s", "2", "sync.tasks.upload_continue", "SUCCESSFUL")

    lines = [line["message"] for line in log_lines()]
    assert lines == ["Task id=2 path=sync.tasks.upload_continue state=SUCCESSFUL"]
    # Once each: Django's loggers write through this handler alone (Django's own console
    # handler, with DEBUG on, would print every line again, unformatted).
    django = logging.getLogger("django")
    consoles = [h.name for h in django.handlers if type(h) is logging.StreamHandler]
    assert consoles == ["console"] and not django.propagate  # (pytest adds its own)
