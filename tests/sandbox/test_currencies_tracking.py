"""Currencies and tracking categories through the real SDK: the lists, their writes, and the
rules documents meet (every answer checked against Xero's spec by the sandbox plugin).

https://developer.xero.com/documentation/api/accounting/currencies
https://developer.xero.com/documentation/api/accounting/trackingcategories
"""

import pytest
from xero_python.accounting import (
    Contact,
    Currency,
    CurrencyCode,
    Invoice,
    Invoices,
    LineItem,
    LineItemTracking,
    TrackingCategory,
    TrackingOption,
)
from xero_python.exceptions import AccountingBadRequestException

from tests.plugins.sandbox import DEFAULT_SCOPE, make_sdk
from tests.sandbox.calls import api


@pytest.fixture
def admin_sdk(sandbox):
    """The SDK with a token that may change settings (accounting.settings)."""
    token = sandbox.issue_token(scope=DEFAULT_SCOPE + " accounting.settings")
    return make_sdk(sandbox, token, sandbox.demo_tenant_id)


@pytest.fixture
def customer(sandbox) -> str:
    return sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Abroad Ltd"}])[0]


def _invoice(sdk, customer: str, **fields):
    line = fields.pop("line", None) or LineItem(
        description="Honey", quantity=1, unit_amount=100, account_code="200"
    )
    invoice = Invoice(
        type="ACCREC", contact=Contact(contact_id=customer), line_items=[line], **fields
    )
    return sdk.accounting.update_or_create_invoices(
        sdk.tenant_id, Invoices(invoices=[invoice]), summarize_errors=False
    ).invoices[0]


def _errors(element) -> list[str]:
    return [e.message for e in element.validation_errors or []]


# --- Currencies --------------------------------------------------------------------------------


def test_the_demo_company_lists_its_base_currency_first_and_those_it_added(sandbox_sdk):
    found = sandbox_sdk.accounting.get_currencies(sandbox_sdk.tenant_id).currencies
    assert [c.code.value for c in found] == ["NZD", "AUD", "USD"]
    assert found[0].description == "New Zealand Dollar"


def test_a_document_in_a_currency_the_organisation_lacks_is_refused(sandbox_sdk, customer):
    element = _invoice(sandbox_sdk, customer, currency_code=CurrencyCode.GBP)
    assert _errors(element) == ["[sandbox] Organisation is not subscribed to currency GBP"]


def test_a_currency_added_is_listed_and_documents_may_use_it(admin_sdk, customer):
    added = admin_sdk.accounting.create_currency(
        admin_sdk.tenant_id, Currency(code=CurrencyCode.GBP, description="British Pound")
    ).currencies
    assert [c.code.value for c in added] == ["GBP"]
    listed = admin_sdk.accounting.get_currencies(admin_sdk.tenant_id).currencies
    assert "GBP" in [c.code.value for c in listed]

    element = _invoice(admin_sdk, customer, currency_code=CurrencyCode.GBP, currency_rate=0.5)
    assert _errors(element) == []
    assert element.currency_code.value == "GBP" and float(element.currency_rate) == 0.5


def test_adding_a_currency_needs_the_settings_scope(sandbox_sdk):
    with pytest.raises(Exception) as raised:
        sandbox_sdk.accounting.create_currency(
            sandbox_sdk.tenant_id, Currency(code=CurrencyCode.EUR, description="Euro")
        )
    assert getattr(raised.value, "status", None) == 401


def test_another_organisation_without_multicurrency_lists_only_its_base(sandbox):
    token = sandbox.issue_token(tenant_ids=[sandbox.harbour_tenant_id])
    harbour = make_sdk(sandbox, token, sandbox.harbour_tenant_id)
    found = harbour.accounting.get_currencies(sandbox.harbour_tenant_id).currencies
    assert [c.code.value for c in found] == ["NZD"]


# --- Tracking categories -----------------------------------------------------------------------


def test_tracking_categories_leave_out_archived_options_unless_asked(sandbox_sdk):
    (region,) = sandbox_sdk.accounting.get_tracking_categories(
        sandbox_sdk.tenant_id
    ).tracking_categories
    assert region.name == "Region" and region.status == "ACTIVE"
    assert [o.name for o in region.options] == ["Auckland", "Wellington", "Christchurch"]
    (everything,) = sandbox_sdk.accounting.get_tracking_categories(
        sandbox_sdk.tenant_id, include_archived=True
    ).tracking_categories
    statuses = {o.name: o.status for o in everything.options}
    assert statuses["Dunedin"] == "ARCHIVED"


def test_lines_carry_an_active_tracking_option(sandbox_sdk, customer):
    line = LineItem(
        description="Honey",
        quantity=1,
        unit_amount=100,
        account_code="200",
        tracking=[LineItemTracking(name="Region", option="Wellington")],
    )
    element = _invoice(sandbox_sdk, customer, line=line)
    assert _errors(element) == []
    (tracking,) = element.line_items[0].tracking
    assert (tracking.name, tracking.option) == ("Region", "Wellington")
    assert tracking.tracking_category_id and tracking.tracking_option_id


@pytest.mark.parametrize(
    ("category", "option", "message"),
    [
        ("Region", "Dunedin", "[sandbox] The tracking option Dunedin of Region does not exist"),
        ("Region", "Paris", "[sandbox] The tracking option Paris of Region does not exist"),
        ("Channel", "Online", "[sandbox] The tracking category Channel does not exist"),
    ],
)
def test_an_archived_or_unknown_tracking_option_is_refused(
    sandbox_sdk, customer, category, option, message
):
    line = LineItem(
        description="Honey",
        quantity=1,
        unit_amount=100,
        account_code="200",
        tracking=[LineItemTracking(name=category, option=option)],
    )
    (error,) = _errors(_invoice(sandbox_sdk, customer, line=line))
    assert error.startswith(message)


def test_a_line_takes_at_most_two_tracking_categories(sandbox, customer):
    tracking = [{"Name": "Region", "Option": "Auckland"}] * 3
    line = {"Description": "x", "UnitAmount": 1, "AccountCode": "200", "Tracking": tracking}
    body = {
        "Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": customer}, "LineItems": [line]}]
    }
    answer = api(sandbox, "PUT", "/Invoices", body)
    assert answer.status == 400
    (element,) = answer.json()["Elements"]
    assert element["ValidationErrors"] == [
        {"Message": "[sandbox] A line item can have at most 2 tracking categories"}
    ]


def test_categories_and_options_are_created_archived_and_deleted(admin_sdk, customer):
    accounting, tenant = admin_sdk.accounting, admin_sdk.tenant_id
    (channel,) = accounting.create_tracking_category(
        tenant, TrackingCategory(name="Channel")
    ).tracking_categories
    (online,) = accounting.create_tracking_options(
        tenant, channel.tracking_category_id, TrackingOption(name="Online")
    ).options
    assert online.status == "ACTIVE"

    # At most two active categories.
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting.create_tracking_category(tenant, TrackingCategory(name="Third"))
    assert "at most 2 active tracking categories" in raised.value.reason

    accounting.update_tracking_options(
        tenant,
        channel.tracking_category_id,
        online.tracking_option_id,
        TrackingOption(name="Online", status="ARCHIVED"),
    )
    line = LineItem(
        description="Honey",
        quantity=1,
        unit_amount=100,
        account_code="200",
        tracking=[LineItemTracking(name="Channel", option="Online")],
    )
    assert "is archived" in _errors(_invoice(admin_sdk, customer, line=line))[0]

    accounting.delete_tracking_category(tenant, channel.tracking_category_id)
    names = [c.name for c in accounting.get_tracking_categories(tenant).tracking_categories]
    assert names == ["Region"]
