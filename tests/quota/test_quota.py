"""Xero's limits shared by every process: one quota per organisation, in the database, that
every call takes a slot of; and long syncs taking turns with short ones."""

import time

import pytest
from django_tasks_db.models import DBTaskResult

from sync import tasks, xero
from sync.connections import quota
from sync.connections import services as connections
from sync.models import BranchOrganisation, SyncRun, XeroApiCall, XeroConnection, XeroQuota
from sync.syncing import runs
from sync.xero import transport
from tests.concurrency import at_once
from tests.factories import ContactFactory
from tests.syncing.test_organisations import group_customer, link_in
from tests.syncing.test_sync import linked, transaction_of
from transactions.models import SyncState, Transaction

pytestmark = pytest.mark.django_db


def call_xero(connection: XeroConnection) -> None:
    """One cheap call to Xero for the organisation, through its connection session."""
    xero.organisation_get(connections.session(connection))


def minute_used(connection: XeroConnection) -> int:
    row = XeroQuota.objects.get(connection=connection)
    return len(quota._recent(row.calls, quota.clock()))


@pytest.fixture
def real_time(monkeypatch):
    """Waits really slept, on the real clock (the sandbox's windows pass too)."""
    monkeypatch.setattr(transport, "sleep", time.sleep)
    monkeypatch.setattr(quota, "clock", time.time)


@pytest.fixture
def short_minute(settings, sandbox):
    """Xero's limits on, with a minute of 2 s (the sandbox's and omni-xero's alike)."""
    sandbox.rate_limits(enabled=True, minute=60, scale=30.0, reset_counters=True)
    settings.XERO_RATE_WINDOW_SECONDS = 2.0
    settings.XERO_MINUTE_LIMIT = 60
    time.sleep(2.0)  # connecting's calls have left the window


def test_the_budget_fills_the_minute_and_no_more(connection, sandbox, waits, later):
    later(61)  # connecting's calls have left the window
    sandbox.rate_limits(enabled=True, minute=60, reset_counters=True)

    for _ in range(60):
        call_xero(connection)

    assert waits == []  # all 60 went at once
    with pytest.raises(xero.RateLimited) as limited:
        call_xero(connection)  # a worker does not sit out the rest of the minute
    assert limited.value.problem == "minute" and 55 < limited.value.wait_seconds <= 60
    with transport.interactive(), pytest.raises(xero.RateLimited):
        call_xero(connection)
    assert not XeroApiCall.objects.filter(status=429).exists()
    assert XeroApiCall.objects.filter(endpoint__endswith="/Organisation").count() == 60 + 1

    later(61)
    call_xero(connection)  # the minute has rolled on


def test_when_xero_says_fewer_are_left_the_budget_takes_its_word(connection, sandbox, later):
    later(61)
    # Another app (or a call this budget never saw) has used 50 of the minute.
    sandbox.rate_limits(enabled=True, minute=10, reset_counters=True)

    for _ in range(10):
        call_xero(connection)
    assert minute_used(connection) == 60

    with pytest.raises(xero.RateLimited):
        call_xero(connection)
    assert not XeroApiCall.objects.filter(status=429).exists()  # never asked Xero


def test_two_processes_sharing_the_minute_never_meet_a_429(
    connection, sandbox, real_time, short_minute
):
    # Two sessions, as two workers would hold, taking turns: 150 calls, 2.5 minutes' worth.
    first, second = connections.session(connection), connections.session(connection)
    for _ in range(75):
        xero.organisation_get(first)
        xero.organisation_get(second)
        assert minute_used(connection) <= 60

    assert not XeroApiCall.objects.filter(status=429).exists()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_on_one_organisation_never_meet_a_429(
    accountant, sandbox, xero_settings, client, real_time, short_minute
):
    from tests.plugins.xero import connect_with

    connection = connect_with(client, accountant, sandbox)
    time.sleep(2.0)
    failures = at_once(lambda: [call_xero(connection) for _ in range(70)], times=2)

    assert failures == []
    assert XeroApiCall.objects.filter(endpoint__endswith="/Organisation").count() >= 140
    assert not XeroApiCall.objects.filter(status=429).exists()


def test_a_crashed_holders_call_stops_counting_as_in_flight(connection, settings, waits, later):
    later(61)
    settings.XERO_CONCURRENT_LIMIT = 2
    # Two processes took a slot each and died before Xero answered.
    quota.slot_take(connection.pk)
    quota.slot_take(connection.pk)

    with transport.interactive(), pytest.raises(xero.RateLimited) as limited:
        call_xero(connection)
    assert limited.value.problem == "concurrent"

    waits.pass_time(2 * settings.XERO_TIMEOUT + 11)  # the longest a call can take
    call_xero(connection)


def test_an_organisation_out_of_its_day_does_not_stop_anothers_run(
    connect, sandbox, accountant_client, later
):
    from tests.connections.test_connect import connect_demo_then_harbour

    connect_demo_then_harbour(connect, sandbox, accountant_client)
    demo = XeroConnection.objects.get(tenant_id=sandbox.demo_tenant_id)
    harbour = XeroConnection.objects.get(tenant_id=sandbox.harbour_tenant_id)
    later(61)
    customer = group_customer(sandbox, demo, harbour)
    BranchOrganisation.objects.create(branch="Auckland", connection=demo)
    BranchOrganisation.objects.create(branch="Wellington", connection=harbour)
    north = transaction_of(customer, number="INV-AKL-1", branch="Auckland")
    south = transaction_of(customer, number="INV-WLG-1", branch="Wellington")
    # Demo's day is used up, as another worker's last answer said.
    call_xero(demo)
    XeroQuota.objects.filter(connection=demo).update(day_left=0)

    demo_run = runs.sync_start(connection=demo, transactions=[north])
    harbour_run = runs.sync_start(connection=harbour, transactions=[south])
    demo_run = runs.sync_run(run=demo_run)
    harbour_run = runs.sync_run(run=harbour_run)

    assert demo_run.state == SyncRun.State.WAITING and "daily" in demo_run.detail
    assert harbour_run.state == SyncRun.State.DONE
    assert Transaction.objects.get(pk=south.pk).sync_state == SyncState.SYNCED
    assert Transaction.objects.get(pk=north.pk).sync_state == SyncState.READY


def work_one(django_capture_on_commit_callbacks) -> DBTaskResult | None:
    """Run the task one worker would take next, as django-tasks-db's worker chooses it."""
    result = DBTaskResult.objects.ready().first()  # in the model's order, as the worker takes
    if result is None:
        return None
    result.claim("test-worker")
    args = result.args_kwargs
    with django_capture_on_commit_callbacks(execute=True):
        result.task.func(*args["args"], **args["kwargs"])
    DBTaskResult.objects.filter(pk=result.pk).update(status="SUCCESSFUL")
    return result


def test_a_small_organisations_sync_is_not_kept_waiting_behind_a_big_one(
    connect, sandbox, accountant_client, monkeypatch, later, django_capture_on_commit_callbacks
):
    from tests.connections.test_connect import connect_demo_then_harbour

    connect_demo_then_harbour(connect, sandbox, accountant_client)
    DBTaskResult.objects.all().delete()  # connecting's mirror refreshes: not what is measured
    big = XeroConnection.objects.get(tenant_id=sandbox.demo_tenant_id)
    small = XeroConnection.objects.get(tenant_id=sandbox.harbour_tenant_id)
    later(61)
    monkeypatch.setattr(runs, "BATCH_SIZE", 2)
    monkeypatch.setattr(runs, "TIME_SLICE", 0.0)
    big_customer, small_customer = linked(big, sandbox), ContactFactory(name="Tui Ltd")
    link_in(small, sandbox, small_customer)
    BranchOrganisation.objects.create(branch="Auckland", connection=big)
    BranchOrganisation.objects.create(branch="Wellington", connection=small)
    big_txns = [transaction_of(big_customer, branch="Auckland") for _ in range(20)]
    small_txns = [transaction_of(small_customer, branch="Wellington") for _ in range(2)]

    with django_capture_on_commit_callbacks(execute=True):
        big_run = runs.sync_start(connection=big, transactions=big_txns)  # queued first
    with django_capture_on_commit_callbacks(execute=True):
        small_run = runs.sync_start(connection=small, transactions=small_txns)
    order: list[int] = []
    while (result := work_one(django_capture_on_commit_callbacks)) is not None:
        assert result.task.func is tasks.sync_continue.func
        order.append(result.args_kwargs["args"][0])

    big_run.refresh_from_db()
    small_run.refresh_from_db()
    assert big_run.state == small_run.state == SyncRun.State.DONE
    assert small_run.finished_at < big_run.finished_at
    # The big run had one turn (a batch) before the small one ran; then it went on alone.
    assert order == [big_run.pk, small_run.pk, big_run.pk]


@pytest.fixture
def three_batches(connection, sandbox, monkeypatch, later) -> list[Transaction]:
    """Three ready transactions, a batch each, of a run whose turn ends after every batch."""
    later(61)
    monkeypatch.setattr(runs, "BATCH_SIZE", 1)
    monkeypatch.setattr(runs, "TIME_SLICE", 0.0)
    DBTaskResult.objects.all().delete()
    contact = linked(connection, sandbox)
    return [transaction_of(contact) for _ in range(3)]


def test_a_long_run_goes_on_alone_when_nothing_else_waits(connection, three_batches):
    txns = three_batches

    run = runs.sync_start(connection=connection, transactions=txns)
    DBTaskResult.objects.all().delete()  # its own task is the one running
    run = runs.sync_run(run=run)

    assert run.state == SyncRun.State.DONE


def test_a_long_run_is_not_handed_back_to_its_own_queued_task(
    connection, three_batches, django_capture_on_commit_callbacks
):
    txns = three_batches

    with django_capture_on_commit_callbacks(execute=True):
        run = runs.sync_start(connection=connection, transactions=txns)
    # A second task for the same run (the sweep's, say) waits in the queue: it is no other
    # organisation's work, and the run does not give its turn up to it.
    assert DBTaskResult.objects.ready().count() == 1
    run = runs.sync_run(run=run)

    assert run.state == SyncRun.State.DONE
    assert SyncRun.objects.get(pk=run.pk).api_calls > 3  # all three batches in one turn
