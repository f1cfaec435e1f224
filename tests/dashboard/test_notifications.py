"""When a background job ends: the person who started it is told, with its counts, on the page
that polls its progress and on the next page they open; nobody else is."""

import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sync.models import Notification, SyncRun, UploadJob
from sync.syncing import runs
from sync.uploads import services as uploads
from tests.factories import ContactFactory, SupplierFactory
from tests.syncing.test_sync import linked, transaction_of
from transactions.models import TransactionType

pytestmark = pytest.mark.django_db

CUSTOMERS = "/accounting/xero/sales/customers/"
BILLS = "/accounting/xero/purchases/bills/"


def text(response) -> str:
    return response.content.decode()


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def notices(page: str) -> str:
    """The unread notifications heading a page (empty when there are none)."""
    start = page.find('id="notices"')
    return page[start : page.index("</section>", start)] if start >= 0 else ""


def test_a_sync_that_ends_tells_its_starter_the_counts_per_type_on_the_next_page_once(
    connection, sandbox, accountant, viewer
):
    supplier = linked(connection, sandbox, SupplierFactory(name="Kea Supplies"))
    bills = [transaction_of(supplier, TransactionType.SUPPLIER_INVOICE) for _ in range(2)]
    refused = [
        transaction_of(SupplierFactory(), TransactionType.SUPPLIER_INVOICE) for _ in range(3)
    ]
    invoice = transaction_of(linked(connection, sandbox, ContactFactory()))
    run = runs.sync_start(
        connection=connection, transactions=[*bills, *refused, invoice], user=accountant
    )
    assert run is not None
    assert runs.sync_run(run=run).state == SyncRun.State.DONE

    (notification,) = Notification.objects.all()
    assert (notification.user, notification.kind, notification.job_id) == (
        accountant,
        "sync",
        run.pk,
    )
    assert notification.counts["supplier_invoice"] == {
        "synced": 2,
        "refused": 3,
        "failed": 0,
        "skipped": 0,
    }
    mine = client_of(accountant)
    shown = notices(text(mine.get(CUSTOMERS)))
    assert "Sync finished" in shown
    assert "Bills: 2 synced, 3 refused, 0 failed" in shown
    assert "Invoices: 1 synced, 0 refused, 0 failed" in shown
    assert f'href="/accounting/xero/log/{run.pk}/"' in shown
    assert notices(text(mine.get(CUSTOMERS))) == ""  # marked read once shown
    assert notices(text(client_of(viewer).get(CUSTOMERS))) == ""  # not the viewer's


def test_a_sync_nobody_started_tells_nobody(connection, sandbox, accountant):
    txn = transaction_of(linked(connection, sandbox, ContactFactory()))
    run = runs.sync_start(
        connection=connection, transactions=[txn], trigger=SyncRun.Trigger.SCHEDULE
    )
    assert run is not None
    runs.sync_run(run=run)
    assert not Notification.objects.exists()


def test_an_upload_in_the_background_ends_with_its_summary_under_the_progress_bar(
    connection, sandbox, accountant, monkeypatch
):
    monkeypatch.setattr(uploads, "BATCH_SIZE", 2)
    contacts = [ContactFactory(name=f"Tui Store {n}") for n in range(5)]
    job = uploads.contacts_upload(connection=connection, contacts=contacts, user=accountant)
    assert job.state == UploadJob.State.RUNNING  # two sent in the request, three to go
    mine = client_of(accountant)
    poll = f"/accounting/xero/uploads/progress/?poll=1&job={job.pk}&next={CUSTOMERS}"
    during = text(mine.get(poll, headers={"HX-Request": "true"}))
    assert "2 of 5 uploaded" in during and 'hx-trigger="every 2s"' in during
    assert 'aria-valuenow="2"' in during and 'aria-label="Upload progress' in during
    assert not Notification.objects.exists()

    uploads.upload_job_run(job=job)  # what the queued task does

    (notification,) = Notification.objects.all()
    assert notification.counts["done"] == 5 and notification.counts["failed"] == 0
    after = text(mine.get(poll, headers={"HX-Request": "true"}))
    assert "Upload finished:</strong> Contacts: 5 uploaded, 0 failed." in after
    assert f'href="/accounting/xero/uploads/{job.pk}/"' in after
    assert 'hx-trigger="every 2s"' not in after
    assert f'hx-get="{CUSTOMERS}" hx-trigger="load"' in after
    # Seen under the progress bar: the next page does not tell it again.
    assert notices(text(mine.get(CUSTOMERS))) == ""
    details = text(mine.get(f"/accounting/xero/uploads/{job.pk}/"))
    assert details.count('id="upload-row-') == 5 and "Tui Store 4" in details


def test_an_upload_that_ends_in_the_request_is_told_on_the_next_page(
    connection, sandbox, accountant, viewer
):
    contacts = [ContactFactory(name="Weka Wines"), ContactFactory(name="Kaka Cafe")]
    uploads.contacts_upload(connection=connection, contacts=contacts, user=accountant)
    shown = notices(text(client_of(accountant).get(BILLS)))
    assert "Upload finished" in shown and "Contacts: 2 uploaded, 0 failed" in shown
    assert notices(text(client_of(viewer).get(BILLS))) == ""


def test_the_top_shows_five_newest_and_how_many_more_the_page_lists_them_all(accountant):
    for n in range(7):
        Notification.objects.create(
            user=accountant, kind="upload", job_id=n + 1, state="done", counts={"done": n}
        )
    mine = client_of(accountant)
    shown = notices(text(mine.get(CUSTOMERS)))
    assert shown.count("data-notification=") == 5
    assert "Contacts: 6 uploaded" in shown and "Contacts: 1 uploaded" not in shown  # newest
    assert "2 more" in shown
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    listed = text(mine.get("/accounting/xero/notifications/"))
    uploaded = [f"Contacts: {n} uploaded" for n in range(6, -1, -1)]
    positions = [listed.index(said) for said in uploaded]
    assert positions == sorted(positions)  # newest first
    assert listed.count(">New</span>") == 2  # the two not shown at the top before
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_notifications_cost_the_same_few_queries_however_many(accountant):
    for n in range(30):
        Notification.objects.create(user=accountant, kind="sync", job_id=n + 1, state="done")
    mine = client_of(accountant)
    with CaptureQueriesContext(db) as many:
        mine.get(CUSTOMERS)
    Notification.objects.all().delete()
    with CaptureQueriesContext(db) as none:
        mine.get(CUSTOMERS)
    # The five shown, the count of the others, the one UPDATE marking them read.
    assert len(many) - len(none) == 2
