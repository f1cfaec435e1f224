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


XML = {"Content-Type": "text/xml; charset=utf-8"}


def _xml_contacts(contact: str) -> bytes:
    return (
        "<Response><Id>3ff6d40c-af9a-40a3-89ce-3c1556a25591</Id><Status>OK</Status>"
        "<ProviderName>p</ProviderName><DateTimeUTC>2024-01-02T03:04:05Z</DateTimeUTC>"
        f"<Contacts><Contact>{contact}</Contact></Contacts></Response>"
    ).encode()


def test_xml_answers_are_read_back_against_the_spec(spec_checker):
    valid = (
        "<ContactID>3ff6d40c-af9a-40a3-89ce-3c1556a25591</ContactID><Name>A</Name>"
        "<IsCustomer>true</IsCustomer><UpdatedDateUTC>2024-01-02T03:04:05.678</UpdatedDateUTC>"
        "<Addresses><Address><AddressType>POBOX</AddressType></Address></Addresses>"
    )
    spec_checker.check("GET", URL, 200, XML, _xml_contacts(valid))
    for wrong in (
        "<Bogus>1</Bogus>",  # not a property of Contact
        "<ContactStatus>DELETED</ContactStatus>",  # not in the enum
        "<IsCustomer>yes</IsCustomer>",
        "<Addresses><Phone><PhoneType>DDI</PhoneType></Phone></Addresses>",
    ):
        with pytest.raises(SpecMismatch):
            spec_checker.check("GET", URL, 200, XML, _xml_contacts(wrong))
    error = b"<ApiException><ErrorNumber>20</ErrorNumber><Type>T</Type><Message>M</Message>"
    spec_checker.check("PUT", URL, 400, XML, error + b"</ApiException>")
    with pytest.raises(SpecMismatch):
        spec_checker.check("PUT", URL, 400, XML, error + b"<Oops /></ApiException>")
