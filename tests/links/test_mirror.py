"""The local mirror of Xero contacts: full and incremental refreshes, search, the task."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sync.links import mirror
from sync.links.mirror import contact_refreshes_enqueue
from sync.models import XeroApiCall, XeroConnection, XeroContact
from sync.tasks import refresh_xero_contacts

pytestmark = pytest.mark.django_db


def contacts_calls() -> int:
    return XeroApiCall.objects.filter(endpoint__startswith="/api.xro/2.0/Contacts").count()


def test_full_refresh_mirrors_every_contact_archived_ones_included(connection, sandbox):
    ids = sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [
            {"Name": "Bayview Cafe Ltd", "EmailAddress": "hi@bayview.nz", "AccountNumber": "C1"},
            {"Name": "Old Books Ltd", "ContactNumber": "OMNI-7", "TaxNumber": "12-345-678"},
        ],
    )
    sandbox.archive(ids[1])
    result = mirror.xero_contacts_refresh(connection=connection)
    assert result.full and result.api_calls == 1
    bayview = XeroContact.objects.get(contact_id=ids[0])
    assert (bayview.email, bayview.account_number, bayview.status) == (
        "hi@bayview.nz",
        "C1",
        "ACTIVE",
    )
    old = XeroContact.objects.get(contact_id=ids[1])
    assert (old.status, old.contact_number, old.tax_number) == ("ARCHIVED", "OMNI-7", "12-345-678")
    assert XeroContact.objects.count() == result.received
    connection.refresh_from_db()
    assert connection.contacts_modified_since is not None
    assert connection.contacts_refreshed_at is not None


def test_incremental_refresh_brings_only_changes(connection, sandbox):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 30)  # these do not change
    sandbox.advance_clock(2)
    first, second, survivor = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Tui Books"}, {"Name": "Tui Books (old)"},
                                 {"Name": "Kauri Coast Outfitters"}]
    )  # fmt: skip
    mirror.xero_contacts_refresh(connection=connection)
    total = XeroContact.objects.count()
    connection.refresh_from_db()

    sandbox.advance_clock(5)
    created = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Seaside Surf Shop"}])[0]
    sandbox.archive(first)
    sandbox.merge(second, survivor)
    result = mirror.xero_contacts_refresh(connection=connection)

    assert not result.full
    # The new, the archived and the merged one came back, and the survivor (changed in the
    # last second of the previous pull: If-Modified-Since has whole seconds and includes the
    # mark), but none of the 30 that did not change.
    assert result.received == 4
    assert XeroContact.objects.count() == total + 1
    assert XeroContact.objects.get(contact_id=created).status == "ACTIVE"
    assert XeroContact.objects.get(contact_id=first).status == "ARCHIVED"
    merged = XeroContact.objects.get(contact_id=second)
    assert merged.status == "ARCHIVED" and str(merged.merged_into_xero_contact_id) == survivor

    sandbox.restore(first)
    mirror.xero_contacts_refresh(connection=connection)
    assert XeroContact.objects.get(contact_id=first).status == "ACTIVE"


def test_a_full_pull_pages_a_thousand_at_a_time(connection, sandbox):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 2100)
    result = mirror.xero_contacts_refresh(connection=connection)
    assert result.api_calls == 3
    assert XeroContact.objects.count() == result.received >= 2100
    calls = XeroApiCall.objects.filter(endpoint__startswith="/api.xro/2.0/Contacts")
    assert all("pageSize=1000" in c.endpoint for c in calls)


def test_search_answers_from_the_mirror_without_calling_xero(connection, sandbox):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [{"Name": "Bayview Cafe Ltd", "EmailAddress": "accounts@bayview.nz",
          "AccountNumber": "BAY-01", "ContactNumber": "OMNI-1001", "TaxNumber": "111-222-333"},
         {"Name": "Tui Books"}],
    )  # fmt: skip
    mirror.xero_contacts_refresh(connection=connection)
    calls = XeroApiCall.objects.count()
    for text in ("bayview cafe", "ACCOUNTS@", "bay-01", "omni-1001", "222-333"):
        assert [c.name for c in XeroContact.objects.search(text)] == ["Bayview Cafe Ltd"], text
    assert XeroApiCall.objects.count() == calls


def test_refresh_task_and_command(connection, sandbox):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Summit Cycles"}])
    refresh_xero_contacts.call(connection.pk)
    assert XeroContact.objects.filter(name="Summit Cycles").exists()
    out = StringIO()
    call_command("refresh_xero_contacts", "--full", stdout=out)
    assert "API call(s), full" in out.getvalue()


def test_scheduler_queues_one_refresh_per_connection(
    connection, django_capture_on_commit_callbacks
):
    DBTaskResult.objects.all().delete()  # the connect flow queued one already
    XeroConnection.objects.update(contacts_refresh_queued_at=None)  # ... and noted it
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_refreshes_enqueue() == 1
        assert contact_refreshes_enqueue() == 0  # still queued: not queued twice
    assert DBTaskResult.objects.filter(status="READY").count() == 1


def test_refresh_button_queues_a_refresh(
    connection, accountant_client, django_capture_on_commit_callbacks
):
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        page = accountant_client.post(
            f"/accounting/xero/connections/{connection.pk}/refresh-contacts/", follow=True
        ).content.decode()
    assert "Refreshing the Xero contacts" in page
    assert DBTaskResult.objects.filter(status="READY").count() == 1


# The worker closes database connections between tasks, as a real worker process does.
@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_queued_refresh(connection, sandbox):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Raglan Board Riders"}])
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")
    assert XeroContact.objects.filter(name="Raglan Board Riders").exists()
    assert XeroConnection.objects.get().contacts_refreshed_at is not None


def test_schedule_command_queues_refreshes(connection, django_capture_on_commit_callbacks):
    DBTaskResult.objects.all().delete()
    XeroConnection.objects.update(contacts_refresh_queued_at=None)  # the connect flow's ran
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("schedule_xero_refresh", stdout=out)
    assert "Queued 1 refresh(es)." in out.getvalue()
    queued = DBTaskResult.objects.exclude(task_path="sync.tasks.heartbeat")  # /health/'s
    assert queued.get().task_path == "sync.tasks.refresh_xero_contacts"


def test_a_refresh_left_running_by_a_killed_worker_does_not_block_the_next(
    connection, django_capture_on_commit_callbacks
):
    DBTaskResult.objects.all().delete()
    XeroConnection.objects.update(contacts_refresh_queued_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        contact_refreshes_enqueue()
    # The worker started it (its lease taken, the queued note cleared), then was killed:
    # its task stays RUNNING, and its lease ran out.
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now() - timedelta(hours=2))
    XeroConnection.objects.update(
        contacts_refresh_queued_at=None,
        contacts_refresh_lease_until=timezone.now() - timedelta(seconds=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert contact_refreshes_enqueue(stalled_only=True) == 1
    assert DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_background_refresh_shows_on_the_dashboard_with_retry(
    connection, sandbox, accountant_client, settings
):
    settings.XERO_MAX_RETRIES = 0
    DBTaskResult.objects.all().delete()
    refresh_xero_contacts.enqueue(connection.pk)
    sandbox.fault(status=503, count=1, path="/api.xro/2.0/Contacts")
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")
    assert DBTaskResult.objects.get().status == "FAILED"

    page = accountant_client.get("/accounting/xero/sales/customers/").content.decode()
    assert "The last refresh of Xero contacts failed" in page
    assert "Xero did not answer in time or is unavailable right now" in page
    assert "(HTTP 503)" in page
    assert ">Retry</button>" in page
    assert "(refreshed " not in page  # no claim of a refresh that did not happen

    retried = accountant_client.post(
        f"/accounting/xero/connections/{connection.pk}/refresh-contacts/", follow=True
    )
    assert "Refreshing the Xero contacts" in retried.content.decode()
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")
    page = accountant_client.get("/accounting/xero/sales/customers/").content.decode()
    assert "The last refresh of Xero contacts failed" not in page
    assert "(refreshed " in page


def test_an_unexpected_error_in_a_refresh_is_shown_too(connection, monkeypatch, accountant_client):
    def broken(*args, **kwargs):
        raise KeyError("Contacts")

    monkeypatch.setattr("sync.links.mirror.xero.contact_pages", broken)
    with pytest.raises(KeyError):
        refresh_xero_contacts.call(connection.pk)
    page = accountant_client.get("/accounting/xero/sales/customers/").content.decode()
    assert "omni-xero hit an unexpected error (KeyError)" in page


def test_no_retry_button_on_a_connection_that_is_not_ready(connection, accountant_client):
    XeroConnection.objects.filter(pk=connection.pk).update(
        status="pending", contacts_refresh_failed_at=timezone.now(), contacts_refresh_error="x"
    )
    page = accountant_client.get("/accounting/xero/sales/customers/").content.decode()
    assert "The last refresh of Xero contacts failed" in page
    assert ">Retry</button>" not in page
