"""How closely the sandbox follows Xero's contract: scopes, formats, shapes of answers.

Through the real SDK where it can make the call; plain HTTP where it cannot (other
methods, XML, an Accept other than JSON).
"""

import json
import re
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest
from xero_python.accounting import (
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    CurrencyCode,
    Invoice,
    Invoices,
    LineItem,
)
from xero_python.exceptions import AccountingBadRequestException, HTTPStatusException

from tests.plugins import sandbox as plugin
from tests.plugins.sandbox import make_sdk
from tests.sandbox.calls import JSON, api
from xero_sandbox import gateway, schema

ZERO_GUID = "00000000-0000-0000-0000-000000000000"


# Scopes ---------------------------------------------------------------------------------------


def _spec_path(pattern: str) -> str:
    return re.sub(r"\{\w+\}", "{ID}", pattern.removeprefix(gateway.PREFIX))


def test_every_route_accepts_exactly_the_scopes_the_spec_lists(spec_checker):
    spec = spec_checker.raw["paths"]
    by_template: dict[str, dict] = {}  # /Contacts/{ContactID} and /{ContactNumber} are one
    for path, item in spec.items():
        by_template.setdefault(re.sub(r"\{\w+\}", "{ID}", path), {}).update(item)
    router = gateway.routes()
    granular = {
        "accounting.invoices",
        "accounting.invoices.read",
        "accounting.payments",
        "accounting.payments.read",
    }
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
    sandbox.fault(status=503, count=1, path="/api.xro/2.0/")
    assert api(sandbox, "GET", "/Contacts").headers["Xero-Correlation-Id"]  # injected, too
    created = api(sandbox, "PUT", "/Contacts", {"Contacts": [{"Name": "Id Ltd"}]})
    assert created.json()["Id"] == created.headers["Xero-Correlation-Id"]


def test_the_sdk_still_reads_what_it_writes(sandbox_sdk):
    """The SDK sends Accept: application/json, so its traffic stays JSON end to end."""
    contacts = Contacts(contacts=[Contact(name="Json Ltd")])
    created = sandbox_sdk.accounting.create_contacts(sandbox_sdk.tenant_id, contacts)
    assert created.contacts[0].name == "Json Ltd"


# Unknown where fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "type_name"),
    [
        ("get_contacts", "Contact"),
        ("get_invoices", "Invoice"),
        ("get_credit_notes", "CreditNote"),
        ("get_accounts", "Account"),
        ("get_tax_rates", "TaxRate"),
    ],
)
def test_an_unknown_where_field_names_the_type(sandbox_sdk, call, type_name):
    with pytest.raises(AccountingBadRequestException) as refused:
        getattr(sandbox_sdk.accounting, call)(sandbox_sdk.tenant_id, where='Bogus=="1"')
    assert refused.value.error_data == {
        "ErrorNumber": 16,
        "Type": "QueryParseException",
        "Message": f"No property or field 'Bogus' exists in type '{type_name}'",
    }


def test_unknown_fields_in_purchase_orders_and_embedded_contacts(sandbox):
    answer = api(sandbox, "GET", '/PurchaseOrders?where=Bogus=="1"')
    assert answer.status == 400
    assert answer.json()["Message"] == "No property or field 'Bogus' exists in type 'PurchaseOrder'"
    answer = api(sandbox, "GET", '/Invoices?where=Contact.Nmae=="1"')
    assert answer.json()["Message"] == "No property or field 'Nmae' exists in type 'Contact'"
    answer = api(sandbox, "GET", "/Contacts?order=Bogus")
    assert answer.json()["Message"] == "No property or field 'Bogus' exists in type 'Contact'"


def test_where_names_are_case_insensitive_like_xeros(sandbox, sandbox_sdk):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Case Ltd"}, {"Name": "Other"}])
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, where='name=="case ltd"')
    assert [c.name for c in found.contacts] == ["Case Ltd"]


def test_the_property_tables_are_the_specs(spec_checker):
    for type_name, names in schema.PROPERTIES.items():
        assert names == set(spec_checker.schemas[type_name]["properties"]), type_name


# Default order -------------------------------------------------------------------------------


def test_contacts_come_by_name_then_contact_id_on_every_page(sandbox, sandbox_sdk):
    names = ["b", "A", "c", "a", "B"] * 3
    sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": f"{n} {i}"} for i, n in enumerate(names)]
    )
    pages = [
        sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, page=p, page_size=4).contacts
        for p in (1, 2, 3, 4)
    ]
    listed = [(c.name.casefold(), str(c.contact_id)) for page in pages for c in page]
    assert listed == sorted(listed) and len(listed) == len(names)
    ordered = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, order="IsCustomer")
    ids = [str(c.contact_id) for c in ordered.contacts]
    assert ids == sorted(ids)  # ties broken by ContactID


# Documents -----------------------------------------------------------------------------------


@pytest.fixture
def customer(sandbox) -> str:
    body = {
        "Name": "Full Ltd",
        "EmailAddress": "accounts@full.example",
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "555 1234"}],
    }
    return sandbox.seed_contacts(sandbox.demo_tenant_id, [body])[0]


def _invoice(contact_id: str, **fields) -> Invoice:
    fields.setdefault("line_items", [LineItem(description="W", quantity=1, unit_amount=10)])
    return Invoice(type="ACCREC", contact=Contact(contact_id=contact_id), **fields)


def _create(sdk, *invoices: Invoice, **options):
    return sdk.accounting.create_invoices(
        sdk.tenant_id, Invoices(invoices=list(invoices)), **options
    )


def test_unit_amount_is_rounded_to_two_places_unless_unitdp_is_4(sandbox_sdk, customer):
    line = LineItem(
        description="W", quantity=3, unit_amount=3.333, account_code="200", tax_type="OUTPUT2"
    )
    created = _create(sandbox_sdk, _invoice(customer, line_items=[line])).invoices[0]
    assert created.line_items[0].unit_amount == Decimal("3.33")
    assert created.line_items[0].line_amount == Decimal("9.99")
    assert created.total == Decimal("11.49")
    read = sandbox_sdk.accounting.get_invoice(sandbox_sdk.tenant_id, created.invoice_id)
    assert read.invoices[0].line_items[0].unit_amount == Decimal("3.33")
    four = _create(sandbox_sdk, _invoice(customer, line_items=[line]), unitdp=4).invoices[0]
    assert four.line_items[0].unit_amount == Decimal("3.333")
    assert four.total == Decimal("11.5")


def test_voided_and_deleted_documents_owe_nothing(sandbox_sdk, customer):
    authorised = _create(sandbox_sdk, _invoice(customer, status="AUTHORISED")).invoices[0]
    draft = _create(sandbox_sdk, _invoice(customer)).invoices[0]
    assert authorised.amount_due == Decimal("11.5")
    for invoice, status in ((authorised, "VOIDED"), (draft, "DELETED")):
        change = Invoices(invoices=[Invoice(status=status)])
        done = sandbox_sdk.accounting.update_invoice(
            sandbox_sdk.tenant_id, invoice.invoice_id, change
        ).invoices[0]
        assert (done.status, done.amount_due) == (status, Decimal("0"))
        read = sandbox_sdk.accounting.get_invoice(sandbox_sdk.tenant_id, invoice.invoice_id)
        assert read.invoices[0].amount_due == Decimal("0")
    line = LineItem(description="W", quantity=1, unit_amount=10)
    note = CreditNote(type="ACCRECCREDIT", contact=Contact(contact_id=customer), line_items=[line])
    created = sandbox_sdk.accounting.create_credit_notes(
        sandbox_sdk.tenant_id, CreditNotes(credit_notes=[note])
    ).credit_notes[0]
    voided = sandbox_sdk.accounting.update_credit_note(
        sandbox_sdk.tenant_id,
        created.credit_note_id,
        CreditNotes(credit_notes=[CreditNote(status="AUTHORISED")]),
    )
    voided = sandbox_sdk.accounting.update_credit_note(
        sandbox_sdk.tenant_id,
        created.credit_note_id,
        CreditNotes(credit_notes=[CreditNote(status="VOIDED")]),
    ).credit_notes[0]
    assert voided.remaining_credit == Decimal("0")


def test_a_failed_contact_has_the_zero_guid_and_no_groups_or_persons(sandbox_sdk):
    contacts = Contacts(contacts=[Contact(name="Twin"), Contact(name="Twin")])
    with pytest.raises(AccountingBadRequestException) as refused:
        sandbox_sdk.accounting.create_contacts(sandbox_sdk.tenant_id, contacts)
    (element,) = refused.value.error_data["Elements"]
    assert element["ContactID"] == ZERO_GUID
    assert element["ContactGroups"] == [] and element["ContactPersons"] == []
    assert element["HasValidationErrors"] is True and element["Name"] == "Twin"


def test_a_failed_document_is_echoed_whole(sandbox, sandbox_sdk, customer):
    line = LineItem(description="W", quantity=2, unit_amount=10, account_code="999")
    invoice = _invoice(customer, line_items=[line], reference="R-1", currency_code=CurrencyCode.NZD)
    with pytest.raises(AccountingBadRequestException) as refused:
        _create(sandbox_sdk, invoice)
    (element,) = refused.value.error_data["Elements"]
    assert element["InvoiceID"] == ZERO_GUID
    assert (element["Type"], element["Reference"], element["CurrencyCode"]) == (
        "ACCREC",
        "R-1",
        "NZD",
    )
    assert (element["SubTotal"], element["TotalTax"], element["Total"]) == (20, 3, 23)
    assert element["Contact"]["ContactID"] == customer
    assert element["Contact"]["Name"] == "Full Ltd"
    assert element["Contact"]["EmailAddress"] == "accounts@full.example"
    assert element["LineItems"][0]["LineAmount"] == 20
    assert element["HasErrors"] is True and element["StatusAttributeString"] == "ERROR"
    removed = "Account code '999' has been removed as it does not match a recognised account."
    assert element["ValidationErrors"] == [{"Message": removed}]
    assert sandbox.documents(sandbox.demo_tenant_id) == []
    # With summarizeErrors=false the SDK reads the same echo as a model.
    echoed = _create(sandbox_sdk, invoice, summarize_errors=False).invoices[0]
    assert str(echoed.invoice_id) == ZERO_GUID and echoed.has_errors
    assert echoed.total == Decimal("23")


def test_an_empty_contact_cannot_identify_one(sandbox, customer):
    invoice = {
        "Type": "ACCREC",
        "Contact": {},
        "LineItems": [{"Description": "W", "UnitAmount": 1}],
    }
    answer = api(sandbox, "PUT", "/Invoices", {"Invoices": [invoice]})
    assert answer.status == 400
    (element,) = answer.json()["Elements"]
    assert element["ValidationErrors"] == [
        {
            "Message": "The Contact must contain at least 1 of the following elements to "
            "identify the contact: Name, ContactID, ContactNumber"
        }
    ]
    assert element["Contact"]["ContactID"] == ZERO_GUID


def test_write_answers_embed_the_whole_contact_and_the_examples_keys(sandbox, customer):
    line = {"Description": "W", "Quantity": 1, "UnitAmount": 10}
    for path, body in (
        ("/Invoices", {"Type": "ACCREC", "Contact": {"ContactID": customer}, "LineItems": [line]}),
        (
            "/CreditNotes",
            {"Type": "ACCPAYCREDIT", "Contact": {"ContactID": customer}, "LineItems": [line]},
        ),
        ("/PurchaseOrders", {"Contact": {"ContactID": customer}, "LineItems": [line]}),
    ):
        collection = path[1:]
        written = api(sandbox, "PUT", path, {collection: [body]}).json()[collection][0]
        contact = written["Contact"]
        assert contact["EmailAddress"] == "accounts@full.example", path
        assert contact["Phones"][0]["PhoneNumber"] == "555 1234"
        assert {"Addresses", "ContactGroups", "ContactPersons", "UpdatedDateUTC"} <= contact.keys()
        assert written["SentToContact"] is False and written["Reference"] == ""
        if path != "/CreditNotes":
            assert written["TotalDiscount"] == 0
        if path != "/PurchaseOrders":
            assert re.fullmatch(
                r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00", written["UpdatedDateUTCString"]
            )
        listed = api(sandbox, "GET", path).json()[collection][0]
        assert "EmailAddress" not in listed["Contact"]  # reads carry a summary


def test_documents_answer_in_xml_too(sandbox, customer):
    line = {"Description": "W", "Quantity": 1, "UnitAmount": 10}
    body = {
        "Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": customer}, "LineItems": [line]}]
    }
    answer = api(sandbox, "PUT", "/Invoices", body, accept=None)
    invoice = ET.fromstring(answer.body).find("Invoices/Invoice")
    assert invoice is not None and invoice.findtext("Total") == "11.50"
    assert invoice.findtext("LineItems/LineItem/Description") == "W"
    assert invoice.find("DateString") is None  # XML dates are ISO already
    failed = api(
        sandbox, "PUT", "/PurchaseOrders", {"PurchaseOrders": [{"Contact": {}}]}, accept=None
    )
    assert ET.fromstring(failed.body).find("Elements/DataContractBase/HasErrors").text == "true"


# Unconfirmed behaviour: the sandbox's guesses ([sandbox] in xero_sandbox/README.md) ----------


def test_ids_return_archived_contacts_too(sandbox, sandbox_sdk):
    active, archived = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Kept"}, {"Name": "Gone"}]
    )
    sandbox.archive(archived)
    found = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, i_ds=[active, archived])
    assert {c.name: c.contact_status for c in found.contacts} == {
        "Kept": "ACTIVE",
        "Gone": "ARCHIVED",
    }


def test_every_endpoint_answers_xml_the_spec_allows(sandbox, spec_checker, customer):
    """Each answer is read back against the spec by the autouse checker; none may fail."""
    line = {"Description": "W", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
    ref = {"ContactID": customer}
    written = {
        "Invoices": {
            "Type": "ACCREC",
            "Contact": ref,
            "LineItems": [line],
            "DueDate": "2026-01-31",
        },
        "CreditNotes": {"Type": "ACCRECCREDIT", "Contact": ref, "LineItems": [line]},
        "PurchaseOrders": {"Contact": ref, "LineItems": [line], "DeliveryDate": "2026-02-01"},
    }
    ids = {}
    for collection, body in written.items():
        answer = api(sandbox, "PUT", f"/{collection}", {collection: [body]})
        ids[collection] = answer.json()[collection][0][collection[:-1] + "ID"]
        failed = {**body, "LineItems": [{**line, "AccountCode": "999"}]}
        for query in ("", "?summarizeErrors=false"):
            api(sandbox, "PUT", f"/{collection}{query}", {collection: [failed]}, accept=None)
    account_id = api(sandbox, "GET", "/Accounts").json()["Accounts"][0]["AccountID"]
    paths = ["/Organisation", "/Accounts", f"/Accounts/{account_id}", "/TaxRates"]
    paths += ["/TaxRates/OUTPUT2", "/Contacts", "/Contacts?page=1", f"/Contacts/{customer}"]
    paths += ["/Contacts?summaryOnly=true", '/Contacts?where=Bogus=="1"']
    for collection, document_id in ids.items():
        paths += [f"/{collection}", f"/{collection}?page=1", f"/{collection}/{document_id}"]
    before = len(spec_checker.checked)
    for path in paths:
        answer = api(sandbox, "GET", path, accept=None)
        assert answer.headers["Content-Type"].startswith("text/xml"), path
    api(sandbox, "POST", "/Contacts", {"Contacts": [{"Name": ""}]}, accept="application/xml")
    api(sandbox, "POST", "/Organisation", {}, accept=None)
    assert len(spec_checker.checked) - before == len(paths) + 2
