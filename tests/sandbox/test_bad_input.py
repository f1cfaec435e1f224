"""Input Xero refuses must get Xero's 400, never a 500, a hang, or a stored oddity."""

import math
import time

import pytest
from xero_python.exceptions import AccountingBadRequestException

from tests.sandbox.calls import api
from xero_sandbox import schema

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


# Field types ---------------------------------------------------------------------------------

WRONG_KINDS = [123, 1.5, True, ["A"], {"A": 1}]


@pytest.mark.parametrize("field", ["Name", "EmailAddress", "ContactNumber"])
@pytest.mark.parametrize("value", WRONG_KINDS, ids=["int", "float", "bool", "list", "object"])
def test_a_text_field_of_another_kind_fails_that_element_only(sandbox, field, value):
    bad = {"Name": "Bad Kind", field: value}
    answer = api(sandbox, "PUT", "/Contacts", {"Contacts": [bad, {"Name": "Good Kind"}]})
    assert answer.status == 400
    body = answer.json()
    assert body["Type"] == "ValidationException"
    (element,) = body["Elements"]
    (error,) = element["ValidationErrors"]
    assert error["Message"].startswith(f"[sandbox] {field} must be text, not ")
    assert field not in element or isinstance(element[field], str)  # safe for the SDK
    stored = sandbox.call("GET", f"/_sandbox/organisations/{sandbox.demo_tenant_id}/contacts")
    names = [c["Name"] for c in stored]
    assert "Good Kind" in names and "Bad Kind" not in names and value not in names


def test_wrong_kinds_of_nested_and_document_fields_are_400s(sandbox):
    contact_id = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Kinds Ltd"}])[0]
    contacts = [
        {"Name": "A", "Addresses": "street"},
        {"Name": "B", "Addresses": [{"AddressType": "STREET", "City": ["x"]}]},
        {"Name": "C", "PaymentTerms": "soon"},
        {"Name": "D", "Discount": "lots"},
    ]
    answer = api(sandbox, "PUT", "/Contacts", {"Contacts": contacts})
    assert answer.status == 400 and len(answer.json()["Elements"]) == 4
    update = api(sandbox, "POST", f"/Contacts/{contact_id}", {"Contacts": [{"Name": ["x"]}]})
    assert update.status == 400
    line = {"Description": "W", "UnitAmount": 1}
    documents = [
        {"Type": ["ACCREC"], "Contact": {"ContactID": contact_id}, "LineItems": [line]},
        {"Type": "ACCREC", "Contact": {"Name": 5}, "LineItems": [line]},
        {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "LineItems": {"a": 1}},
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "Reference": {"r": 1},
            "LineItems": [line],
        },
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "LineItems": [{"AccountCode": ["200"]}],
        },
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "LineItems": [{"TaxType": {"t": 1}}],
        },
        {"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "LineItems": ["line"]},
    ]
    answer = api(sandbox, "PUT", "/Invoices", {"Invoices": documents})
    assert answer.status == 400 and len(answer.json()["Elements"]) == len(documents)
    assert sandbox.documents(sandbox.demo_tenant_id) == []


# Numbers and dates ---------------------------------------------------------------------------


def _put_invoice(sandbox, contact_id: str, line: dict, **fields):
    invoice = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "LineItems": [line],
        **fields,
    }
    return api(sandbox, "PUT", "/Invoices", {"Invoices": [invoice]})


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        ({"Description": "W", "UnitAmount": "1e999"}, {}),
        ({"Description": "W", "UnitAmount": "NaN"}, {}),
        ({"Description": "W", "UnitAmount": 1, "Quantity": -1e308}, {}),
        ({"Description": "W", "LineAmount": 1e300}, {}),
        ({"Description": "W", "UnitAmount": [1]}, {}),
        ({"Description": "W", "UnitAmount": 1}, {"Date": "/Date(99999999999999999)/"}),
        ({"Description": "W", "UnitAmount": 1}, {"DueDate": "/Date(-99999999999999999)/"}),
        ({"Description": "W", "UnitAmount": 1}, {"Date": "99999-01-01"}),
    ],
    ids=["1e999", "NaN-text", "-1e308", "1e300", "list", "far-date", "far-past", "5-digit-year"],
)
def test_numbers_and_dates_out_of_range_are_validation_errors(sandbox, line, fields):
    contact_id = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Range Ltd"}])[0]
    answer = _put_invoice(sandbox, contact_id, line, **fields)
    assert answer.status == 400
    assert answer.json()["Type"] == "ValidationException"
    assert sandbox.documents(sandbox.demo_tenant_id) == []


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf], ids=["NaN", "inf", "-inf"])
def test_non_finite_json_numbers_are_refused_and_never_stored(sandbox, number):
    """Python's json writes and reads NaN and Infinity; JSON has neither."""
    contact_id = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Nan Ltd"}])[0]
    answer = _put_invoice(sandbox, contact_id, {"Description": "W", "UnitAmount": number})
    assert answer.status == 400
    assert answer.json()["Type"] == "PostDataInvalidException"
    contact = {"Contacts": [{"Name": "Nan Co", "Discount": number}]}
    assert api(sandbox, "PUT", "/Contacts", contact).status == 400
    assert sandbox.documents(sandbox.demo_tenant_id) == []
    listed = api(sandbox, "GET", "/Contacts").json()["Contacts"]
    assert "Nan Co" not in [c["Name"] for c in listed]


# Field lengths -------------------------------------------------------------------------------


def test_the_length_limits_are_the_specs(spec_checker):
    for type_name, limits in schema.MAX_LENGTH.items():
        properties = spec_checker.schemas[type_name]["properties"]
        declared = {k: v["maxLength"] for k, v in properties.items() if "maxLength" in v}
        ours = {k: n for k, n in limits.items() if (type_name, k) not in schema.NOT_IN_SPEC}
        assert ours == declared, type_name


@pytest.mark.parametrize(
    ("field", "limit"), sorted(schema.MAX_LENGTH["Contact"].items()), ids=lambda v: str(v)
)
def test_contact_text_longer_than_the_spec_allows_is_refused(sandbox, field, limit):
    def put(value: str):
        name = value if field == "Name" else f"Len {field} {len(value)}"
        contact = {"Name": name, field: value}
        if field == "EmailAddress":
            contact[field] = "a" * (len(value) - len("@x.nz")) + "@x.nz"
        return api(sandbox, "PUT", "/Contacts", {"Contacts": [contact]})

    assert put("n" * limit).status == 200
    refused = put("n" * (limit + 1))
    assert refused.status == 400
    (element,) = refused.json()["Elements"]
    message = f"[sandbox] {field} must be at most {limit} characters long"
    assert element["ValidationErrors"] == [{"Message": message}]


def test_a_huge_name_is_refused_and_the_mirror_stays_small(sandbox):
    answer = api(sandbox, "PUT", "/Contacts", {"Contacts": [{"Name": "N" * 200_000}]})
    assert answer.status == 400
    assert len(answer.body) < 300_000  # echoed once, not stored
    assert api(sandbox, "GET", "/Contacts").json()["Contacts"] == []


def test_nested_and_document_lengths(sandbox):
    contact_id = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Long Ltd"}])[0]
    street = {"AddressType": "STREET", "City": "c" * 256}
    phone = {"PhoneType": "DEFAULT", "PhoneAreaCode": "1" * 11}
    contacts = [{"Name": "Addr", "Addresses": [street]}, {"Name": "Ph", "Phones": [phone]}]
    assert len(api(sandbox, "PUT", "/Contacts", {"Contacts": contacts}).json()["Elements"]) == 2
    line = {"Description": "d" * 4001, "UnitAmount": 1}
    messages = {
        "InvoiceNumber": "[sandbox] InvoiceNumber must be at most 255 characters long",
        "Reference": "[sandbox] Reference must be at most 255 characters long",
    }
    for field, message in messages.items():
        answer = _put_invoice(sandbox, contact_id, {"Description": "W"}, **{field: "x" * 256})
        assert answer.json()["Elements"][0]["ValidationErrors"] == [{"Message": message}]
    answer = _put_invoice(sandbox, contact_id, line)
    assert answer.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "[sandbox] Description must be at most 4000 characters long"}
    ]
    assert _put_invoice(sandbox, contact_id, {**line, "Description": "d" * 4000}).status == 200


# What the SDK refuses to read must not be stored --------------------------------------------


def test_values_the_sdk_cannot_read_back_are_refused(sandbox, sandbox_sdk):
    contact_id = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Readable Ltd"}])[0]
    contacts = [
        {"Name": "Cur", "DefaultCurrency": "XYZ"},
        {"Name": "Addr", "Addresses": [{"AddressType": "HOME"}]},
        {"Name": "Ph", "Phones": [{"PhoneType": ["DDI"]}]},
    ]
    answer = api(sandbox, "PUT", "/Contacts", {"Contacts": contacts})
    messages = [e["ValidationErrors"][0]["Message"] for e in answer.json()["Elements"]]
    assert messages == [
        "[sandbox] Organisation is not subscribed to currency XYZ",
        "[sandbox] AddressType must be one of POBOX, STREET",
        "[sandbox] PhoneType must be one of DDI, DEFAULT, FAX, MOBILE, OFFICE",
    ]
    line = {"Description": "W", "UnitAmount": 1}
    for collection, body in (
        ("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": contact_id}}),
        ("PurchaseOrders", {"Contact": {"ContactID": contact_id}}),
    ):
        document = {**body, "LineItems": [line], "CurrencyCode": "/Date(1)/"}
        refused = api(sandbox, "PUT", f"/{collection}", {collection: [document]})
        assert refused.json()["Elements"][0]["ValidationErrors"] == [
            {"Message": "[sandbox] Organisation is not subscribed to currency /Date(1)/"}
        ]
    # Whatever was stored, the SDK reads it all back.
    sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, page=1)
    sandbox_sdk.accounting.get_purchase_orders(sandbox_sdk.tenant_id, page=1)


def test_a_document_id_that_is_not_text_fails_its_element(sandbox):
    contact_id = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Id Kind Ltd"}])[0]
    document = {"Contact": {"ContactID": contact_id}, "LineItems": [{"Description": "W"}]}
    for bad_id in ([1], 1.5, {"a": 1}):
        answer = api(
            sandbox,
            "POST",
            "/PurchaseOrders",
            {"PurchaseOrders": [{**document, "PurchaseOrderID": bad_id}]},
        )
        assert answer.status == 400
        (element,) = answer.json()["Elements"]
        assert element["PurchaseOrderID"] == "00000000-0000-0000-0000-000000000000"
        assert element["ValidationErrors"][0]["Message"].startswith(
            "[sandbox] PurchaseOrderID must be text"
        )


def test_text_that_looks_like_a_date_still_renders_as_xml(sandbox):
    contact_id = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Looks Ltd"}])[0]
    reference = "/Date(99999999999999999)/"
    stored = _put_invoice(
        sandbox, contact_id, {"Description": "W", "UnitAmount": 1}, Reference=reference
    )
    assert stored.status == 200
    answer = api(sandbox, "GET", "/Invoices", accept=None)
    assert answer.status == 200 and reference.encode() in answer.body
