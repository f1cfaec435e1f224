"""The account mapping guards against mistakes: accounts and tax rates chosen by name, a tax
rate that does not suit a type's documents warned of, every input labelled."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import AccountMapping, TaxRate
from sync.syncing import refusals
from sync.syncing.mapping import tax_type_warning
from tests.factories import ChartAccountFactory, TaxRateFactory, XeroConnectionFactory
from transactions.models import TransactionType

pytestmark = pytest.mark.django_db

ADMIN_TAB = reverse("sync:admin_tab")


@pytest.fixture
def organisation():
    connection = XeroConnectionFactory(connected_at=timezone.now() + timedelta(days=1))
    ChartAccountFactory(connection=connection, code="200", name="Sales")
    ChartAccountFactory(connection=connection, code="210", name="Old Sales", status="ARCHIVED")
    TaxRateFactory(
        connection=connection,
        tax_type="OUTPUT2",
        name="GST on Income",
        can_apply_to_revenue=True,
        can_apply_to_expenses=False,
    )
    TaxRateFactory(
        connection=connection,
        tax_type="INPUT2",
        name="GST on Expenses",
        can_apply_to_revenue=False,
        can_apply_to_expenses=True,
    )
    return connection


def row(html: str, transaction_type: str) -> str:
    found = re.search(rf'<tr id="mapping-{transaction_type}">.*?</tr>', html, re.S)
    assert found, transaction_type
    return found.group(0)


def test_accounts_and_tax_rates_are_chosen_by_code_and_name(organisation, admin_client):
    html = row(admin_client.get(ADMIN_TAB).content.decode(), "sales_invoice")
    assert '<option value="200">200 \N{EM DASH} Sales</option>' in html
    assert "Old Sales" not in html  # archived: not offered
    assert '<option value="OUTPUT2">OUTPUT2 \N{EM DASH} GST on Income</option>' in html
    assert "INPUT2 \N{EM DASH} GST on Expenses (not for these documents)" in html


def test_a_saved_mapping_no_longer_offered_is_still_shown_as_it_is(organisation, admin_client):
    AccountMapping.objects.create(
        connection=organisation, transaction_type="sales_invoice", account_code="210"
    )
    html = row(admin_client.get(ADMIN_TAB).content.decode(), "sales_invoice")
    assert re.search(r'<option value="210" selected>210 — Old Sales \(not active\)</option>', html)


def test_every_mapping_input_has_a_label(organisation, admin_client):
    html = admin_client.get(ADMIN_TAB).content.decode()
    mapping = html[html.index('id="mapping"') : html.index("</table>", html.index('id="mapping"'))]
    inputs = re.findall(r'<select [^>]*id="([^"]+)"', mapping)
    assert len(inputs) == 2 * len(TransactionType.values)
    for input_id in inputs:
        assert re.search(rf'<label [^>]*for="{input_id}"[^>]*>[^<]+</label>', mapping), input_id
    assert "Tax type for sales invoice</label>" in mapping


def test_an_input_tax_on_sales_and_an_output_tax_on_purchases_are_warned_of(
    organisation, admin_client
):
    AccountMapping.objects.create(
        connection=organisation, transaction_type="sales_invoice", tax_type="INPUT2"
    )
    AccountMapping.objects.create(
        connection=organisation, transaction_type="supplier_invoice", tax_type="OUTPUT2"
    )
    AccountMapping.objects.create(
        connection=organisation, transaction_type="sales_credit_note", tax_type="OUTPUT2"
    )
    html = admin_client.get(ADMIN_TAB).content.decode()

    assert "GST on Expenses (INPUT2) is a tax on purchases, not sales" in row(html, "sales_invoice")
    assert "GST on Income (OUTPUT2) is a tax on sales, not purchases" in row(
        html, "supplier_invoice"
    )
    assert "mapping-warning" not in row(html, "sales_credit_note")


def test_a_rate_whose_use_xero_has_not_said_is_not_warned_of():
    unknown = TaxRate(tax_type="TAX001", name="Custom", can_apply_to_revenue=None)
    assert tax_type_warning(transaction_type="sales_invoice", rate=unknown) == ""
    assert tax_type_warning(transaction_type="purchase_order", rate=unknown) == ""


def test_fetching_keeps_what_each_tax_rate_applies_to(connection, sandbox):
    refusals.settings_refresh(connection=connection)
    rates = {r.tax_type: r for r in TaxRate.objects.filter(connection=connection)}
    assert (rates["OUTPUT2"].can_apply_to_revenue, rates["OUTPUT2"].can_apply_to_expenses) == (
        True,
        False,
    )
    assert (rates["INPUT2"].can_apply_to_revenue, rates["INPUT2"].can_apply_to_expenses) == (
        False,
        True,
    )
