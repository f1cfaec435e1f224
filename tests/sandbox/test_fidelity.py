"""How closely the sandbox follows Xero's contract: scopes, formats, shapes of answers.

Through the real SDK where it can make the call; plain HTTP where it cannot (other
methods, XML, an Accept other than JSON).
"""

import json
import re
from xml.etree import ElementTree as ET

import pytest
from xero_python.accounting import Contact, Contacts
from xero_python.exceptions import HTTPStatusException

from tests.plugins import sandbox as plugin
from tests.plugins.sandbox import http, make_sdk
from tests.sandbox.spec import read_spec
from xero_sandbox import gateway

JSON = "application/json"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"


def api(sandbox, method: str, path: str, body=None, *, accept: str | None = JSON, token=None):
    """One raw Accounting API call; `accept=None` sends no Accept header at all."""
    token = token or sandbox.issue_token()
    headers = {
        "Authorization": "Bearer " + token["access_token"],
        "xero-tenant-id": sandbox.demo_tenant_id,
    }
    if accept is not None:
        headers["Accept"] = accept
    return http(method, sandbox.url + "/api.xro/2.0" + path, body, headers=headers)


# Scopes ---------------------------------------------------------------------------------------


def _spec_path(pattern: str) -> str:
    return re.sub(r"\{key\}", "{ID}", pattern.removeprefix(gateway.PREFIX))


def test_every_route_accepts_exactly_the_scopes_the_spec_lists():
    spec = read_spec("xero_accounting.yaml")["paths"]
    by_template: dict[str, dict] = {}  # /Contacts/{ContactID} and /{ContactNumber} are one
    for path, item in spec.items():
        by_template.setdefault(re.sub(r"\{\w+\}", "{ID}", path), {}).update(item)
    router = gateway.routes()
    granular = {"accounting.invoices", "accounting.invoices.read"}
    for (method, pattern), (_, _, endpoint) in zip(router.patterns, router.routes, strict=True):
        operation = by_template[_spec_path(pattern)][method.lower()]
        listed = {scope for rule in operation["security"] for scope in rule["OAuth2"]}
        assert endpoint.scopes - granular == listed, (method, pattern)


@pytest.mark.parametrize("call", ["get_organisations", "get_accounts", "get_tax_rates"])
def test_settings_need_a_settings_scope(sandbox, call):
    contacts_only = make_sdk(
        sandbox,
        sandbox.issue_token(scope="offline_access accounting.contacts"),
        plugin.DEMO_TENANT_ID,
    )
    with pytest.raises(HTTPStatusException) as refused:
        getattr(contacts_only.accounting, call)(contacts_only.tenant_id)
    assert refused.value.status == 401
    assert b"AuthorizationUnsuccessful" in refused.value.body
    scope = "offline_access accounting.contacts accounting.settings.read"
    reader = make_sdk(sandbox, sandbox.issue_token(scope=scope), plugin.DEMO_TENANT_ID)
    assert getattr(reader.accounting, call)(reader.tenant_id)


# Methods a resource does not have -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/Contacts"),
        ("PUT", f"/Contacts/{ZERO_GUID}"),
        ("POST", "/Organisation"),
        ("DELETE", "/Invoices"),
        ("PUT", "/TaxRates/OUTPUT2"),
    ],
)
def test_a_method_the_resource_lacks_is_501_not_implemented(sandbox, method, path):
    answer = api(sandbox, method, path, {} if method != "DELETE" else None)
    assert answer.status == 501
    assert answer.json() == {
        "ErrorNumber": 20,
        "Type": "ApiMethodNotImplementedException",
        "Message": "The Api Method called is not implemented",
    }


def test_unknown_paths_stay_404(sandbox):
    assert api(sandbox, "GET", "/Bogus").status == 404
    assert api(sandbox, "DELETE", "/Bogus/1").status == 404


# Response format ------------------------------------------------------------------------------


def test_without_accept_json_the_answer_is_xml_with_the_envelope(sandbox):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Xml Ltd", "IsCustomer": True}])
    answer = api(sandbox, "GET", "/Contacts", accept=None)
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(answer.body)
    assert root.tag == "Response"
    assert [child.tag for child in root][:4] == ["Id", "Status", "ProviderName", "DateTimeUTC"]
    assert root.findtext("Id") == answer.headers["Xero-Correlation-Id"]
    contact = root.find("Contacts/Contact")
    assert contact is not None and contact.findtext("Name") == "Xml Ltd"
    assert contact.findtext("IsCustomer") == "true"
    assert [a.findtext("AddressType") for a in contact.findall("Addresses/Address")] == [
        "STREET",
        "POBOX",
    ]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", contact.findtext("UpdatedDateUTC")
    )


def test_an_accept_other_than_json_also_gets_xml(sandbox):
    answer = api(sandbox, "GET", "/Organisation", accept="*/*")
    assert ET.fromstring(answer.body).find("Organisations/Organisation/Name") is not None


def test_validation_errors_come_back_as_an_xml_api_exception(sandbox):
    answer = api(sandbox, "PUT", "/Contacts", {"Contacts": [{"Name": ""}]}, accept=None)
    assert answer.status == 400
    root = ET.fromstring(answer.body)
    assert root.tag == "ApiException"
    assert root.findtext("ErrorNumber") == "10" and root.findtext("Type") == "ValidationException"
    element = root.find("Elements/DataContractBase")
    assert element is not None
    assert element.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "Contact"
    messages = [m.text for m in element.findall("ValidationErrors/ValidationError/Message")]
    assert messages == ["Contact Name cannot be empty."]


def test_every_answer_carries_a_correlation_id_equal_to_the_envelope_id(sandbox, sandbox_sdk):
    seen: list[tuple[dict, bytes]] = []
    plugin.RESPONSE_HOOKS.append(lambda m, u, status, headers, body: seen.append((headers, body)))
    try:
        sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id)
        sandbox_sdk.accounting.get_organisations(sandbox_sdk.tenant_id)
    finally:
        plugin.RESPONSE_HOOKS.pop()
    for headers, body in seen:
        assert headers["Content-Type"].startswith(JSON)  # the SDK asks for JSON
        assert json.loads(body)["Id"] == headers["Xero-Correlation-Id"]
    for answer in (
        api(sandbox, "PUT", "/Contacts", {"Contacts": [{"Name": ""}]}),
        api(sandbox, "DELETE", "/Contacts"),
        api(sandbox, "GET", "/Contacts", accept=None),
        api(sandbox, "GET", "/Contacts", token={"access_token": "nope"}),
    ):
        assert re.fullmatch(r"[0-9a-f-]{36}", answer.headers["Xero-Correlation-Id"])
    created = api(sandbox, "PUT", "/Contacts", {"Contacts": [{"Name": "Id Ltd"}]})
    assert created.json()["Id"] == created.headers["Xero-Correlation-Id"]


def test_the_sdk_still_reads_what_it_writes(sandbox_sdk):
    """The SDK sends Accept: application/json, so its traffic stays JSON end to end."""
    contacts = Contacts(contacts=[Contact(name="Json Ltd")])
    created = sandbox_sdk.accounting.create_contacts(sandbox_sdk.tenant_id, contacts)
    assert created.contacts[0].name == "Json Ltd"
