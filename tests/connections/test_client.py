"""The Xero client boundary against the sandbox: tokens, retries, idempotency, quota, records."""

from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from sync import xero
from sync.connections import crypto
from sync.connections.services import connection_fresh, session
from sync.models import ConnectionEvent, ConnectionStatus, XeroApiCall, XeroConnection
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db


def expire_access_token(connection: XeroConnection) -> None:
    """As if 28.5 minutes passed: the access token expires in 90 s.

    That is inside omni-xero's two-minute margin but outside the SDK's own 60 s one, so only
    omni-xero's refresh (with its lease) can renew it.
    """
    XeroConnection.objects.filter(pk=connection.pk).update(
        expires_at=timezone.now() + timedelta(seconds=90)
    )


def token_calls() -> int:
    return XeroApiCall.objects.filter(endpoint="/connect/token").count()


def test_a_call_records_method_endpoint_status_duration_and_quota(connection, sandbox):
    sandbox.rate_limits(enabled=True, minute=60, day=5000, concurrent=5, reset_counters=True)
    xero.contacts_page(session(connection), page=1)
    call = XeroApiCall.objects.filter(endpoint__startswith="/api.xro/2.0/Contacts").get()
    assert (call.method, call.status, call.connection_id) == ("GET", 200, connection.pk)
    assert "page=1" in call.endpoint and "includeArchived=True" in call.endpoint
    assert call.duration_ms >= 0
    assert call.minute_remaining == 59 and call.day_remaining == 4999
    connection.refresh_from_db()
    assert (connection.minute_remaining, connection.day_remaining) == (59, 4999)
    assert connection.app_minute_remaining is not None
    assert connection.quota_seen_at is not None


def test_quota_shows_on_the_dashboard(connection, sandbox, accountant_client):
    sandbox.rate_limits(enabled=True, minute=60, day=1000, reset_counters=True)
    xero.contacts_page(session(connection), page=1)
    xero.contacts_page(session(connection), page=1)
    page = accountant_client.get("/accounting/xero/sales/customers/").content.decode()
    assert "58 left this minute · 998 left today" in page


def test_tokens_are_refreshed_before_they_expire_and_rotate(connection):
    old_refresh = crypto.decrypt(connection.refresh_token_encrypted)
    expire_access_token(connection)
    before = token_calls()
    xero.contacts_page(session(connection), page=1)
    connection.refresh_from_db()
    assert token_calls() == before + 1
    assert crypto.decrypt(connection.refresh_token_encrypted) not in ("", old_refresh)
    assert connection.expires_at > timezone.now() + timedelta(minutes=25)
    assert connection.token_version == 2
    # A fresh token is not refreshed again.
    xero.contacts_page(session(connection), page=1)
    assert token_calls() == before + 1


@pytest.mark.parametrize("revoke", [True, False], ids=["rejected", "expired"])
def test_a_refresh_token_xero_refuses_marks_the_connection_for_reconnecting(
    connection, sandbox, accountant_client, revoke
):
    refresh = crypto.decrypt(connection.refresh_token_encrypted)
    sandbox.expire_tokens(refresh_token=refresh, revoke=revoke)
    expire_access_token(connection)
    with pytest.raises(xero.NeedsReconnecting, match="Reconnect to Xero"):
        xero.contacts_page(session(connection), page=1)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert "expired or was revoked" in connection.status_detail
    event = ConnectionEvent.objects.get(action="needs_reconnect")
    assert event.actor is None and "expired or was revoked" in event.detail
    # Shown on every dashboard page, and nothing was lost.
    for url in ("/accounting/xero/sales/customers/", "/accounting/xero/purchases/bills/"):
        assert "Xero needs reconnecting" in accountant_client.get(url).content.decode()
    assert XeroConnection.objects.get().tenant_id == connection.tenant_id
    with pytest.raises(xero.NeedsReconnecting):
        xero.contacts_page(session(connection), page=1)


def test_reconnecting_clears_the_needs_reconnecting_state(connection, sandbox, connect):
    XeroConnection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.NEEDS_RECONNECT, status_detail="test"
    )
    connect()
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    assert xero.contacts_page(session(connection), page=1).page == 1


def test_transient_failures_are_retried_after_growing_waits(connection, sandbox, waits):
    sandbox.fault(status=503, count=2, path="/api.xro/2.0/Contacts")
    page = xero.contacts_page(session(connection), page=1)
    assert page.page == 1
    assert len(waits) == 2 and 0.25 <= waits[0] < waits[1] <= 8.1
    statuses = list(
        XeroApiCall.objects.filter(endpoint__contains="Contacts")
        .order_by("pk")
        .values_list("status", "attempt")
    )
    assert statuses == [(503, 1), (503, 2), (200, 3)]


def test_xero_unavailable_after_the_retries_says_so(connection, sandbox, settings):
    settings.XERO_MAX_RETRIES = 1
    sandbox.fault(status=500, count=5, path="/api.xro/2.0/Contacts")
    with pytest.raises(xero.XeroUnavailable, match="nothing was lost"):
        xero.contacts_page(session(connection), page=1)
    assert XeroApiCall.objects.filter(endpoint__contains="Contacts").count() == 2


def test_a_job_sitting_out_a_long_rate_limit_keeps_its_minute_long_lease(
    connection, sandbox, waits, monkeypatch
):
    """Xero asks for 45 s, most of a job's lease: the wait goes 10 s at a time, and the job
    renews its lease between (the quota's clock moves with the waits, the lease's with the
    renewals)."""
    from sync import jobs
    from tests.factories import UploadJobFactory

    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 0.0)  # each beat renews: count them
    lease = jobs.job_claim(UploadJobFactory(connection=connection))
    renewals: list[float] = []
    renew = lease.renew
    monkeypatch.setattr(lease, "renew", lambda: (renewals.append(sum(waits)), renew())[1])
    sandbox.fault(status=429, count=1, retry_after=45, path="/api.xro/2.0/Contacts")
    with jobs.holding(lease):
        xero.contacts_page(session(connection), page=1)
    assert waits == [10.0, 10.0, 10.0, 10.0, 5.0]
    # Before each attempt and each part of the wait: never 10 s of it without a renewal.
    assert renewals == [0.0, 0.0, 10.0, 20.0, 30.0, 40.0, 45.0]


def test_a_rate_limit_is_waited_out_as_xero_asks(connection, sandbox, waits):
    sandbox.fault(status=429, count=1, retry_after=7, path="/api.xro/2.0/Contacts")
    xero.contacts_page(session(connection), page=1)
    assert waits == [7.0]
    assert list(
        XeroApiCall.objects.filter(endpoint__contains="Contacts")
        .order_by("pk")
        .values_list("status", flat=True)
    ) == [429, 200]


def test_a_long_rate_limit_wait_fails_with_the_wait(connection, sandbox, settings):
    settings.XERO_MAX_RETRY_WAIT = 5
    sandbox.fault(status=429, count=1, retry_after=3600, path="/api.xro/2.0/Contacts")
    with pytest.raises(xero.RateLimited, match="Try again in 60 minutes") as raised:
        xero.contacts_page(session(connection), page=1)
    assert raised.value.wait_seconds == 3600


def test_a_hanging_xero_times_out_and_is_retried(connection, sandbox, settings):
    settings.XERO_TIMEOUT = 0.5
    sandbox.fault(kind="hang", seconds=3, count=1, path="/api.xro/2.0/Contacts")
    assert xero.contacts_page(session(connection), page=1).page == 1
    first = XeroApiCall.objects.filter(endpoint__contains="Contacts").order_by("pk").first()
    assert first.status is None and "Timeout" in first.error


def test_a_write_retried_after_a_dropped_answer_creates_nothing_twice(connection, sandbox):
    sandbox.fault(kind="drop_after_commit", count=1, method="PUT", path="/api.xro/2.0/Contacts")
    created = xero.contacts_create(
        session(connection),
        contacts=[xero.ContactDetails(name="Bayview Cafe Ltd", email="hi@bayview.nz")],
    )
    assert [c.name for c in created] == ["Bayview Cafe Ltd"]
    in_xero = [
        c
        for c in sandbox.call("GET", f"/_sandbox/organisations/{sandbox.demo_tenant_id}/contacts")
        if c["Name"] == "Bayview Cafe Ltd"
    ]
    assert len(in_xero) == 1
    attempts = XeroApiCall.objects.filter(method="PUT").order_by("pk")
    assert [a.status for a in attempts] == [None, 200]
    assert attempts[0].idempotency_key == attempts[1].idempotency_key != ""


def test_validation_errors_carry_xeros_messages(connection):
    xero.contacts_create(session(connection), contacts=[xero.ContactDetails(name="Tui Books")])
    with pytest.raises(xero.ValidationFailed, match="already assigned to another contact") as e:
        xero.contacts_create(session(connection), contacts=[xero.ContactDetails(name="Tui Books")])
    assert e.value.errors[0].messages


def test_an_unknown_contact_is_not_found(connection):
    with pytest.raises(xero.NotFound):
        xero.contact_get(session(connection), contact_id="00000000-0000-4000-8000-000000000000")


def test_no_connection_is_a_clear_error():
    with pytest.raises(xero.NotConnected, match="not connected to Xero"):
        xero.contacts_page(session(None), page=1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_keep_the_connection(
    accountant, sandbox, xero_settings, client
):
    if db_connection.vendor != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL (CI runs this with DATABASE_URL)")
    from tests.plugins.xero import connect_with

    connection = connect_with(client, accountant, sandbox)
    expire_access_token(connection)
    failures = at_once(
        lambda: xero.contacts_page(session(XeroConnection.objects.get(pk=connection.pk)), page=1)
    )
    assert failures == []
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    assert (
        XeroApiCall.objects.filter(endpoint="/connect/token", status=200).count() == 2
    )  # code + 1
    # The saved refresh token is the newest one: it refreshes again.
    expire_access_token(connection)
    xero.contacts_page(session(connection), page=1)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE


def test_a_token_xero_refuses_early_is_refreshed_once(connection, sandbox):
    sandbox.expire_tokens(access_token=crypto.decrypt(connection.access_token_encrypted))
    before = token_calls()
    assert xero.contacts_page(session(connection), page=1).page == 1
    assert token_calls() == before + 1
    statuses = list(
        XeroApiCall.objects.filter(endpoint__contains="Contacts")
        .order_by("pk")
        .values_list("status", flat=True)
    )
    assert statuses == [401, 200]


def test_a_refresh_xero_cannot_answer_keeps_the_connection(connection, sandbox, settings):
    settings.XERO_MAX_RETRIES = 0
    expire_access_token(connection)
    sandbox.fault(status=503, count=1, path="/connect/token")
    with pytest.raises(xero.XeroUnavailable):
        xero.contacts_page(session(connection), page=1)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.refresh_lease_until is None  # the next call may refresh at once
    assert xero.contacts_page(session(connection), page=1).page == 1


def test_a_refresh_after_a_crash_uses_the_old_refresh_token_within_the_grace(connection):
    """A worker died after Xero rotated the token but before saving: the lease runs out and
    the next worker refreshes with the old token it still has, which Xero still accepts."""
    old_refresh_encrypted = connection.refresh_token_encrypted
    old_refresh = crypto.decrypt(old_refresh_encrypted)
    expire_access_token(connection)
    connection_fresh(connection)  # Xero rotates the refresh token; now pretend it was lost:
    XeroConnection.objects.filter(pk=connection.pk).update(
        refresh_token_encrypted=old_refresh_encrypted,
        expires_at=timezone.now(),
        refresh_lease_until=timezone.now() - timedelta(seconds=1),
    )
    before = token_calls()
    assert xero.contacts_page(session(connection), page=1).page == 1
    connection.refresh_from_db()
    assert token_calls() == before + 1  # refreshed with the old token, and Xero said yes
    assert connection.status == ConnectionStatus.ACTIVE
    assert crypto.decrypt(connection.refresh_token_encrypted) not in ("", old_refresh)
