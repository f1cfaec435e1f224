"""The transaction subtabs as an accountant uses them: Upload, Upload all ready, Skip, Reset,
the progress, the re-sync offer; and `manage.py sync_transactions`."""

import pytest
from django.core.management import call_command
from django.db import connection as connection_db
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from sync.links import services
from sync.models import ContactLink, InvalidReason, LinkMethod, LinkStatus, SyncRun
from sync.syncing import runs
from tests.factories import ContactFactory, ContactLinkFactory, SupplierFactory
from tests.syncing.test_sync import linked, transaction_of
from transactions.models import SyncState, Transaction, TransactionType

pytestmark = pytest.mark.django_db

INVOICES = "/accounting/xero/sales/invoices/"


def act(client, action: str, *transactions, path: str = INVOICES):
    return client.post(
        f"{path}action/",
        {"action": action, "transaction": [t.pk for t in transactions], "next": path},
        follow=True,
    )


def work() -> None:
    """What the worker does with the syncs queued."""
    for run in SyncRun.objects.filter(state__in=SyncRun.ACTIVE).order_by("pk"):
        runs.sync_run(run=run)


def text(response) -> str:
    return response.content.decode()


def test_upload_queues_the_selected_and_shows_the_progress(
    connection, sandbox, accountant_client, django_capture_on_commit_callbacks
):
    contact = linked(connection, sandbox)
    chosen, other = transaction_of(contact), transaction_of(contact)

    with django_capture_on_commit_callbacks(execute=True):  # the task is queued on commit
        response = act(accountant_client, "upload", chosen)

    assert "Uploading 1 transaction to Demo Company (NZ) in the background" in text(response)
    assert 'id="sync-progress"' in text(response) and "<strong>Starting:</strong>" in text(response)
    assert "0 synced, 0 refused, 0 failed, 1 left" in text(response)
    assert DBTaskResult.objects.filter(task_path="sync.tasks.sync_continue").count() == 1
    work()
    assert [Transaction.objects.get(pk=t.pk).sync_state for t in (chosen, other)] == [
        SyncState.SYNCED,
        SyncState.READY,
    ]
    page = text(accountant_client.get(INVOICES))
    assert "Synced" in page and chosen.number in page


def test_upload_all_ready_takes_every_ready_one_of_the_subtab_only(
    connection, sandbox, accountant_client
):
    contact = linked(connection, sandbox)
    invoices = [transaction_of(contact) for _ in range(3)]
    credit = transaction_of(contact, "sales_credit_note")

    act(accountant_client, "upload_all")
    work()

    assert {Transaction.objects.get(pk=t.pk).sync_state for t in invoices} == {SyncState.SYNCED}
    assert Transaction.objects.get(pk=credit.pk).sync_state == SyncState.READY


def test_a_refused_transaction_shows_its_reason_and_a_link_to_its_contact(
    connection, sandbox, accountant_client
):
    contact = ContactFactory(name="Kea Outfitters")
    txn = transaction_of(contact)
    act(accountant_client, "upload", txn)
    work()

    page = text(accountant_client.get(INVOICES))

    assert "Refused" in page
    assert "Kea Outfitters isn&#x27;t linked to a Xero contact." in page
    assert (
        f'<a href="/accounting/xero/sales/customers/?show=all&amp;q=Kea+Outfitters'
        f'#contact-{contact.pk}" class="fix-link">Link Kea Outfitters on Sales '
        "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} Customers</a>" in page
    )
    # The contact's row lists it as ready to sync still.
    customers = text(accountant_client.get("/accounting/xero/sales/customers/"))
    assert f'id="contact-{contact.pk}"' in customers


def test_linking_the_contact_offers_its_refused_transactions_for_resync(
    connection, sandbox, accountant_client
):
    contact = ContactFactory(name="Kea Outfitters")
    txn = transaction_of(contact)
    act(accountant_client, "upload", txn)
    work()
    assert "can go now" not in text(accountant_client.get(INVOICES))
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Kea Outfitters"}])
    services.contact_link(
        contact=contact,
        connection=connection,
        xero_contact_id=xero_id,
        xero_name="Kea Outfitters",
        method=LinkMethod.EXISTING,
        user=None,
    )

    page = text(accountant_client.get(INVOICES))
    assert "1 refused transaction can go now" in page

    response = accountant_client.post(
        "/accounting/xero/syncs/resync/", {"next": INVOICES}, follow=True
    )
    assert "Uploading 1 transaction" in text(response)
    work()
    assert Transaction.objects.get(pk=txn.pk).sync_state == SyncState.SYNCED
    assert ContactLink.objects.get(contact=contact).is_valid


def test_skip_and_reset(connection, sandbox, accountant_client):
    contact = linked(connection, sandbox)
    skipped, synced = transaction_of(contact), transaction_of(contact)
    act(accountant_client, "upload", synced)
    work()

    act(accountant_client, "skip", skipped)
    runs_before = SyncRun.objects.count()
    act(accountant_client, "upload_all")
    assert SyncRun.objects.count() == runs_before  # nothing ready: skipped is out
    assert Transaction.objects.get(pk=skipped.pk).sync_state == SyncState.SKIPPED

    act(accountant_client, "reset", skipped, synced)
    reset = Transaction.objects.get(pk=synced.pk)
    assert reset.sync_state == SyncState.READY and reset.xero_id is not None
    act(accountant_client, "upload_all")
    work()
    # The synced one was updated in Xero, not created again.
    numbers = sorted(d["InvoiceNumber"] for d in sandbox.documents(sandbox.demo_tenant_id))
    assert numbers == sorted([skipped.number, synced.number])


def test_viewers_cannot_upload(connection, sandbox, viewer_client):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact)
    assert act(viewer_client, "upload", txn).status_code == 403
    assert "Viewers can look but not change anything" in text(viewer_client.get(INVOICES))


def test_the_progress_poll_ends_with_the_sync_summary_and_refetches_the_rows(
    connection, sandbox, accountant_client
):
    contact = linked(connection, sandbox)
    act(accountant_client, "upload", transaction_of(contact), transaction_of(ContactFactory()))
    run = SyncRun.objects.get()
    poll = f"/accounting/xero/syncs/progress/?poll=1&run={run.pk}&next={INVOICES}"
    during = accountant_client.get(poll, headers={"HX-Request": "true"})
    assert "2 left" in text(during) and 'hx-trigger="every 2s"' in text(during)
    assert 'role="progressbar"' in text(during) or "<progress" in text(during)
    assert 'aria-valuenow="0"' in text(during) and 'aria-label="Sync progress' in text(during)
    work()
    after = text(accountant_client.get(poll, headers={"HX-Request": "true"}))
    assert "Sync finished:</strong> Invoices: 1 synced, 1 refused, 0 failed." in after
    assert f'href="/accounting/xero/log/{run.pk}/"' in after
    assert 'hx-trigger="every 2s"' not in after  # the polling ends; the summary stays
    assert f'hx-get="{INVOICES}" hx-trigger="load"' in after  # the rows, fetched again


# --- The command -------------------------------------------------------------------------------


def test_the_command_syncs_and_exits_non_zero_when_any_is_refused(connection, sandbox, capsys):
    contact = linked(connection, sandbox)
    good = transaction_of(contact)
    refused = transaction_of(ContactFactory(name="Weka Wines"))

    with pytest.raises(SystemExit) as exit_:
        call_command("sync_transactions")

    assert exit_.value.code == 1
    out, err = capsys.readouterr()
    assert "1 synced, 1 refused, 0 failed" in out
    assert f"{refused}: Refused: Weka Wines isn't linked" in err
    assert Transaction.objects.get(pk=good.pk).sync_state == SyncState.SYNCED


def test_the_command_takes_type_contact_and_ids(connection, sandbox, capsys):
    contact = linked(connection, sandbox)
    first, second = transaction_of(contact), transaction_of(contact)
    bill_contact = linked(connection, sandbox, name="Kauri Supplies", is_supplier=True)
    bill = transaction_of(bill_contact, "supplier_invoice")

    call_command("sync_transactions", "--ids", str(first.pk))
    assert [Transaction.objects.get(pk=t.pk).sync_state for t in (first, second, bill)] == [
        SyncState.SYNCED,
        SyncState.READY,
        SyncState.READY,
    ]
    call_command("sync_transactions", "--type", "supplier_invoice", "--contact", "Kauri Supplies")
    assert Transaction.objects.get(pk=bill.pk).sync_state == SyncState.SYNCED
    assert Transaction.objects.get(pk=second.pk).sync_state == SyncState.READY
    out = capsys.readouterr().out
    assert "1/1" in out and "1 synced, 0 refused, 0 failed" in out


def test_the_resync_offer_is_the_subtabs_own(connection, sandbox, accountant_client):
    contact = ContactFactory(name="Kea Outfitters")
    invoice, credit = transaction_of(contact), transaction_of(contact, "sales_credit_note")
    act(accountant_client, "upload", invoice)
    act(accountant_client, "upload", credit, path="/accounting/xero/sales/credit-notes/")
    work()
    linked(connection, sandbox, contact)

    assert "1 refused transaction can go now" in text(accountant_client.get(INVOICES))
    accountant_client.post(
        "/accounting/xero/syncs/resync/", {"next": INVOICES, "type": "sales_invoice"}
    )
    work()

    assert Transaction.objects.get(pk=invoice.pk).sync_state == SyncState.SYNCED
    assert Transaction.objects.get(pk=credit.pk).sync_state == SyncState.REFUSED


BILLS = "/accounting/xero/purchases/bills/"


def test_upload_all_ready_counts_only_what_can_go_and_links_to_the_blocking_contacts(
    connection, sandbox, accountant_client
):
    supplier = linked(connection, sandbox, contact=SupplierFactory(name="Kea Supplies"))
    for _ in range(2):
        transaction_of(supplier, TransactionType.SUPPLIER_INVOICE)
    unlinked = SupplierFactory(name="Moana Freight")
    for _ in range(3):
        transaction_of(unlinked, TransactionType.SUPPLIER_INVOICE)
    invalid = SupplierFactory(name="Tasman Timber")  # its Xero contact deleted since
    ContactLinkFactory(
        contact=invalid,
        connection=connection,
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.DELETED,
    )
    transaction_of(invalid, TransactionType.SUPPLIER_INVOICE)

    page = text(accountant_client.get(BILLS))
    assert 'value="upload_all" >Upload 2 ready</button>' in page
    blocked_url = "/accounting/xero/purchases/suppliers/?linked=blocked"
    assert f'<a href="{blocked_url}">4 blocked by their contact</a>' in page
    # The link lists exactly the suppliers that block them.
    suppliers = text(accountant_client.get(blocked_url))
    assert "Moana Freight" in suppliers and "Tasman Timber" in suppliers
    assert "Kea Supplies" not in suppliers


def test_upload_all_ready_sends_only_what_its_contact_lets_go(
    connection, sandbox, accountant_client
):
    supplier = linked(connection, sandbox, contact=SupplierFactory(name="Kea Supplies"))
    can_go = [transaction_of(supplier, TransactionType.SUPPLIER_INVOICE) for _ in range(2)]
    unlinked = SupplierFactory(name="Moana Freight")
    blocked = [transaction_of(unlinked, TransactionType.SUPPLIER_INVOICE) for _ in range(3)]

    act(accountant_client, "upload_all", path=BILLS)
    work()
    assert {Transaction.objects.get(pk=t.pk).sync_state for t in can_go} == {SyncState.SYNCED}
    # Not sent, so not refused either: still ready, for when their contact is linked.
    assert {Transaction.objects.get(pk=t.pk).sync_state for t in blocked} == {SyncState.READY}
    numbers = sorted(d["InvoiceNumber"] for d in sandbox.documents(sandbox.demo_tenant_id))
    assert numbers == sorted(t.number for t in can_go)
    page = text(accountant_client.get(BILLS))
    assert ">Upload 0 ready</button>" in page and "3 blocked by their contact" in page


def test_the_ready_counts_are_one_query_however_many_transactions(
    connection, sandbox, accountant_client, settings
):
    settings.DASHBOARD_COUNTS_SECONDS = 0  # counted on every view (sync.dashboard.counts)
    supplier = linked(connection, sandbox, contact=SupplierFactory())
    transaction_of(supplier, TransactionType.SUPPLIER_INVOICE)
    with CaptureQueriesContext(connection_db) as few:
        accountant_client.get(BILLS)
    for _ in range(5):
        transaction_of(SupplierFactory(), TransactionType.SUPPLIER_INVOICE)
        transaction_of(supplier, TransactionType.SUPPLIER_INVOICE)
    with CaptureQueriesContext(connection_db) as many:
        page = text(accountant_client.get(BILLS))
    assert ">Upload 6 ready</button>" in page and "5 blocked by their contact" in page
    assert len(many) == len(few)
