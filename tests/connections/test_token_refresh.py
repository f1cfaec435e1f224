"""The contact refresh's lease: one refresh per organisation, and a killed one soon forgotten."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sync.links import mirror
from sync.links.mirror import contact_refreshes_enqueue
from sync.models import XeroApiCall, XeroConnection
from sync.tasks import refresh_xero_contacts
from tests.factories import XeroConnectionFactory

pytestmark = pytest.mark.django_db


def lease_until(connection: XeroConnection):
    connection.refresh_from_db(fields=["contacts_refresh_lease_until"])
    return connection.contacts_refresh_lease_until


def left_running(connection: XeroConnection, *, started_minutes_ago: int) -> None:
    """A refresh task the worker started, as a worker killed mid-refresh leaves it."""
    DBTaskResult.objects.all().delete()
    refresh_xero_contacts.enqueue(connection.pk)
    started = timezone.now() - timedelta(minutes=started_minutes_ago)
    DBTaskResult.objects.update(status="RUNNING", started_at=started)


def test_the_lease_outlasts_one_page_with_every_retry(settings):
    settings.XERO_TIMEOUT, settings.XERO_MAX_RETRIES, settings.XERO_MAX_RETRY_WAIT = 30, 3, 60
    # 5 attempts x (10 s to connect + 30 s to read) + 3 rate-limit waits of 60 s
    # + 2 token refreshes of 70 s + 60 s to save: under 10 minutes, not 30.
    assert mirror.refresh_lease() == timedelta(seconds=580)


def test_a_running_refresh_whose_lease_ran_out_gets_a_new_one_queued(
    django_capture_on_commit_callbacks,
):
    connection = XeroConnectionFactory(contacts_refresh_lease_until=timezone.now())
    left_running(connection, started_minutes_ago=10)  # its worker was killed: no renewals
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_refreshes_enqueue(stalled_only=True) == 1
    assert DBTaskResult.objects.filter(status="READY").count() == 1


def test_a_running_refresh_holding_its_lease_is_not_queued_again():
    lease = timezone.now() + timedelta(minutes=2)  # renewed a moment ago
    connection = XeroConnectionFactory(contacts_refresh_lease_until=lease)
    left_running(connection, started_minutes_ago=10)  # a long refresh: it pages on
    assert contact_refreshes_enqueue() == 0
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_a_refresh_renews_its_lease_after_every_page(connection, sandbox, monkeypatch):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 2100)  # three pages
    seen = []
    save = mirror.contacts_mirrored

    def save_and_note_the_lease(*, connection, contacts):
        seen.append(lease_until(connection))
        save(connection=connection, contacts=contacts)

    monkeypatch.setattr(mirror, "contacts_mirrored", save_and_note_the_lease)
    started = timezone.now()
    result = mirror.xero_contacts_refresh(connection=connection, full=True)

    assert result.api_calls == len(seen) == 3
    assert seen == sorted(set(seen))  # claimed, then renewed after the first and second page
    assert seen[0] >= started + mirror.refresh_lease()
    assert lease_until(connection) is None  # released when done


def test_a_second_refresh_while_the_lease_is_held_is_skipped(connection, sandbox):
    held = timezone.now() + timedelta(minutes=3)
    XeroConnection.objects.update(contacts_refresh_lease_until=held)
    calls = XeroApiCall.objects.count()

    result = refresh_xero_contacts.call(connection.pk)

    assert result == {"skipped": f"The Xero contacts of {connection} are being refreshed already."}
    assert XeroApiCall.objects.count() == calls  # Xero was not asked
    assert lease_until(connection) == held  # and the running refresh keeps its lease


def test_a_refresh_left_by_a_killed_worker_does_not_stop_the_next(connection, sandbox):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Summit Cycles"}])
    XeroConnection.objects.update(contacts_refresh_lease_until=timezone.now())  # ran out
    result = refresh_xero_contacts.call(connection.pk)
    assert result["received"] >= 1
    assert lease_until(connection) is None


def test_a_refresh_that_lost_its_lease_stops_at_the_next_page(connection, sandbox, monkeypatch):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 2100)
    save = mirror.contacts_mirrored

    def save_while_another_takes_over(*, connection, contacts):
        save(connection=connection, contacts=contacts)
        taken_over = timezone.now() + timedelta(minutes=5)
        XeroConnection.objects.update(contacts_refresh_lease_until=taken_over)

    monkeypatch.setattr(mirror, "contacts_mirrored", save_while_another_takes_over)
    with pytest.raises(mirror.RefreshRunning, match="took over"):
        mirror.xero_contacts_refresh(connection=connection, full=True)
    calls = XeroApiCall.objects.filter(endpoint__startswith="/api.xro/2.0/Contacts").count()
    assert calls == 1  # not a second page beside the refresh that took over
    assert lease_until(connection) is not None  # which keeps its lease


def test_the_command_names_an_organisation_being_refreshed(connection, sandbox):
    XeroConnection.objects.update(contacts_refresh_lease_until=timezone.now() + timedelta(1))
    err = StringIO()
    with pytest.raises(CommandError, match="Not refreshed"):
        call_command("refresh_xero_contacts", stdout=StringIO(), stderr=err)
    assert "are being refreshed already" in err.getvalue()
