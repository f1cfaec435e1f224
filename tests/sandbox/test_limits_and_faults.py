"""Rate limits as Xero counts them, and faults on demand (issue 3).

Xero's limits: https://developer.xero.com/faq/limits
"""

import threading
import time
import uuid

import pytest
import urllib3
from xero_python.accounting import Contact, Invoice, Invoices, LineItem
from xero_python.exceptions import HTTPStatusException, RateLimitException

from tests.plugins.sandbox import http, make_sdk


def _get(sandbox, token: dict, tenant_id: str, path: str = "/Organisation"):
    headers = {"Authorization": "Bearer " + token["access_token"], "xero-tenant-id": tenant_id}
    return http("GET", sandbox.url + "/api.xro/2.0" + path, headers=headers)


def test_every_answer_carries_the_remaining_limit_headers(sandbox):
    token = sandbox.issue_token()
    first = _get(sandbox, token, sandbox.demo_tenant_id)
    second = _get(sandbox, token, sandbox.demo_tenant_id, "/Contacts")
    assert (first.headers["X-MinLimit-Remaining"], second.headers["X-MinLimit-Remaining"]) == (
        "59",
        "58",
    )
    assert second.headers["X-DayLimit-Remaining"] == "4998"
    assert second.headers["X-AppMinLimit-Remaining"] == "9998"


def test_minute_limit_gives_429_then_frees_as_the_window_rolls(sandbox, sandbox_sdk):
    sandbox.rate_limits(enabled=True, minute=3)
    for _ in range(3):
        sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id)
    with pytest.raises(RateLimitException) as refused:
        sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id)
    assert refused.value.rate_limit == "minute"
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    sandbox.advance_clock(61)
    assert sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id).organisations


def test_limits_are_per_organisation(sandbox):
    sandbox.rate_limits(enabled=True, minute=1)
    token = sandbox.issue_token(tenant_ids=[sandbox.demo_tenant_id, sandbox.harbour_tenant_id])
    assert _get(sandbox, token, sandbox.demo_tenant_id).status == 200
    assert _get(sandbox, token, sandbox.harbour_tenant_id).status == 200
    refused = _get(sandbox, token, sandbox.demo_tenant_id)
    assert refused.status == 429 and refused.headers["X-Rate-Limit-Problem"] == "minute"


def test_starter_organisation_has_1000_calls_a_day(sandbox):
    starter = sandbox.create_organisation(name="Tiny Startup Ltd", tier="STARTER")["tenantId"]
    token = sandbox.issue_token(tenant_ids=[starter])
    assert _get(sandbox, token, starter).headers["X-DayLimit-Remaining"] == "999"


def test_day_limit_gives_429_day_with_a_long_retry_after(sandbox):
    sandbox.rate_limits(enabled=True, day=2)
    token = sandbox.issue_token()
    for _ in range(2):
        assert _get(sandbox, token, sandbox.demo_tenant_id).status == 200
    refused = _get(sandbox, token, sandbox.demo_tenant_id)
    assert refused.status == 429 and refused.headers["X-Rate-Limit-Problem"] == "day"
    assert int(refused.headers["Retry-After"]) > 80_000


def test_scaled_windows_for_fast_tests(sandbox):
    sandbox.rate_limits(enabled=True, minute=2, scale=60)  # a "minute" lasts one second
    token = sandbox.issue_token()
    assert [_get(sandbox, token, sandbox.demo_tenant_id).status for _ in range(3)] == [
        200,
        200,
        429,
    ]
    sandbox.advance_clock(1.1)
    assert _get(sandbox, token, sandbox.demo_tenant_id).status == 200


def test_concurrent_limit(sandbox):
    sandbox.rate_limits(enabled=True, concurrent=1)
    sandbox.fault(kind="hang", seconds=1.0, count=1, path="/api.xro/2.0/Organisation")
    token = sandbox.issue_token()
    slow = threading.Thread(target=_get, args=(sandbox, token, sandbox.demo_tenant_id))
    slow.start()
    time.sleep(0.3)  # the slow call now holds the only slot
    refused = _get(sandbox, token, sandbox.demo_tenant_id, "/Contacts")
    slow.join()
    assert refused.status == 429 and refused.headers["X-Rate-Limit-Problem"] == "concurrent"


def test_control_api_never_counts(sandbox):
    sandbox.rate_limits(enabled=True, minute=1)
    for _ in range(5):
        sandbox.state()
    sandbox.generate_contacts(sandbox.demo_tenant_id, 10)
    assert _get(sandbox, sandbox.issue_token(), sandbox.demo_tenant_id).status == 200


@pytest.mark.parametrize("status", [500, 503])
def test_next_n_calls_fail_with_status(sandbox, sandbox_sdk, status):
    sandbox.fault(status=status, count=2)
    for _ in range(2):
        with pytest.raises(HTTPStatusException) as failed:
            sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id)
        assert failed.value.status == status
    assert sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id).organisations


def test_injected_429_is_a_rate_limit_exception(sandbox, sandbox_sdk):
    sandbox.fault(status=429, count=1)
    with pytest.raises(RateLimitException) as refused:
        sandbox_sdk.accounting.get_contacts(sandbox.demo_tenant_id)
    assert refused.value.rate_limit == "minute"


def test_share_of_calls_scoped_to_a_path_and_cleared(sandbox, sandbox_sdk):
    sandbox.fault(share=1.0, status=500, path="/api.xro/2.0/Invoices")
    assert sandbox_sdk.accounting.get_contacts(sandbox.demo_tenant_id).contacts == []
    with pytest.raises(HTTPStatusException):
        sandbox_sdk.accounting.get_invoices(sandbox.demo_tenant_id)
    sandbox.clear_faults()
    assert sandbox_sdk.accounting.get_invoices(sandbox.demo_tenant_id).invoices == []


def test_a_share_of_calls_fails_evenly_not_by_chance(sandbox, sandbox_sdk):
    sandbox.fault(share=0.25, status=500, path="/api.xro/2.0/Organisation")
    failed = 0
    for _ in range(40):
        try:
            sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id)
        except HTTPStatusException:
            failed += 1
    assert failed == 10


def _bill(contact_id: str) -> Invoices:
    line = LineItem(description="Stock", quantity=1, unit_amount=100, account_code="310")
    return Invoices(
        invoices=[Invoice(type="ACCPAY", contact=Contact(contact_id=contact_id), line_items=[line])]
    )


def test_drop_after_commit_then_idempotent_retry_creates_once(sandbox, sandbox_sdk):
    supplier = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Supplier"}])[0]
    sandbox.fault(kind="drop_after_commit", count=1, method="PUT")
    key = uuid.uuid4().hex
    with pytest.raises(urllib3.exceptions.HTTPError):
        sandbox_sdk.accounting.create_invoices(
            sandbox.demo_tenant_id, _bill(supplier), idempotency_key=key
        )
    assert len(sandbox.documents(sandbox.demo_tenant_id)) == 1  # committed before the drop
    retried = sandbox_sdk.accounting.create_invoices(
        sandbox.demo_tenant_id, _bill(supplier), idempotency_key=key
    )
    assert (
        retried.invoices[0].invoice_id == sandbox.documents(sandbox.demo_tenant_id)[0]["InvoiceID"]
    )
    assert len(sandbox.documents(sandbox.demo_tenant_id)) == 1


def test_drop_after_commit_without_a_key_duplicates_a_bill(sandbox, sandbox_sdk):
    supplier = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Supplier"}])[0]
    sandbox.fault(kind="drop_after_commit", count=1)
    with pytest.raises(urllib3.exceptions.HTTPError):
        sandbox_sdk.accounting.create_invoices(sandbox.demo_tenant_id, _bill(supplier))
    sandbox_sdk.accounting.create_invoices(sandbox.demo_tenant_id, _bill(supplier))
    # Why keys matter: bill (ACCPAY) numbers need not be unique, so the replay is a second
    # bill (https://developer.xero.com/documentation/api/invoices).
    assert len(sandbox.documents(sandbox.demo_tenant_id)) == 2


def test_hang_past_the_client_timeout(sandbox, sandbox_sdk):
    sandbox.fault(kind="hang", seconds=1.5, count=1)
    with pytest.raises(urllib3.exceptions.HTTPError):
        sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id, _request_timeout=(5, 0.3))
    assert sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id).organisations


def test_urllib3_retries_a_429_put_when_the_sdk_is_left_to_retry(sandbox):
    """Left to urllib3's retries, a GET that gets 429 is retried.

    urllib3 retries a GET or PUT whose 429 (or 503) carries Retry-After, sleeping that long
    each time, up to 4 requests in all; POST is never retried.
    """
    sdk = make_sdk(sandbox, sandbox.issue_token(), sandbox.demo_tenant_id, retries=3)
    sandbox.fault(status=429, count=1, retry_after=1)
    contacts = sdk.accounting.get_contacts(sandbox.demo_tenant_id)
    assert contacts.contacts == []


REMAINING = ("X-DayLimit-Remaining", "X-MinLimit-Remaining", "X-AppMinLimit-Remaining")


def _remaining(answer) -> tuple[str, ...]:
    return tuple(answer.headers[name] for name in REMAINING)


def test_refusals_carry_the_remaining_counts_without_counting(sandbox):
    """Every API answer has the headers; the sandbox does not count 401 and 403.

    The headers: https://developer.xero.com/faq/limits
    """
    token = sandbox.issue_token()
    assert _remaining(_get(sandbox, token, sandbox.demo_tenant_id)) == ("4999", "59", "9999")
    bad_token = _get(sandbox, {"access_token": "nope"}, sandbox.demo_tenant_id)
    assert bad_token.status == 401
    assert _remaining(bad_token) == ("4999", "59", "10000")  # no app behind a bad token
    other_org = _get(sandbox, token, sandbox.harbour_tenant_id)
    assert other_org.status == 403
    assert _remaining(other_org) == ("5000", "60", "9999")
    no_scope = sandbox.issue_token(scope="openid offline_access accounting.contacts")
    refused = _get(sandbox, no_scope, sandbox.demo_tenant_id, "/Accounts")
    assert refused.status == 401 and _remaining(refused) == ("4999", "59", "9999")
    assert _remaining(_get(sandbox, token, sandbox.demo_tenant_id)) == ("4998", "58", "9998")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_injected_faults_carry_the_remaining_counts(sandbox, status):
    token = sandbox.issue_token()
    _get(sandbox, token, sandbox.demo_tenant_id)
    sandbox.fault(status=status, count=1, path="/api.xro/2.0/")
    failed = _get(sandbox, token, sandbox.demo_tenant_id)
    assert failed.status == status
    assert _remaining(failed) == ("4999", "59", "9999")
    if status == 429:
        assert failed.headers["X-Rate-Limit-Problem"] == "minute"
