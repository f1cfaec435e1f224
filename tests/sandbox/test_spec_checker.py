"""The spec check itself must be able to fail, or the suite proves nothing."""

import json

import pytest

from tests.sandbox.spec import SpecMismatch

URL = "http://sandbox/api.xro/2.0/Contacts"
JSON = {"Content-Type": "application/json"}


def _contacts(**contact) -> bytes:
    return json.dumps(
        {"Contacts": [{"ContactID": "3ff6d40c-af9a-40a3-89ce-3c1556a25591", **contact}]}
    ).encode()


def test_valid_contacts_answer_passes(spec_checker):
    spec_checker.check("GET", URL, 200, JSON, _contacts(ContactStatus="ACTIVE", Name="A"))


@pytest.mark.parametrize(
    "contact",
    [{"ContactStatus": "DELETED"}, {"IsCustomer": "yes"}, {"ContactID": "not-a-guid"}],
)
def test_answers_outside_the_spec_fail(spec_checker, contact):
    with pytest.raises(SpecMismatch):
        spec_checker.check("GET", URL, 200, JSON, _contacts(**contact))


def test_undeclared_statuses_must_match_xero_shapes(spec_checker):
    spec_checker.check(
        "GET",
        URL,
        404,
        {"Content-Type": "text/html"},
        b"The resource you're looking for cannot be found",
    )
    with pytest.raises(SpecMismatch):
        spec_checker.check("GET", URL, 404, JSON, b'{"error": "not found"}')
    with pytest.raises(SpecMismatch):
        spec_checker.check("GET", URL, 429, JSON, b"{}")  # no Retry-After
    with pytest.raises(SpecMismatch):
        spec_checker.check("GET", URL, 403, JSON, b'{"Title": "Nope"}')


def test_token_answers_carry_only_xero_keys(spec_checker):
    token = {"access_token": "a", "expires_in": 1800, "token_type": "Bearer", "scope": "x"}
    spec_checker.check(
        "POST", "http://sandbox/connect/token", 200, JSON, json.dumps(token).encode()
    )
    extra = {**token, "authentication_event_id": "e"}
    with pytest.raises(SpecMismatch):
        spec_checker.check(
            "POST", "http://sandbox/connect/token", 200, JSON, json.dumps(extra).encode()
        )
