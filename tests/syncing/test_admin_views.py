"""The Admin tab's pages that call Xero, against the sandbox through the real SDK: fetching the
accounts and tax rates, re-syncing from the Errors view, and the Discrepancies view."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.urls import reverse

from sync import xero
from sync.connections import services as connections
from sync.models import (
    ChartAccount,
    MirroredDocument,
    SyncRun,
    SyncSettings,
    TaxRate,
    TrackingCategory,
    XeroApiCall,
)
from sync.syncing import refusals as documents
from sync.syncing import runs
from tests.factories import ContactFactory
from tests.syncing.test_sync import linked, sync, transaction_of
from transactions.models import SyncState, Transaction, TransactionType

pytestmark = pytest.mark.django_db

ADMIN_TAB = reverse("sync:admin_tab")
DISCREPANCIES = reverse("sync:discrepancies")


def test_fetch_from_xero_shows_the_organisations_accounts_and_tax_rates(
    connection, accountant_client
):
    response = accountant_client.post(reverse("sync:admin_fetch"), follow=True)

    html = response.content.decode()
    accounts, rates = ChartAccount.objects.count(), TaxRate.objects.count()
    categories = TrackingCategory.objects.count()
    assert accounts and rates and categories
    assert (
        f"Fetched {accounts} accounts, {rates} tax rates and {categories} tracking categories "
        "from Xero." in html
    )
    assert "200" in html and "Sales" in html and "GST on Income" in html
    assert SyncSettings.for_connection(connection).settings_refreshed_at is not None


def test_fetch_from_xero_says_why_when_xero_fails(connection, accountant_client, sandbox):
    sandbox.fault(status=503, count=20, path="/api.xro/2.0/Accounts")

    response = accountant_client.post(reverse("sync:admin_fetch"), follow=True)

    html = response.content.decode()
    assert "The accounts and tax rates were not fetched: Xero did not answer in time" in html
    assert not ChartAccount.objects.exists()


def test_an_admins_mapping_is_checked_against_what_xero_has(
    connection, client, admin_user, accountant_client
):
    accountant_client.post(reverse("sync:admin_fetch"))
    client.force_login(admin_user)
    data = {"document_status": "DRAFT", "autosync": "off"}
    data |= {f"{t}-account_code": "" for t in TransactionType.values}
    data |= {f"{t}-tax_type": "" for t in TransactionType.values}

    save = reverse("sync:admin_settings_save")
    refused = client.post(save, data | {"supplier_invoice-account_code": "12345"})
    assert "Account code &#x27;12345&#x27; is not in the organisation" in refused.content.decode()

    client.post(save, data | {"supplier_invoice-tax_type": "NONE"})
    assert documents.Rules(connection).mappings["supplier_invoice"].tax_type == "NONE"


def test_resync_from_errors_sends_a_contact_once_it_is_linked(
    connection, sandbox, accountant_client
):
    contact = ContactFactory(name="Kea Outfitters")
    txn = transaction_of(contact, number="INV-5501")
    sync(connection, [txn])
    errors = accountant_client.get(reverse("sync:errors")).content.decode()
    assert "Kea Outfitters isn&#x27;t linked to a Xero contact" in errors
    linked(connection, sandbox, contact)

    response = accountant_client.post(reverse("sync:errors_resync", args=[contact.pk]), follow=True)
    assert "Syncing 1 transaction again" in response.content.decode()
    runs.sync_run(run=SyncRun.objects.latest("pk"))  # what the worker does next

    txn.refresh_from_db()
    assert txn.sync_state == SyncState.SYNCED
    assert [d["InvoiceNumber"] for d in sandbox.documents(sandbox.demo_tenant_id, "invoices")] == [
        "INV-5501"
    ]
    assert "Nothing to fix" in accountant_client.get(reverse("sync:errors")).content.decode()


def change_in_xero(connection, txn: Transaction, **changes) -> None:
    """Change the transaction's document in Xero, as someone in Xero would."""
    txn.refresh_from_db()
    upload = replace(documents.Rules(connection).upload(txn), **changes)
    session = connections.session(connection)
    (outcome,) = xero.documents_save(
        session,
        kind=upload.kind,
        documents=[upload],
        idempotency_key=f"edit-{txn.pk}-{'-'.join(sorted(changes))}",
    )
    assert outcome.document is not None, outcome.errors


def test_discrepancies_show_what_was_changed_in_xero_since_syncing(
    connection, sandbox, accountant_client, monkeypatch
):
    contact = linked(connection, sandbox, name="Tui Books")
    same, voided, deleted, edited = (transaction_of(contact, number=f"INV-77{n}") for n in range(4))
    credit = transaction_of(contact, TransactionType.SALES_CREDIT_NOTE, number="CN-771")
    sync(connection, [same])
    sandbox.advance_clock(5)
    sync(connection, [voided, deleted, edited, credit])
    asked: list[tuple[str, object]] = []
    pages = xero.documents_pages

    def recording(session, *, kind, modified_since=None, numbers=()):
        asked.append((kind.value, modified_since))
        return pages(session, kind=kind, modified_since=modified_since, numbers=numbers)

    monkeypatch.setattr(xero, "documents_pages", recording)

    first = accountant_client.post(reverse("sync:discrepancies_refresh"), follow=True)

    assert "Refreshed from Xero: 5 documents changed since last time." in first.content.decode()
    assert asked == [("invoice", None), ("credit_note", None), ("purchase_order", None)]
    assert "Xero agrees with Omni" in first.content.decode()

    sandbox.advance_clock(5)
    change_in_xero(connection, voided, status="VOIDED")
    change_in_xero(connection, deleted, status="DELETED")
    line = documents.Rules(connection).upload(edited).lines[0]
    change_in_xero(connection, edited, lines=(replace(line, quantity=Decimal("5")),))
    change_in_xero(connection, credit, status="AUTHORISED")  # approved: no discrepancy
    asked.clear()
    calls_before = XeroApiCall.objects.count()

    second = accountant_client.post(reverse("sync:discrepancies_refresh"), follow=True)

    html = second.content.decode()
    # Only what changed since the newest document kept of each kind (If-Modified-Since):
    # the four documents changed, not the one synced and left alone before them.
    assert [kind for kind, _ in asked] == ["invoice", "credit_note", "purchase_order"]
    assert asked[0][1] is not None and asked[1][1] is not None
    assert asked[2][1] is None  # no purchase order was ever fetched
    assert "Refreshed from Xero: 4 documents changed since last time." in html
    assert XeroApiCall.objects.count() - calls_before == 3

    def row(txn):
        start = html.find(f'id="discrepancy-{txn.pk}"')
        return html[start : html.find("</tr>", start)] if start >= 0 else ""

    assert "Voided in Xero" in row(voided)
    assert "Deleted in Xero" in row(deleted)
    assert "Edited in Xero" in row(edited)
    assert "NZD 34.50" in row(edited) and "NZD 57.50" in row(edited)  # 5 at 10.00, plus GST
    assert row(same) == "" and row(credit) == ""
    assert MirroredDocument.objects.filter(status="VOIDED").count() == 1
