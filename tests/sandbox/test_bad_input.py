"""Input Xero refuses must get Xero's 400, never a 500, a hang, or a stored oddity."""

import time

import pytest
from xero_python.exceptions import AccountingBadRequestException

from tests.sandbox.test_fidelity import api

# where and order ----------------------------------------------------------------------------

HOSTILE_WHERE = [
    "(" * 5000 + 'Name=="a"' + ")" * 5000,
    "!" * 5000 + 'Name=="a"',
    "NOT " * 300 + 'Name=="a"',
    "Name" + ".ToLower()" * 1000 + '=="a"',
    "Name" + ".ToLower()" * 6 + '=="a"',
    'Name=="a" OR ' * 400 + 'Name=="b"',
    "Name.StartsWith()",
    "Name.StartsWith(1)",
    'Name.Contains("a", "b")',
    'Name.ToLower("x")=="a"',
    'IsCustomer.ToLower()=="true"',
    "Name.Bogus()",
    "Name.",
    ".ToLower()",
    "Name..x",
    "DateTime(99999999999999999999, 1, 1) < UpdatedDateUTC",
    "UpdatedDateUTC > 1" + "0" * 400,
    'Name=="' + "a" * 5000 + '"',
    'Name=="unterminated',
]


@pytest.mark.parametrize("where", HOSTILE_WHERE, ids=range(len(HOSTILE_WHERE)))
def test_hostile_where_is_a_quick_query_parse_exception(sandbox, sandbox_sdk, where):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 50)
    started = time.monotonic()
    with pytest.raises(AccountingBadRequestException) as refused:
        sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, where=where)
    assert time.monotonic() - started < 2
    body = refused.value.error_data
    assert body["ErrorNumber"] == 16 and body["Type"] == "QueryParseException"
    assert body["Message"]


HOSTILE_ORDER = ["Name ASC," * 1000, "Name SIDEWAYS", "Addresses ASC", "Bogus DESC", "x" * 5000]


@pytest.mark.parametrize("order", HOSTILE_ORDER, ids=range(len(HOSTILE_ORDER)))
def test_hostile_order_is_a_query_parse_exception(sandbox, sandbox_sdk, order):
    sandbox.generate_contacts(sandbox.demo_tenant_id, 20)
    with pytest.raises(AccountingBadRequestException) as refused:
        sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, order=order)
    assert refused.value.error_data["Type"] == "QueryParseException"


def test_bounded_where_still_answers(sandbox, sandbox_sdk):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Deep Ltd"}])
    where = "(" * 20 + 'Name.ToLower().ToUpper().Contains("DEEP")' + ")" * 20
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, where=where).contacts
    assert [c.name for c in found] == ["Deep Ltd"]


def test_hostile_where_on_documents_over_raw_http(sandbox):
    answer = api(sandbox, "GET", "/PurchaseOrders?where=" + "(" * 3000)
    assert answer.status == 400 and answer.json()["Type"] == "QueryParseException"
