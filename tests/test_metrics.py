"""/metrics: Prometheus's text format, read from the database at scrape time."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from sync.models import SyncRun
from sync.tasks import sync_continue, upload_continue
from tests.factories import SyncRunFactory, XeroApiCallFactory, XeroConnectionFactory

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_queue_depth_per_task(client):
    sync_continue.enqueue(1)
    sync_continue.enqueue(2)
    upload_continue.enqueue(3)
    found = scrape(client)
    assert found[("omni_xero_queue_depth", (("task", "sync.tasks.sync_continue"),))] == 2
    assert found[("omni_xero_queue_depth", (("task", "sync.tasks.upload_continue"),))] == 1


def test_xero_calls_and_429s_per_organisation_over_the_last_hour(client):
    busy, quiet = XeroConnectionFactory(), XeroConnectionFactory()
    XeroApiCallFactory.create_batch(3, connection=busy)
    XeroApiCallFactory.create_batch(2, connection=busy, status=429)
    XeroApiCallFactory(connection=quiet)
    old = XeroApiCallFactory(connection=quiet, status=429)
    type(old).objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(hours=2))
    found = scrape(client)
    labels = {org: (("organisation", str(org.pk)),) for org in (busy, quiet)}
    assert found[("omni_xero_xero_calls_last_hour", labels[busy])] == 5
    assert found[("omni_xero_xero_rate_limited_last_hour", labels[busy])] == 2
    assert found[("omni_xero_xero_calls_last_hour", labels[quiet])] == 1
    assert found[("omni_xero_xero_rate_limited_last_hour", labels[quiet])] == 0


def test_quota_left_per_organisation_by_id_never_by_name(client):
    org = XeroConnectionFactory(
        organisation_name="Tui Books", minute_remaining=17, day_remaining=4321
    )
    response = client.get("/metrics")
    assert b"Tui" not in response.content
    found = scrape(client)
    assert found[("omni_xero_xero_minute_remaining", (("organisation", str(org.pk)),))] == 17
    assert found[("omni_xero_xero_day_remaining", (("organisation", str(org.pk)),))] == 4321


def test_job_durations_of_the_last_hour(client):
    now = timezone.now()
    for seconds in (3, 40):
        SyncRunFactory(started_at=now - timedelta(seconds=seconds), finished_at=now)
    SyncRunFactory(state=SyncRun.State.RUNNING, started_at=now)
    found = scrape(client)
    kind = (("kind", "sync"),)
    assert found[("omni_xero_job_duration_seconds_count", kind)] == 2
    assert found[("omni_xero_job_duration_seconds_sum", kind)] == pytest.approx(43)
    assert found[("omni_xero_job_duration_seconds_bucket", (("kind", "sync"), ("le", "5.0")))] == 1
    assert found[("omni_xero_jobs_active", kind)] == 1


def test_a_scrape_is_a_few_aggregate_queries_however_many_rows(
    client, django_assert_max_num_queries
):
    for _ in range(5):
        org = XeroConnectionFactory(minute_remaining=50)
        XeroApiCallFactory.create_batch(4, connection=org)
        SyncRunFactory(connection=org, started_at=timezone.now(), finished_at=timezone.now())
    # queue depth; per kind of job (2): durations, active; calls; connections; heartbeats
    with django_assert_max_num_queries(8):
        client.get("/metrics")


def test_with_a_token_only_the_bearer_gets_in(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert right.status_code == 200


def test_without_a_token_only_internal_addresses_get_in(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="8.8.8.8").status_code == 403


def test_behind_a_proxy_the_callers_address_decides(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    outside = client.get("/metrics", REMOTE_ADDR="10.0.0.1", headers={"X-Forwarded-For": "8.8.8.8"})
    assert outside.status_code == 403


# --- HTTP requests -----------------------------------------------------------------------------


def requests_of(found, view: str, method: str = "GET", status: str = "2xx") -> float:
    labels = (("method", method), ("status", status), ("view", view))
    return found.get(("omni_xero_http_requests_total", labels), 0)


def test_requests_are_counted_by_view_method_and_status_class(client, accountant_client):
    before = scrape(client)
    accountant_client.get("/health/live")
    accountant_client.get("/health/live")
    client.get("/no/such/page/")
    found = scrape(client)
    assert requests_of(found, "health_live") - requests_of(before, "health_live") == 2
    unresolved = requests_of(found, "<unresolved>", status="4xx")
    assert unresolved - requests_of(before, "<unresolved>", status="4xx") == 1
    timed = (
        "omni_xero_http_request_duration_seconds_count",
        (("method", "GET"), ("view", "health_live")),
    )
    assert found[timed] - before.get(timed, 0) == 2


def test_a_view_with_an_id_in_its_path_is_one_series_not_one_per_id(client, admin_client):
    from tests.factories import ContactFactory

    first, second = ContactFactory(), ContactFactory()
    for contact in (first, second):
        admin_client.get(f"/admin/contacts/contact/{contact.pk}/change/")
    page = client.get("/metrics").content.decode()
    assert f"/{first.pk}/" not in page and f"/{second.pk}/" not in page
    found = scrape(client)
    assert requests_of(found, "admin:contacts_contact_change") >= 2


def test_with_a_multiprocess_folder_every_process_s_requests_are_added_up(
    client, tmp_path, monkeypatch
):
    count = (
        "from sync.monitoring.requests import REQUESTS; "
        "REQUESTS.labels('dashboard', 'GET', '2xx').inc(3)"
    )
    for _ in range(2):  # two gunicorn workers, each its own process and file
        subprocess.run(
            [sys.executable, "-c", count],
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)},
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert requests_of(scrape(client), "dashboard") == 6
