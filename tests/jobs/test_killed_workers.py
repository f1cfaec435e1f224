"""The job engine: a worker killed mid-job of each kind, then another started, finishes it;
two workers racing for one job, one claims it. Killed workers are what django-tasks-db
leaves of them: the task RUNNING for ever, the lease left to run out."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sync import jobs, tasks, xero
from sync.links import mirror, services
from sync.models import (
    ContactLink,
    LinkMethod,
    SyncItem,
    SyncRun,
    UploadJob,
    UploadRow,
    XeroApiCall,
    XeroConnection,
    XeroContact,
)
from sync.syncing import runs
from sync.uploads import services as uploads
from tests.concurrency import at_once
from tests.factories import ContactFactory, LineItemFactory, TransactionFactory
from tests.plugins.xero import connect_with
from transactions.models import SyncState, Transaction

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


class WorkerKilled(BaseException):
    """The worker process dies here (a BaseException: nothing in the app catches it)."""


# The worker's own loop would record a task that raised as failed: the tasks are called as
# it calls them, and their rows left as a killed worker leaves them (left_for_dead).
def killed_after(monkeypatch, module, name: str, *, calls: int = 1) -> None:
    """The worker dies right after the `calls`-th call of module.name has done its work."""
    real = getattr(module, name)
    made: list[int] = []

    def then_die(*args, **kwargs):
        result = real(*args, **kwargs)
        made.append(1)
        if len(made) == calls:
            raise WorkerKilled
        return result

    monkeypatch.setattr(module, name, then_die)


def left_for_dead(task_name: str, *models_and_fields) -> None:
    """What a killed worker leaves: its task RUNNING in django-tasks-db (it has no heartbeat),
    and, once a lease's length has gone by, its lease run out. (A raised exception runs the
    `finally` blocks a kill skips, so the lease is set as the kill leaves it.)"""
    DBTaskResult.objects.filter(task_path=f"sync.tasks.{task_name}").update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=1)
    )
    ran_out = timezone.now() - timedelta(seconds=1)
    for rows, field in models_and_fields:
        rows.update(**{field: ran_out})


def another_worker_starts() -> str:
    """A scheduler round, then a worker running what is queued; the scheduler's output."""
    out = StringIO()
    call_command("schedule_xero_refresh", stdout=out)
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")
    return out.getvalue()


def sandbox_contacts(sandbox) -> list[dict]:
    return sandbox.call("GET", f"/_sandbox/organisations/{sandbox.demo_tenant_id}/contacts")


@pytest.fixture
def connection(accountant, sandbox, xero_settings, client) -> XeroConnection:
    connection = connect_with(client, accountant, sandbox)
    call_command("db_worker", "--batch", "--no-startup-delay", "-v", "0")  # its first refresh
    return connection


def test_an_upload_whose_worker_was_killed_mid_batch_is_finished_by_the_next_worker(
    connection, sandbox, monkeypatch
):
    contacts = [ContactFactory(name=f"Kiwi Traders {n:03d}") for n in range(150)]
    job = uploads.contacts_upload(connection=connection, contacts=contacts, user=None)
    # The second batch reached Xero, and the worker was killed before recording it.
    killed_after(monkeypatch, xero, "contacts_create_each")
    with pytest.raises(WorkerKilled):
        tasks.upload_continue.call(job.pk)
    monkeypatch.undo()
    states = list(job.rows.values_list("state", flat=True))
    assert (states.count("done"), states.count("sending"), states.count("queued")) == (50, 50, 50)
    assert len(sandbox_contacts(sandbox)) == 100 and ContactLink.objects.count() == 50
    left_for_dead(
        "upload_continue",
        (UploadJob.objects, "lease_until"),
        (UploadRow.objects.filter(state="sending"), "claimed_until"),
    )
    job.refresh_from_db()
    assert job.state == UploadJob.State.RUNNING and not jobs.job_alive(job)

    out = another_worker_starts()

    assert "Resumed 1 stalled upload jobs." in out
    job.refresh_from_db()
    assert job.state == UploadJob.State.DONE
    assert set(job.rows.values_list("state", flat=True)) == {UploadRow.State.DONE}
    names = sorted(c["Name"] for c in sandbox_contacts(sandbox))
    assert names == sorted(c.name for c in contacts)  # the 50 sent before the kill: once each
    assert ContactLink.objects.count() == 150


def invoices_ready(connection, sandbox, count):
    """`count` invoices of a contact linked to a Xero contact, ready to sync."""
    contact = ContactFactory(name="Tasman Timber")
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": contact.name}])
    services.contact_link(
        contact=contact,
        connection=connection,
        xero_contact_id=xero_id,
        xero_name=contact.name,
        method=LinkMethod.EXISTING,
        user=None,
    )
    txns = []
    for n in range(count):
        txn = TransactionFactory(contact=contact, number=f"INV-9{n:03d}")
        LineItemFactory(
            transaction=txn, quantity=Decimal("1"), unit_price=Decimal("10.00"),
            account_code="200", tax_type="OUTPUT2",
        )  # fmt: skip
        txns.append(txn)
    return txns


def test_a_sync_whose_worker_was_killed_mid_batch_is_finished_by_the_next_worker(
    connection, sandbox, monkeypatch
):
    txns = invoices_ready(connection, sandbox, 120)
    run = runs.sync_start(connection=connection, transactions=txns)
    killed_after(monkeypatch, xero, "documents_save", calls=2)  # 100 sent, 50 recorded
    with pytest.raises(WorkerKilled):
        tasks.sync_continue.call(run.pk)
    monkeypatch.undo()
    assert run.items.filter(state=SyncItem.State.SENDING).count() == 50
    left_for_dead("sync_continue", (SyncRun.objects, "lease_until"))
    run.refresh_from_db()
    assert run.state == SyncRun.State.RUNNING and not jobs.job_alive(run)

    out = another_worker_starts()

    assert "Resumed 1 stalled sync runs." in out
    run.refresh_from_db()
    assert run.state == SyncRun.State.DONE
    synced = Transaction.objects.filter(pk__in=[t.pk for t in txns])
    assert set(synced.values_list("sync_state", flat=True)) == {SyncState.SYNCED}
    numbers = sorted(d["InvoiceNumber"] for d in sandbox.documents(sandbox.demo_tenant_id))
    assert numbers == sorted(t.number for t in txns)  # one copy each


class _MinuteOn:
    """The job engine's clock, a lease's length and a second on from now."""

    def now(self):
        return timezone.now() + SyncRun.LEASE + timedelta(seconds=1)


def test_a_killed_workers_sync_is_taken_over_once_its_minute_long_lease_runs_out(
    connection, sandbox, monkeypatch
):
    """Nothing sets the lease back here: it runs out by itself, a minute after the dead
    worker last renewed it, and the next scheduler round then hands the run on."""
    txns = invoices_ready(connection, sandbox, 120)
    run = runs.sync_start(connection=connection, transactions=txns)
    killed_after(monkeypatch, xero, "documents_save", calls=2)  # 100 sent, 50 recorded
    with pytest.raises(WorkerKilled):
        tasks.sync_continue.call(run.pk)
    killed_at = timezone.now()
    monkeypatch.undo()
    left_for_dead("sync_continue")  # its task RUNNING for ever; its lease as it left it
    run.refresh_from_db()
    # Within a minute of the kill (the 10 minutes it used to be would fail here).
    assert killed_at < run.lease_until <= killed_at + timedelta(minutes=1)

    # Until the lease runs out the run counts as alive: a round takes nothing over.
    assert "Resumed" not in another_worker_starts()
    run.refresh_from_db()
    assert run.state == SyncRun.State.RUNNING and run.items.filter(state="sending").count() == 50

    monkeypatch.setattr(jobs, "timezone", _MinuteOn())
    assert not jobs.job_alive(run)
    out = another_worker_starts()

    assert "Resumed 1 stalled sync runs." in out
    run.refresh_from_db()
    assert run.state == SyncRun.State.DONE and run.attempts == 2
    synced = Transaction.objects.filter(pk__in=[t.pk for t in txns])
    assert set(synced.values_list("sync_state", flat=True)) == {SyncState.SYNCED}
    numbers = sorted(d["InvoiceNumber"] for d in sandbox.documents(sandbox.demo_tenant_id))
    assert numbers == sorted(t.number for t in txns)  # one copy each


def test_a_mirror_refresh_whose_worker_was_killed_is_done_again_by_the_next_worker(
    connection, sandbox, monkeypatch
):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 2100)  # three pages
    XeroConnection.objects.update(contacts_modified_since=None)
    mirror.contacts_refresh_queue(connection=connection, full=True)
    killed_after(monkeypatch, mirror, "contacts_mirrored")  # after the first page
    with pytest.raises(WorkerKilled):
        tasks.refresh_xero_contacts.call(connection.pk, True)
    monkeypatch.undo()
    assert XeroContact.objects.count() < len(sandbox_contacts(sandbox)) - 1000
    left_for_dead("refresh_xero_contacts", (XeroConnection.objects, "contacts_refresh_lease_until"))
    XeroConnection.objects.update(contacts_refreshed_at=None)

    out = another_worker_starts()

    assert "Queued 1 refresh(es)." in out
    assert XeroContact.objects.count() == len(sandbox_contacts(sandbox)) == 2100
    connection.refresh_from_db()
    assert connection.contacts_refreshed_at is not None
    assert connection.contacts_refresh_lease_until is None


def test_a_token_refresh_whose_worker_was_killed_is_done_by_the_next_worker(
    connection, sandbox, monkeypatch
):
    XeroConnection.objects.update(expires_at=timezone.now())  # due for a refresh
    version = XeroConnection.objects.get().token_version
    mirror.contacts_refresh_queue(connection=connection)
    # Xero answered the refresh, and the worker died before saving the new tokens.
    killed_after(monkeypatch, xero, "tokens_refresh")
    with pytest.raises(WorkerKilled):
        tasks.refresh_xero_contacts.call(connection.pk)
    monkeypatch.undo()
    assert XeroConnection.objects.get().token_version == version  # not saved
    # Killed, the refresh holds both its leases until they run out (the raised exception
    # let them go, as a kill does not).
    left_for_dead(
        "refresh_xero_contacts",
        (XeroConnection.objects, "refresh_lease_until"),
        (XeroConnection.objects, "contacts_refresh_lease_until"),
    )
    XeroConnection.objects.update(contacts_refresh_queued_at=None)
    refreshes = XeroApiCall.objects.filter(endpoint="/connect/token").count()

    another_worker_starts()

    connection.refresh_from_db()
    assert connection.status == "active" and connection.token_version == version + 1
    assert connection.expires_at > timezone.now() + timedelta(minutes=5)
    assert connection.refresh_lease_until is None
    # Refreshed again with the old refresh token, which Xero still accepts after rotating.
    assert XeroApiCall.objects.filter(endpoint="/connect/token").count() == refreshes + 1
    assert connection.contacts_refreshed_at is not None


def test_of_workers_racing_for_one_job_exactly_one_claims_it(connection):
    job = UploadJob.objects.create(connection=connection)
    leases: list[jobs.Lease | None] = []

    failures = at_once(lambda: leases.append(jobs.job_claim(job)), times=4)

    assert failures == []
    claimed = [lease for lease in leases if lease is not None]
    assert len(leases) == 4 and len(claimed) == 1
    job.refresh_from_db()
    assert job.attempts == 1 and job.lease_until == claimed[0].until
    assert jobs.job_alive(job)


def test_of_workers_racing_for_one_expired_lease_exactly_one_takes_it_over(connection):
    job = UploadJob.objects.create(
        connection=connection, lease_until=timezone.now() - timedelta(seconds=1)
    )
    leases: list[jobs.Lease | None] = []

    failures = at_once(lambda: leases.append(jobs.job_claim(job)), times=4)

    assert failures == []
    assert len([lease for lease in leases if lease is not None]) == 1
