"""Syncing transactions: refused when their contact cannot go, sent exactly once otherwise;
against the sandbox, through the real SDK."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection as db_connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from sync import jobs, xero
from sync.links import services
from sync.models import (
    AccountMapping,
    ChartAccount,
    ContactLink,
    LinkMethod,
    SyncItem,
    SyncRun,
    SyncSettings,
    TaxRate,
    XeroApiCall,
    XeroConnection,
)
from sync.syncing import refusals as documents
from sync.syncing import runs
from tests.concurrency import at_once
from tests.factories import (
    ContactFactory,
    LineItemFactory,
    SupplierFactory,
    TransactionFactory,
    UserFactory,
)
from transactions.models import SyncState, Transaction, TransactionType

pytestmark = pytest.mark.django_db


def linked(connection: XeroConnection, sandbox, contact=None, **fields):
    """An Omni contact linked to a new contact in the sandbox's Xero."""
    contact = contact or ContactFactory(**fields)
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": contact.name}])
    services.contact_link(
        contact=contact,
        connection=connection,
        xero_contact_id=xero_id,
        xero_name=contact.name,
        method=LinkMethod.EXISTING,
        user=None,
    )
    return contact


def transaction_of(contact, type=TransactionType.SALES_INVOICE, **fields):
    sales = type in (TransactionType.SALES_INVOICE, TransactionType.SALES_CREDIT_NOTE)
    txn = TransactionFactory(contact=contact, type=type, **fields)
    LineItemFactory(
        transaction=txn,
        quantity=Decimal("3"),
        unit_price=Decimal("10.00"),
        account_code="200" if sales else "310",
        tax_type="OUTPUT2" if sales else "INPUT2",
    )
    return txn


def sync(connection, transactions, user=None) -> SyncRun:
    run = runs.sync_start(connection=connection, transactions=transactions, user=user)
    assert run is not None, "nothing to sync"
    return runs.sync_run(run=run)


def when_due(run: SyncRun) -> SyncRun:
    """The run, its wait over (as the worker finds it once the time has come)."""
    SyncRun.objects.filter(pk=run.pk).update(resume_at=timezone.now())
    return run


def posts(collection: str = "") -> list[XeroApiCall]:
    return list(
        XeroApiCall.objects.filter(method="POST", endpoint__contains=f"/api.xro/2.0/{collection}")
        .exclude(endpoint__contains="/Contacts")
        .order_by("pk")
    )


def in_xero(sandbox, table: str = "invoices") -> list[dict]:
    return sandbox.documents(sandbox.demo_tenant_id, table)


def states(*transactions: Transaction) -> list[str]:
    return [Transaction.objects.get(pk=t.pk).sync_state for t in transactions]


# --- The rules ---------------------------------------------------------------------------------


def test_each_transaction_type_becomes_its_xero_document(connection, sandbox, accountant):
    customer = linked(connection, sandbox)
    supplier = linked(connection, sandbox, SupplierFactory())
    sales = transaction_of(customer, number="INV-9001")
    credit = transaction_of(customer, TransactionType.SALES_CREDIT_NOTE, number="CN-9001")
    bill = transaction_of(supplier, TransactionType.SUPPLIER_INVOICE, number="BILL-9001")
    supplier_credit = transaction_of(
        supplier, TransactionType.SUPPLIER_CREDIT_NOTE, number="SCN-9001"
    )
    order = transaction_of(supplier, TransactionType.PURCHASE_ORDER, number="PO-9001")

    run = sync(connection, [sales, credit, bill, supplier_credit, order], accountant)

    assert run.state == SyncRun.State.DONE
    assert states(sales, credit, bill, supplier_credit, order) == [SyncState.SYNCED] * 5
    invoices = {d["InvoiceNumber"]: d for d in in_xero(sandbox)}
    assert invoices["INV-9001"]["Type"] == "ACCREC"
    assert invoices["BILL-9001"]["Type"] == "ACCPAY"
    credit_notes = {d["CreditNoteNumber"]: d["Type"] for d in in_xero(sandbox, "creditnotes")}
    assert credit_notes == {"CN-9001": "ACCRECCREDIT", "SCN-9001": "ACCPAYCREDIT"}
    (po,) = in_xero(sandbox, "purchaseorders")
    assert po["PurchaseOrderNumber"] == "PO-9001"
    sales.refresh_from_db()
    assert str(sales.xero_id) == invoices["INV-9001"]["InvoiceID"]
    assert sales.xero_number == "INV-9001"
    # 3 x 10.00 at 15% GST: Xero's total is Omni's.
    assert Decimal(str(invoices["INV-9001"]["Total"])) == sales.totals.total == Decimal("34.50")
    assert invoices["INV-9001"]["Contact"]["ContactID"] == str(
        ContactLink.objects.get(contact=customer).xero_contact_id
    )
    # One write per kind of document, each per element.
    assert len(posts()) == 3
    assert all("summarizeErrors=False" in c.endpoint for c in posts())
    assert all(c.idempotency_key.startswith("omni-xero-sync-") for c in posts())


def test_an_unlinked_contacts_transactions_are_refused_and_nothing_is_sent(connection, sandbox):
    contact = ContactFactory(name="Kea Outfitters")
    txn = transaction_of(contact)

    run = sync(connection, [txn])

    item = run.items.get()
    assert item.state == SyncItem.State.REFUSED
    assert item.refusal == SyncItem.Refusal.UNLINKED
    # What is stored says why; where to link it is said and linked where it is shown.
    assert item.message == "Kea Outfitters isn't linked to a Xero contact."
    assert posts() == [] and in_xero(sandbox) == []
    txn.refresh_from_db()
    assert txn.sync_state == SyncState.REFUSED and txn.last_error == item.message
    # Still to sync: the next Upload all ready takes it again.
    assert Transaction.objects.ready_to_sync().filter(pk=txn.pk).exists()


def test_a_contact_archived_in_xero_since_linking_is_caught_before_sending(connection, sandbox):
    contact = linked(connection, sandbox, name="Moa Motors")
    txn = transaction_of(contact)
    sandbox.archive(str(ContactLink.objects.get(contact=contact).xero_contact_id))

    run = sync(connection, [txn])

    item = run.items.get()
    assert (item.state, item.refusal) == (SyncItem.State.REFUSED, SyncItem.Refusal.INVALID_LINK)
    assert "Moa Motors is archived in Xero. Restore it in Xero" in item.message
    assert posts() == [] and in_xero(sandbox) == []
    assert not ContactLink.objects.get(contact=contact).is_valid


def test_a_merged_contacts_refusal_names_the_survivor(connection, sandbox):
    contact = linked(connection, sandbox, name="Tuatara Tools")
    (survivor,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Tuatara Tools Ltd"}])
    sandbox.merge(str(ContactLink.objects.get(contact=contact).xero_contact_id), into=survivor)

    run = sync(connection, [transaction_of(contact)])

    message = run.items.get().message
    assert "Tuatara Tools was merged into Tuatara Tools Ltd in Xero" in message
    assert "Relink to Tuatara Tools Ltd" in message
    assert posts() == []


def archive_before_the_first_send(monkeypatch, sandbox, contact) -> None:
    """The contact is archived in Xero after the run's checks, just before its first POST."""
    save = xero.documents_save
    archived: list[bool] = []

    def archive_then_save(*args, **kwargs):
        if not archived:
            archived.append(True)
            sandbox.archive(str(ContactLink.objects.get(contact=contact).xero_contact_id))
        return save(*args, **kwargs)

    monkeypatch.setattr(xero, "documents_save", archive_then_save)


def test_archived_between_the_check_and_the_send_invalidates_the_link_on_the_spot(
    connection, sandbox, monkeypatch
):
    contact = linked(connection, sandbox, name="Pukeko Paints")
    first, second = transaction_of(contact), transaction_of(contact)
    monkeypatch.setattr(runs, "BATCH_SIZE", 1)
    archive_before_the_first_send(monkeypatch, sandbox, contact)

    run = sync(connection, [first, second])

    assert states(first, second) == [SyncState.REFUSED, SyncState.REFUSED]
    assert not ContactLink.objects.get(contact=contact).is_valid
    # Xero refused the first; the second was refused here, without being sent.
    assert len(posts()) == 1
    assert all("archived" in i.message for i in run.items.all())


def test_lines_with_an_unknown_account_or_tax_type_are_refused_with_the_reason(connection, sandbox):
    contact = linked(connection, sandbox)
    bad_tax = transaction_of(contact)
    bad_tax.lines.update(tax_type="ZERORATEDOUTPUT")
    AccountMapping.objects.create(
        connection=connection,
        transaction_type=TransactionType.SALES_CREDIT_NOTE,
        account_code="999",
    )
    bad_account = transaction_of(contact, TransactionType.SALES_CREDIT_NOTE)

    run = sync(connection, [bad_tax, bad_account])

    messages = {i.transaction_id: (i.refusal, i.message) for i in run.items.all()}
    assert messages[bad_tax.pk][0] == SyncItem.Refusal.TAX
    assert "Tax type 'ZERORATEDOUTPUT'" in messages[bad_tax.pk][1]
    assert messages[bad_account.pk][0] == SyncItem.Refusal.ACCOUNT
    assert "Account code '999'" in messages[bad_account.pk][1]
    assert posts() == []


def test_an_archived_account_is_refused(connection, sandbox):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact)
    run = runs.sync_start(connection=connection, transactions=[txn])
    session = runs.PacedSession(runs.connections.session(connection))
    documents.settings_refresh(connection=run.connection, session=session)
    ChartAccount.objects.filter(connection=connection, code="200").update(status="ARCHIVED")

    refusal = documents.Rules(connection).refusal(txn)

    assert refusal is not None and refusal.code == SyncItem.Refusal.ACCOUNT
    assert "200 Sales" in refusal.message and "archived in Xero" in refusal.message


def test_fetching_again_takes_xeros_accounts_and_tax_rates_as_they_are_now(connection, sandbox):
    session = runs.PacedSession(runs.connections.session(connection))
    documents.settings_refresh(connection=connection, session=session)
    accounts = set(ChartAccount.objects.values_list("code", "name", "status"))
    rates = set(TaxRate.objects.values_list("tax_type", "status"))
    # What was kept goes stale: an account archived, one renamed, one Xero no longer has.
    ChartAccount.objects.filter(connection=connection, code="200").update(status="ARCHIVED")
    ChartAccount.objects.filter(connection=connection, code="260").update(name="Old name")
    ChartAccount.objects.create(
        connection=connection, account_id=uuid.uuid4(), code="999", name="Gone", type="REVENUE"
    )
    TaxRate.objects.filter(connection=connection, tax_type="OUTPUT2").update(status="DELETED")

    documents.settings_refresh(connection=connection, session=session)

    assert set(ChartAccount.objects.values_list("code", "name", "status")) == accounts
    assert set(TaxRate.objects.values_list("tax_type", "status")) == rates


def test_the_mapping_and_the_document_status_setting_are_what_xero_gets(connection, sandbox):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-7001")
    AccountMapping.objects.create(
        connection=connection,
        transaction_type=TransactionType.SALES_INVOICE,
        account_code="260",
        tax_type="NONE",
    )
    SyncSettings.objects.create(connection=connection, document_status="AUTHORISED")

    sync(connection, [txn])

    (invoice,) = in_xero(sandbox)
    assert invoice["Status"] == "AUTHORISED"
    assert (invoice["LineItems"][0]["AccountCode"], invoice["LineItems"][0]["TaxType"]) == (
        "260",
        "NONE",
    )


def test_one_bad_document_in_a_batch_fails_alone(connection, sandbox):
    contact = linked(connection, sandbox)
    good, taken, other = (transaction_of(contact, number=f"INV-80{n}") for n in range(3))
    # Xero already has an invoice numbered like the second: it refuses that one only.
    runs_session = runs.connections.session(connection)
    upload = documents.Rules(connection).upload(taken)
    xero.documents_save(
        runs_session, kind=upload.kind, documents=[upload], idempotency_key="seeded-elsewhere"
    )

    run = sync(connection, [good, taken, other])

    assert states(good, taken, other) == [SyncState.SYNCED, SyncState.FAILED, SyncState.SYNCED]
    failed = run.items.get(transaction=taken)
    assert failed.message == "Xero refused it: Invoice # must be unique."
    assert len(posts()) == 2  # the seeding one, and one for the batch of three


# --- Exactly once ------------------------------------------------------------------------------


def test_a_connection_dropped_after_xero_committed_leaves_one_copy(connection, sandbox):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-6001")
    sandbox.fault(kind="drop_after_commit", path="/api.xro/2.0/Invoices", method="POST")

    run = sync(connection, [txn])

    assert run.state == SyncRun.State.DONE
    assert [d["InvoiceNumber"] for d in in_xero(sandbox)] == ["INV-6001"]
    txn.refresh_from_db()
    assert txn.sync_state == SyncState.SYNCED
    assert str(txn.xero_id) == in_xero(sandbox)[0]["InvoiceID"]


def test_an_unanswered_batch_is_looked_up_before_it_is_sent_again(connection, sandbox):
    contact = linked(connection, sandbox)
    sent, other = transaction_of(contact, number="INV-6101"), transaction_of(contact)
    # Every attempt is committed and its answer lost: the outcome stays unknown.
    sandbox.fault(kind="drop_after_commit", path="/api.xro/2.0/Invoices", method="POST", count=9)

    run = sync(connection, [sent, other])

    assert run.state == SyncRun.State.WAITING
    assert set(run.items.values_list("state", flat=True)) == {SyncItem.State.SENDING}
    assert states(sent, other) == [SyncState.READY, SyncState.READY]
    sandbox.clear_faults()
    writes_before = len(posts())

    run = runs.sync_run(run=when_due(run))

    assert run.state == SyncRun.State.DONE
    assert states(sent, other) == [SyncState.SYNCED, SyncState.SYNCED]
    assert len(posts()) == writes_before  # found by their numbers, not sent again
    assert sorted(d["InvoiceNumber"] for d in in_xero(sandbox)) == sorted(
        [sent.number, other.number]
    )


def test_a_worker_killed_mid_run_resumes_and_sends_nothing_twice(
    connection, sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    contact = linked(connection, sandbox)
    monkeypatch.setattr(runs, "BATCH_SIZE", 2)
    txns = [transaction_of(contact, number=f"INV-62{n:02d}") for n in range(5)]
    save = xero.documents_save

    def save_then_die(*args, **kwargs):
        save(*args, **kwargs)
        raise KeyboardInterrupt  # the worker is killed after Xero committed the batch

    monkeypatch.setattr(xero, "documents_save", save_then_die)
    run = runs.sync_start(connection=connection, transactions=txns)
    with pytest.raises(KeyboardInterrupt):
        runs.sync_run(run=run)
    monkeypatch.setattr(xero, "documents_save", save)
    # Each transaction is synced with its Xero ID, or still ready.
    assert set(states(*txns)) == {SyncState.READY}
    SyncRun.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    # The killed worker's task stays RUNNING for ever (django-tasks-db has no heartbeat).
    DBTaskResult.objects.filter(task_path="sync.tasks.sync_continue").update(status="RUNNING")

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.jobs_resume()["sync runs"] == 1
    assert DBTaskResult.objects.filter(task_path="sync.tasks.sync_continue", status="READY")
    run = runs.sync_run(run=run)

    assert run.state == SyncRun.State.DONE
    assert set(states(*txns)) == {SyncState.SYNCED}
    numbers = sorted(d["InvoiceNumber"] for d in in_xero(sandbox))
    assert numbers == sorted(t.number for t in txns)  # one copy each


def test_a_storm_of_server_errors_is_ridden_out(connection, sandbox, waits):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact)
    sandbox.fault(status=500, count=3, path="/api.xro/2.0/Invoices", method="POST")

    run = sync(connection, [txn])

    assert run.state == SyncRun.State.DONE and states(txn) == [SyncState.SYNCED]
    assert len(waits) >= 3
    assert len(in_xero(sandbox)) == 1


def test_a_storm_of_429s_waits_for_each_retry_after(connection, sandbox, waits):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact)
    sandbox.fault(status=429, retry_after=7, count=3, path="/api.xro/2.0/Invoices", method="POST")

    run = sync(connection, [txn])

    assert run.state == SyncRun.State.DONE and states(txn) == [SyncState.SYNCED]
    assert waits.count(7) == 3
    assert run.rate_limited == 3
    assert len(in_xero(sandbox)) == 1


def test_the_daily_limit_pauses_the_run_which_goes_on_later(
    connection, sandbox, django_capture_on_commit_callbacks, later
):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact)
    # Today's calls so far, and room for the 3 checks only: the document finds none left.
    sandbox.rate_limits(enabled=True, reset_counters=True, day=3)

    with django_capture_on_commit_callbacks(execute=True):
        run = sync(connection, [txn])

    assert run.state == SyncRun.State.WAITING
    assert "daily call limit" in run.detail
    assert run.resume_at is not None and run.resume_at > timezone.now() + timedelta(minutes=59)
    assert states(txn) == [SyncState.READY]
    assert run.items.get().state == SyncItem.State.QUEUED
    assert run.day_remaining == 0
    queued = DBTaskResult.objects.filter(task_path="sync.tasks.sync_continue").last()
    assert queued is not None and queued.run_after is not None
    assert posts() == []  # it stopped before the call Xero would have refused

    sandbox.rate_limits(reset_counters=True, day=None)  # a day later
    later(3600)
    run = runs.sync_run(run=when_due(run))

    assert run.state == SyncRun.State.DONE and states(txn) == [SyncState.SYNCED]


def test_the_pace_keeps_within_the_minute_limit(connection, sandbox, monkeypatch, later):
    sandbox.rate_limits(enabled=True, minute=3)
    contact = linked(connection, sandbox)
    txns = [transaction_of(contact) for _ in range(3)]
    monkeypatch.setattr(runs, "BATCH_SIZE", 1)
    later(61)  # connecting's calls have left the window

    run = sync(connection, txns)
    turns = 1
    while run.state == SyncRun.State.WAITING:
        # Xero said the minute was used up: the run waits for it without holding a worker.
        assert "per-minute" in run.detail
        later((run.resume_at - timezone.now()).total_seconds())
        run = runs.sync_run(run=when_due(run))
        turns += 1

    assert run.state == SyncRun.State.DONE
    # 6 calls against a limit of 3 a minute: the run waited for calls to leave the window
    # instead of being refused by Xero.
    assert (run.api_calls, run.rate_limited) == (6, 0)
    assert turns > 1


def test_a_second_sync_of_the_organisation_waits_its_turn(
    connection, sandbox, django_capture_on_commit_callbacks
):
    contact = linked(connection, sandbox)
    first_txn, second_txn = transaction_of(contact), transaction_of(contact)
    first = runs.sync_start(connection=connection, transactions=[first_txn])
    SyncRun.objects.filter(pk=first.pk).update(
        state=SyncRun.State.RUNNING, lease_until=timezone.now() + timedelta(minutes=5)
    )
    second = runs.sync_start(connection=connection, transactions=[second_txn])

    second = runs.sync_run(run=second)

    assert second.state == SyncRun.State.QUEUED  # joined the queue
    assert posts() == []
    SyncRun.objects.filter(pk=first.pk).update(state=SyncRun.State.QUEUED, lease_until=None)
    with django_capture_on_commit_callbacks(execute=True):
        runs.sync_run(run=first)
    second.refresh_from_db()
    assert second.state == SyncRun.State.QUEUED
    assert DBTaskResult.objects.filter(
        task_path="sync.tasks.sync_continue", args_kwargs__args=[second.pk]
    ).exists()
    assert runs.sync_run(run=second).state == SyncRun.State.DONE


def test_a_transaction_in_a_run_under_way_is_not_queued_twice(connection, sandbox):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact)
    runs.sync_start(connection=connection, transactions=[txn])
    second = runs.sync_start(connection=connection, transactions=[txn])
    assert second is None
    assert SyncRun.objects.count() == 1  # the log shows no empty run


def test_an_automatic_sync_with_failures_emails_the_admins(connection, sandbox):
    UserFactory(username="root", is_superuser=True, email="root@example.nz")
    transaction_of(ContactFactory(name="Weka Wines"))
    SyncSettings.objects.create(connection=connection, autosync="hourly")

    assert runs.autosyncs_start() == 1
    assert runs.autosyncs_start() == 0  # not due again for an hour
    run = runs.sync_run(run=SyncRun.objects.get())

    assert run.trigger == SyncRun.Trigger.SCHEDULE
    (email,) = mail.outbox
    assert email.to == ["root@example.nz"]
    assert email.subject == "Xero sync: 1 not sent"
    assert email.body == (
        f"The automatic sync to {connection} ended with problems:\n"
        "  0 synced, 1 refused, 0 failed.\n\n"
        "See each one, with its reason and how to fix it: "
        f"{settings.SITE_URL.rstrip('/')}/accounting/xero/errors/\n"
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_asked_to_sync_one_organisation_never_send_twice(
    accountant, sandbox, xero_settings, client
):
    if db_connection.vendor != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL (CI runs this with DATABASE_URL)")
    from tests.plugins.xero import connect_with

    connection = connect_with(client, accountant, sandbox)
    contact = linked(connection, sandbox)
    txns = [transaction_of(contact) for _ in range(6)]
    first = runs.sync_start(connection=connection, transactions=txns[:3])
    second = runs.sync_start(connection=connection, transactions=txns[3:])
    same = runs.sync_start(connection=connection, transactions=txns)  # all taken already
    runs_seen: list[str] = []

    def work(run: SyncRun) -> None:
        runs_seen.append(runs.sync_run(run=SyncRun.objects.get(pk=run.pk)).state)

    # Two workers on the same run, and one on the other run of the organisation, at once.
    failures = at_once(lambda: work(first), times=2) + at_once(lambda: work(second), times=2)
    assert failures == []
    assert same is None
    for run in (first, second):
        runs.sync_run(run=SyncRun.objects.get(pk=run.pk))  # whatever waited its turn
    assert {Transaction.objects.get(pk=t.pk).sync_state for t in txns} == {SyncState.SYNCED}
    numbers = [d["InvoiceNumber"] for d in in_xero(sandbox)]
    assert sorted(numbers) == sorted(t.number for t in txns)  # one copy each


@pytest.mark.django_db(transaction=True)
def test_no_database_transaction_is_open_while_xero_is_called(
    accountant, sandbox, xero_settings, client, monkeypatch
):
    from sync.xero import transport
    from tests.plugins.xero import connect_with

    connection = connect_with(client, accountant, sandbox)
    contact = linked(connection, sandbox)
    txns = [transaction_of(contact) for _ in range(3)]
    sandbox.fault(kind="drop_after_commit", path="/api.xro/2.0/Invoices", method="POST")
    open_during_calls: list[str] = []
    client_for = transport.client

    def checked_client(*args, **kwargs):
        if db_connection.in_atomic_block:
            open_during_calls.append("a call made inside a database transaction")
        return client_for(*args, **kwargs)

    monkeypatch.setattr(transport, "client", checked_client)

    run = sync(connection, txns)

    assert run.state == SyncRun.State.DONE
    assert run.api_calls >= 5  # checks, the lost answer and its retry
    assert open_during_calls == []


def test_a_long_wait_checks_the_links_again_before_sending(connection, sandbox):
    contact = linked(connection, sandbox, name="Ruru Rentals")
    txn = transaction_of(contact)
    sandbox.fault(status=429, retry_after=3600, path="/api.xro/2.0/Invoices", method="POST")
    run = sync(connection, [txn])
    assert run.state == SyncRun.State.WAITING and not run.prepared
    sandbox.archive(str(ContactLink.objects.get(contact=contact).xero_contact_id))

    run = runs.sync_run(run=when_due(run))

    assert run.items.get().state == SyncItem.State.REFUSED  # caught before sending again
    assert "archived" in run.items.get().message


def test_an_unexpected_error_stops_the_sync_visibly_and_leaves_all_ready(
    connection, sandbox, monkeypatch
):
    contact = linked(connection, sandbox)
    txns = [transaction_of(contact) for _ in range(2)]

    def broken(self, transaction):
        raise KeyError("oops")

    monkeypatch.setattr(documents.Rules, "upload", broken)

    run = sync(connection, txns)

    assert run.state == SyncRun.State.STOPPED
    assert "unexpected error (KeyError)" in run.detail
    assert set(states(*txns)) == {SyncState.READY}
    item = run.items.first()
    assert item is not None and item.state == SyncItem.State.SKIPPED
    assert "It is still ready to sync." in item.message
    assert posts() == []
    monkeypatch.undo()
    assert runs.sync_run(run=runs.sync_start(connection=connection, transactions=txns)).state == (
        SyncRun.State.DONE
    )
    assert set(states(*txns)) == {SyncState.SYNCED}


# --- Found in review: each once sent a document twice, stranded one, or called too early ---------


def test_a_429_on_the_retry_of_a_saved_batch_looks_it_up_before_sending_again(
    connection, sandbox, waits
):
    first_supplier = linked(connection, sandbox, SupplierFactory())
    second_supplier = linked(connection, sandbox, SupplierFactory())
    first = transaction_of(first_supplier, TransactionType.SUPPLIER_INVOICE, number="BILL-8101")
    second = transaction_of(second_supplier, TransactionType.SUPPLIER_INVOICE, number="BILL-8102")
    # Xero saves the batch but the answer is lost; the retry meets a long rate limit.
    sandbox.fault(kind="drop_after_commit", path="/api.xro/2.0/Invoices", method="POST")
    sandbox.fault(status=429, retry_after=3600, path="/api.xro/2.0/Invoices", method="POST")
    run = sync(connection, [first, second])
    assert run.state == SyncRun.State.WAITING
    sandbox.clear_faults()
    # Meanwhile the second supplier is archived: a batch sent again would hold the first
    # alone, under another key.
    sandbox.archive(str(ContactLink.objects.get(contact=second_supplier).xero_contact_id))
    run = runs.sync_run(run=when_due(run))

    numbers = sorted(d["InvoiceNumber"] for d in in_xero(sandbox))
    assert numbers == ["BILL-8101", "BILL-8102"]  # saved once each, by the first call
    assert states(first, second) == [SyncState.SYNCED, SyncState.SYNCED]


def test_a_sync_stopped_mid_batch_strands_nothing(connection, sandbox, monkeypatch):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-7001")

    def gone(*args, **kwargs):
        raise xero.NotFound("Xero has no such record.")

    monkeypatch.setattr(xero, "documents_save", gone)
    assert sync(connection, [txn]).state == SyncRun.State.STOPPED
    monkeypatch.undo()

    sync(connection, [txn])  # Upload again: the unanswered one is looked up, then sent

    assert states(txn) == [SyncState.SYNCED]
    assert [d["InvoiceNumber"] for d in in_xero(sandbox)] == ["INV-7001"]


def test_a_waiting_run_does_not_call_xero_before_its_time(connection, sandbox):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact)
    sandbox.rate_limits(enabled=True, reset_counters=True, day=3)
    run = sync(connection, [txn])
    assert run.state == SyncRun.State.WAITING
    calls = XeroApiCall.objects.count()

    run = runs.sync_run(run=run)  # a stray task, or the command polling

    assert run.state == SyncRun.State.WAITING and XeroApiCall.objects.count() == calls


def test_an_older_bill_with_the_same_supplier_number_is_not_taken_for_the_lost_one(
    connection, sandbox, waits
):
    supplier = linked(connection, sandbox, SupplierFactory())
    older = transaction_of(supplier, TransactionType.SUPPLIER_INVOICE, number="1001")
    assert sync(connection, [older]).state == SyncRun.State.DONE
    # As if bill 1001 had been keyed into Xero by hand: Omni knows it by no number now.
    Transaction.objects.filter(pk=older.pk).update(number="HAND-ENTERED")
    newer = transaction_of(supplier, TransactionType.SUPPLIER_INVOICE, number="1001")
    newer.lines.update(quantity=Decimal("7"))
    sandbox.fault(status=503, path="/api.xro/2.0/Invoices", method="POST", count=9)
    run = sync(connection, [newer])
    assert run.state == SyncRun.State.WAITING  # no answer: the outcome is unknown
    sandbox.clear_faults()
    runs.sync_run(run=when_due(run))

    assert len(in_xero(sandbox)) == 2  # looked up, not found (another total), then sent
    newer.refresh_from_db()
    older.refresh_from_db()
    assert newer.xero_id != older.xero_id


def test_sending_again_after_a_fix_in_xero_is_not_answered_with_the_old_refusal(
    connection, sandbox, monkeypatch
):
    contact = linked(connection, sandbox, name="Kea Kites")
    txn = transaction_of(contact)
    xero_id = str(ContactLink.objects.get(contact=contact).xero_contact_id)
    archive_before_the_first_send(monkeypatch, sandbox, contact)
    sync(connection, [txn])
    assert states(txn) == [SyncState.REFUSED]
    monkeypatch.undo()
    sandbox.restore(xero_id)  # the accountant restores the contact in Xero

    sync(connection, [txn])

    assert states(txn) == [SyncState.SYNCED]
