"""Currencies, tracking and the contact's alternative account: what each transaction goes to
Xero with, and what refuses it, against the sandbox through the real SDK."""

from decimal import Decimal
from html import unescape

import pytest
from xero_python.accounting import Currency as SdkCurrency
from xero_python.accounting import CurrencyCode
from xero_python.accounting import TrackingCategory as SdkTrackingCategory
from xero_python.accounting import TrackingOption as SdkTrackingOption

from sync.models import (
    AccountMapping,
    BranchTracking,
    Currency,
    SyncItem,
    SyncSettings,
    TrackingCategory,
    TrackingOption,
)
from sync.syncing import refusals
from sync.syncing.mapping import mapping_errors
from tests.plugins.sandbox import DEFAULT_SCOPE, make_sdk
from tests.syncing.test_sync import in_xero, linked, posts, states, sync, transaction_of
from transactions.models import SyncState, TransactionType

pytestmark = pytest.mark.django_db


def settings_api(sandbox):
    """The SDK with a token that may change the demo organisation's settings."""
    token = sandbox.issue_token(scope=DEFAULT_SCOPE + " accounting.settings")
    return make_sdk(sandbox, token, sandbox.demo_tenant_id).accounting


def multicurrency(connection, on: bool = True) -> None:
    SyncSettings.objects.update_or_create(connection=connection, defaults={"multicurrency": on})


def item_of(run, txn) -> SyncItem:
    return run.items.get(transaction=txn)


# --- Currencies --------------------------------------------------------------------------------


def test_the_organisation_knows_its_base_currency_once_connected(connection):
    assert connection.base_currency == "NZD"


def test_a_foreign_currency_is_refused_with_multicurrency_off_and_goes_with_it_on(
    connection, sandbox
):
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-USD-1", currency="USD")

    run = sync(connection, [txn])

    item = item_of(run, txn)
    assert item.state == SyncItem.State.REFUSED and item.refusal == SyncItem.Refusal.CURRENCY
    assert "is in USD, and the organisation's base currency is NZD" in item.message
    assert "does not convert" in item.message
    assert states(txn) == [SyncState.REFUSED] and posts() == []

    multicurrency(connection)
    txn.currency_rate = Decimal("0.6125")
    txn.save()
    run = sync(connection, [txn])

    assert item_of(run, txn).state == SyncItem.State.SYNCED
    (invoice,) = in_xero(sandbox)
    assert invoice["CurrencyCode"] == "USD" and invoice["CurrencyRate"] == 0.6125
    # The currencies were fetched with the chart, as multicurrency needs them.
    assert set(Currency.objects.filter(connection=connection).values_list("code", flat=True)) >= {
        "NZD",
        "USD",
    }


def test_a_currency_the_organisation_lacks_is_refused(connection, sandbox):
    multicurrency(connection)
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-GBP-1", currency="GBP")

    run = sync(connection, [txn])

    item = item_of(run, txn)
    assert item.refusal == SyncItem.Refusal.CURRENCY
    assert "The organisation does not use GBP in Xero" in item.message
    assert posts() == []

    # Added in Xero, it goes on the next sync (which fetches the currencies again).
    settings_api(sandbox).create_currency(
        sandbox.demo_tenant_id, SdkCurrency(code=CurrencyCode.GBP, description="British Pound")
    )
    run = sync(connection, [txn])
    assert item_of(run, txn).state == SyncItem.State.SYNCED
    assert in_xero(sandbox)[0]["CurrencyCode"] == "GBP"


def test_a_base_currency_document_goes_without_a_rate(connection, sandbox):
    multicurrency(connection)
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-NZD-1", currency="NZD")
    txn.currency_rate = Decimal("2")
    txn.save()

    sync(connection, [txn])

    (invoice,) = in_xero(sandbox)
    assert (invoice["CurrencyCode"], invoice["CurrencyRate"]) == ("NZD", 1.0)
    assert refusals.Rules(connection).upload(txn).currency_rate is None


# --- Tracking ----------------------------------------------------------------------------------


def test_lines_of_a_mapped_branch_carry_its_tracking(connection, sandbox):
    BranchTracking.objects.create(branch="Wellington", category="Region", option="Wellington")
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-TR-1", branch="Wellington")
    other = transaction_of(contact, number="INV-TR-2", branch="Nelson")

    sync(connection, [txn, other])

    invoices = {d["InvoiceNumber"]: d for d in in_xero(sandbox)}
    (line,) = invoices["INV-TR-1"]["LineItems"]
    assert [(t["Name"], t["Option"]) for t in line["Tracking"]] == [("Region", "Wellington")]
    assert invoices["INV-TR-2"]["LineItems"][0]["Tracking"] == []
    # The categories were fetched into the mirror, archived options too.
    region = TrackingCategory.objects.get(connection=connection, name="Region")
    assert region.options.get(name="Dunedin").status == "ARCHIVED"


def test_an_archived_tracking_option_refuses_the_transaction(connection, sandbox):
    BranchTracking.objects.create(branch="Otago", category="Region", option="Dunedin")
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-TR-3", branch="Otago")

    run = sync(connection, [txn])

    item = item_of(run, txn)
    assert item.refusal == SyncItem.Refusal.TRACKING
    assert "Tracking option Region: Dunedin is archived in Xero" in item.message
    assert posts() == []


def test_an_option_archived_in_xero_after_mapping_refuses_then_goes_once_restored(
    connection, sandbox
):
    api = settings_api(sandbox)
    (region,) = api.get_tracking_categories(sandbox.demo_tenant_id).tracking_categories
    (auckland,) = [o for o in region.options if o.name == "Auckland"]
    api.update_tracking_options(
        sandbox.demo_tenant_id,
        region.tracking_category_id,
        auckland.tracking_option_id,
        SdkTrackingOption(name="Auckland", status="ARCHIVED"),
    )
    BranchTracking.objects.create(branch="Auckland", category="Region", option="Auckland")
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-TR-4", branch="Auckland")

    assert item_of(sync(connection, [txn]), txn).refusal == SyncItem.Refusal.TRACKING

    api.update_tracking_options(
        sandbox.demo_tenant_id,
        region.tracking_category_id,
        auckland.tracking_option_id,
        SdkTrackingOption(name="Auckland", status="ACTIVE"),
    )
    assert item_of(sync(connection, [txn]), txn).state == SyncItem.State.SYNCED


def test_a_deleted_tracking_category_refuses_the_transaction(connection, sandbox):
    api = settings_api(sandbox)
    created = api.create_tracking_category(
        sandbox.demo_tenant_id, SdkTrackingCategory(name="Channel")
    ).tracking_categories[0]
    api.create_tracking_options(
        sandbox.demo_tenant_id, created.tracking_category_id, SdkTrackingOption(name="Online")
    )
    BranchTracking.objects.create(branch="Web", category="Channel", option="Online")
    contact = linked(connection, sandbox)
    txn = transaction_of(contact, number="INV-TR-5", branch="Web")
    refusals.settings_refresh(connection=connection)
    assert refusals.Rules(connection).refusal(txn) is None

    api.delete_tracking_category(sandbox.demo_tenant_id, created.tracking_category_id)
    run = sync(connection, [txn])

    item = item_of(run, txn)
    assert item.refusal == SyncItem.Refusal.TRACKING
    assert "'Channel' is not among the organisation's tracking categories" in item.message
    assert not TrackingOption.objects.filter(name="Online").exists()


# --- The contact's alternative account (cost centre) -------------------------------------------


def test_the_contacts_cost_centre_comes_before_the_mapping(connection, sandbox):
    AccountMapping.objects.create(
        connection=connection, transaction_type=TransactionType.SALES_INVOICE, account_code="260"
    )
    contact = linked(connection, sandbox, cost_center="270")
    txn = transaction_of(contact, number="INV-CC-1")
    mapped = transaction_of(linked(connection, sandbox), number="INV-CC-2")

    sync(connection, [txn, mapped])

    invoices = {d["InvoiceNumber"]: d for d in in_xero(sandbox)}
    assert invoices["INV-CC-1"]["LineItems"][0]["AccountCode"] == "270"
    assert invoices["INV-CC-2"]["LineItems"][0]["AccountCode"] == "260"


def test_an_unknown_cost_centre_refuses_the_transaction_and_fails_the_mapping_check(
    connection, sandbox
):
    contact = linked(connection, sandbox, cost_center="999")
    txn = transaction_of(contact, number="INV-CC-3")

    run = sync(connection, [txn])

    item = item_of(run, txn)
    assert item.refusal == SyncItem.Refusal.ACCOUNT
    assert "Account code '999'" in item.message
    assert f"{contact.name}'s alternative account (cost centre)" in item.message
    assert posts() == []
    errors = mapping_errors(connection=connection, account_code="999", tax_type="")
    assert "not in the organisation's chart of accounts" in errors["account_code"]


def test_an_archived_cost_centre_refuses_the_transaction(connection, sandbox):
    from sync.models import ChartAccount

    contact = linked(connection, sandbox, cost_center="270")
    txn = transaction_of(contact, number="INV-CC-4")
    refusals.settings_refresh(connection=connection)
    ChartAccount.objects.filter(connection=connection, code="270").update(status="ARCHIVED")

    refusal = refusals.Rules(connection).refusal(txn)

    assert refusal is not None and refusal.code == SyncItem.Refusal.ACCOUNT
    assert "archived in Xero" in refusal.message and "cost centre" in refusal.message


# --- What the pages show -----------------------------------------------------------------------


def test_the_invoices_subtab_totals_its_page_per_currency(accountant_client):
    from tests.factories import ContactFactory, LineItemFactory, TransactionFactory

    contact = ContactFactory()
    for number, currency, price in [
        ("INV-1", "NZD", "100.00"),
        ("INV-2", "NZD", "50.00"),
        ("INV-3", "USD", "10.00"),
    ]:
        txn = TransactionFactory(contact=contact, number=number, currency=currency)
        LineItemFactory(
            transaction=txn, quantity=Decimal("1"), unit_price=Decimal(price), tax_type="NONE"
        )

    html = accountant_client.get("/accounting/xero/sales/invoices/").content.decode()

    footer = html[html.index('id="page-totals"') :]
    assert "Total of this page, per currency" in footer
    assert "NZD 150.00" in footer and "USD 10.00" in footer
    assert "160" not in footer  # never added across currencies


def test_the_contact_shows_its_alternative_account_and_why_xero_would_refuse_it(
    connection, sandbox, accountant_client
):
    refusals.settings_refresh(connection=connection)
    contact = linked(connection, sandbox, cost_center="999")

    html = accountant_client.get(f"/accounting/xero/sales/contacts/{contact.pk}/").content.decode()

    detail = unescape(html[html.index('id="cost-center"') :])
    assert "999" in detail
    assert "Account code '999' is not in the organisation's chart of accounts." in detail
    rows = accountant_client.get("/accounting/xero/sales/customers/?show=all").content.decode()
    assert "Alternative account 999" in rows


def test_the_admin_refuses_a_cost_centre_or_a_branch_tracking_xero_would_refuse(
    connection, sandbox, admin_client
):
    from tests.factories import ContactFactory

    refusals.settings_refresh(connection=connection, tracking=True)
    contact = ContactFactory()
    form = admin_client.get(f"/admin/contacts/contact/{contact.pk}/change/")
    assert form.status_code == 200 and "cost_center" in form.content.decode()

    response = admin_client.post(
        "/admin/sync/branchtracking/add/",
        {"branch": "Otago", "category": "Region", "option": "Dunedin"},
    )
    assert "Tracking option Region: Dunedin is archived in Xero." in response.content.decode()
    assert not BranchTracking.objects.exists()
    admin_client.post(
        "/admin/sync/branchtracking/add/",
        {"branch": "Wellington", "category": "Region", "option": "Wellington"},
    )
    assert BranchTracking.objects.filter(branch="Wellington").exists()


def test_the_demo_data_shows_each_rule_against_the_sandbox(
    connection, sandbox, tmp_path, monkeypatch
):
    from contacts.models import Contact
    from sync.demo import load_demo_data
    from transactions.models import Transaction

    monkeypatch.setattr("sync.demo.LOGINS_FILE", tmp_path / "logins.json")
    load_demo_data()
    foreign = Transaction.objects.get(currency="USD")
    tracked = Transaction.objects.filter(
        branch="Wellington",
        type__in=[TransactionType.SALES_INVOICE, TransactionType.SUPPLIER_INVOICE],
    ).first()
    freight = Contact.objects.get(name="Southern Cross Freight")
    bill = freight.transactions.filter(type=TransactionType.SUPPLIER_INVOICE).first()
    assert tracked is not None and bill is not None and freight.cost_center == "425"
    for contact in {foreign.contact, tracked.contact, freight}:
        linked(connection, sandbox, contact)

    run = sync(connection, [foreign, tracked, bill])

    assert item_of(run, foreign).refusal == SyncItem.Refusal.CURRENCY
    assert states(tracked, bill) == [SyncState.SYNCED] * 2
    invoices = {d["InvoiceNumber"]: d for d in in_xero(sandbox)}
    tracking = invoices[tracked.number]["LineItems"][0]["Tracking"]
    assert [(t["Name"], t["Option"]) for t in tracking] == [("Region", "Wellington")]
    assert {li["AccountCode"] for li in invoices[bill.number]["LineItems"]} == {"425"}


def test_the_admin_tab_lists_each_branchs_tracking_with_its_problem(
    connection, sandbox, accountant_client
):
    refusals.settings_refresh(connection=connection, tracking=True)
    BranchTracking.objects.create(branch="Wellington", category="Region", option="Wellington")
    BranchTracking.objects.create(branch="Otago", category="Region", option="Dunedin")

    html = unescape(accountant_client.get("/accounting/xero/admin/").content.decode())

    panel = html[html.index('id="branch-tracking"') :]
    assert "Region: Wellington" in panel
    assert "Tracking option Region: Dunedin is archived in Xero." in panel
    assert panel.count("archived in Xero") == 1


def test_the_errors_view_sends_a_currency_refusal_to_the_settings(
    connection, sandbox, accountant_client
):
    txn = transaction_of(linked(connection, sandbox), number="INV-USD-9", currency="USD")
    sync(connection, [txn])

    html = unescape(accountant_client.get("/accounting/xero/errors/").content.decode())

    assert "INV-USD-9 is in USD" in html
    assert '<a href="/accounting/xero/admin/"' in html and "Check the settings" in html


def test_the_settings_refresh_asks_only_for_what_is_used(connection, sandbox):
    from sync.models import XeroApiCall

    def paths() -> list[str]:
        calls = XeroApiCall.objects.filter(pk__gt=last).order_by("pk")
        return [c.endpoint.split("/api.xro/2.0")[1].split("?")[0] for c in calls]

    last = XeroApiCall.objects.order_by("pk").last().pk
    fetched = refusals.settings_refresh(connection=connection)
    assert paths() == ["/Accounts", "/TaxRates"]
    assert (fetched.tracking_categories, fetched.currencies) == (None, None)

    last = XeroApiCall.objects.order_by("pk").last().pk
    multicurrency(connection)
    BranchTracking.objects.create(branch="Wellington", category="Region", option="Wellington")
    fetched = refusals.settings_refresh(connection=connection)
    assert paths() == ["/Accounts", "/TaxRates", "/TrackingCategories", "/Currencies"]
    assert (fetched.tracking_categories, fetched.currencies) == (1, 3)
