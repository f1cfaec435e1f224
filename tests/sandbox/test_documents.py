"""Invoices, credit notes and purchase orders through the real SDK.

Xero's rules: https://developer.xero.com/documentation/api/invoices and
https://developer.xero.com/documentation/guides/idempotent-requests/idempotency/
"""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Contact,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    PurchaseOrder,
    PurchaseOrders,
)
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from tests.sandbox.calls import api

ARCHIVED = (
    "The contact with the specified contact details has been archived. "
    "The contact must be un-archived before creating new invoices or credit notes."
)


@pytest.fixture
def customer(sandbox) -> str:
    return sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Customer Ltd"}])[0]


def _line(amount: float = 20, quantity: float = 2, account: str = "200", **extra) -> LineItem:
    return LineItem(
        description="Widgets", quantity=quantity, unit_amount=amount, account_code=account, **extra
    )


def _invoice(contact_id: str, kind: str = "ACCREC", **fields) -> Invoice:
    fields.setdefault("line_items", [_line()])
    return Invoice(type=kind, contact=Contact(contact_id=contact_id), **fields)


def _put_invoices(sdk, *invoices: Invoice, **kwargs):
    return sdk.accounting.create_invoices(
        sdk.tenant_id, Invoices(invoices=list(invoices)), **kwargs
    )


def test_totals_are_computed_from_lines_exclusive(sandbox_sdk, customer):
    invoice = _put_invoices(
        sandbox_sdk, _invoice(customer, line_items=[_line(20, 2), _line(9.99, 3)])
    ).invoices[0]
    assert invoice.sub_total == Decimal("69.97")
    assert invoice.total_tax == Decimal("10.5")  # 15% GST on Income, per line, rounded
    assert invoice.total == Decimal("80.47")
    assert invoice.line_items[0].tax_type == "OUTPUT2"
    assert invoice.amount_due == invoice.total


def test_inclusive_and_no_tax_line_amount_types(sandbox_sdk, customer):
    inclusive, no_tax = _put_invoices(
        sandbox_sdk,
        _invoice(customer, line_amount_types=LineAmountTypes.INCLUSIVE, line_items=[_line(115, 1)]),
        _invoice(customer, line_amount_types=LineAmountTypes.NOTAX, line_items=[_line(115, 1)]),
    ).invoices
    assert (inclusive.sub_total, inclusive.total_tax, inclusive.total) == (100, 15, 115)
    assert (no_tax.total_tax, no_tax.total) == (0, 115)


def test_line_amount_alone_gives_unit_amount(sandbox_sdk, customer):
    line = LineItem(description="Fee", quantity=4, line_amount=100, account_code="200")
    invoice = _put_invoices(sandbox_sdk, _invoice(customer, line_items=[line])).invoices[0]
    assert invoice.line_items[0].unit_amount == 25
    assert invoice.sub_total == 100


def test_dates_round_trip_and_due_date_only_when_given(sandbox_sdk, customer):
    with_due = _invoice(customer, date=date(2026, 3, 1), due_date=date(2026, 3, 31))
    invoice, without_due = _put_invoices(sandbox_sdk, with_due, _invoice(customer)).invoices
    assert (invoice.date, invoice.due_date) == (date(2026, 3, 1), date(2026, 3, 31))
    assert without_due.due_date is None and without_due.date is not None


def test_accrec_numbers_are_generated_and_unique(sandbox_sdk, customer):
    first, second = _put_invoices(sandbox_sdk, _invoice(customer), _invoice(customer)).invoices
    assert first.invoice_number and first.invoice_number != second.invoice_number
    with pytest.raises(AccountingBadRequestException) as error:
        _put_invoices(sandbox_sdk, _invoice(customer, invoice_number=first.invoice_number))
    assert error.value.reason == "Invoice # must be unique."


def test_accpay_numbers_may_repeat(sandbox_sdk, customer):
    bills = _put_invoices(
        sandbox_sdk,
        _invoice(customer, "ACCPAY", invoice_number="SUP-1", line_items=[_line(account="400")]),
        _invoice(customer, "ACCPAY", invoice_number="SUP-1", line_items=[_line(account="400")]),
    ).invoices
    assert [b.invoice_number for b in bills] == ["SUP-1", "SUP-1"]
    assert bills[0].line_items[0].tax_type == "INPUT2"


def test_invoices_set_is_customer_and_is_supplier(sandbox, sandbox_sdk, customer):
    _put_invoices(sandbox_sdk, _invoice(customer))
    contact = sandbox_sdk.accounting.get_contact(sandbox_sdk.tenant_id, customer).contacts[0]
    assert contact.is_customer is True and contact.is_supplier is False


@pytest.mark.parametrize("action", ["archive", "merge"])
def test_archived_or_merged_contact_is_refused_with_xero_message(
    sandbox, sandbox_sdk, customer, action
):
    if action == "archive":
        sandbox.archive(customer)
    else:
        survivor = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Survivor"}])[0]
        sandbox.merge(customer, into=survivor)
    with pytest.raises(AccountingBadRequestException) as error:
        _put_invoices(sandbox_sdk, _invoice(customer))
    assert error.value.status == 400
    assert error.value.reason == ARCHIVED
    element = error.value.error_data["Elements"][0]
    assert element["HasErrors"] is True
    assert element["Contact"]["ContactID"] == customer
    assert error.value.error_data["Type"] == "ValidationException"


def test_archived_contact_with_summarize_errors_false_is_200_with_element_error(
    sandbox, sandbox_sdk, customer
):
    sandbox.archive(customer)
    invoice = _put_invoices(sandbox_sdk, _invoice(customer), summarize_errors=False).invoices[0]
    assert invoice.status_attribute_string == "ERROR"
    assert invoice.has_errors is True
    assert invoice.validation_errors[0].message == ARCHIVED


def test_unknown_contact_and_missing_parts(sandbox_sdk):
    unknown = _invoice(str(uuid.uuid4()))
    no_lines = _invoice(str(uuid.uuid4()), line_items=[])
    no_contact = Invoice(type="ACCREC", line_items=[_line()])
    result = _put_invoices(sandbox_sdk, unknown, no_lines, no_contact, summarize_errors=False)
    messages = [[e.message for e in i.validation_errors] for i in result.invoices]
    assert "sandbox placeholder" in messages[0][0]
    assert "One or more line items must be specified" in messages[1]
    assert messages[2] == ["A Contact must be specified for this type of transaction"]


def test_contact_by_name_is_found_or_created(sandbox, sandbox_sdk, customer):
    by_name = Invoice(type="ACCREC", contact=Contact(name="Customer Ltd"), line_items=[_line()])
    brand_new = Invoice(type="ACCREC", contact=Contact(name="Walk-in Buyer"), line_items=[_line()])
    first, second = _put_invoices(sandbox_sdk, by_name, brand_new).invoices
    assert first.contact.contact_id == customer
    created = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, search_term="Walk-in")
    assert second.contact.contact_id == created.contacts[0].contact_id


def test_invalid_status_and_unknown_account(sandbox_sdk, customer):
    result = _put_invoices(
        sandbox_sdk,
        _invoice(customer, status="PAID"),
        _invoice(customer, line_items=[_line(account="476")]),
        summarize_errors=False,
    )
    assert (
        result.invoices[0].validation_errors[0].message
        == "Invoice not of valid status for creation"
    )
    assert result.invoices[1].validation_errors[0].message == (
        "Account code '476' has been removed as it does not match a recognised account."
    )


def test_default_batch_creates_valid_invoices_and_reports_only_failures(
    sandbox, sandbox_sdk, customer
):
    with pytest.raises(AccountingBadRequestException) as error:
        _put_invoices(
            sandbox_sdk, _invoice(customer, reference="good"), _invoice(customer, status="PAID")
        )
    assert len(error.value.error_data["Elements"]) == 1
    arrived = sandbox.documents(sandbox.demo_tenant_id, "invoices")
    assert [i["Reference"] for i in arrived] == ["good"]


def test_idempotency_key_replays_the_first_answer(sandbox, sandbox_sdk, customer):
    key = uuid.uuid4().hex * 4  # Xero's recommended 128-character key
    first = _put_invoices(sandbox_sdk, _invoice(customer, "ACCPAY"), idempotency_key=key)
    again = _put_invoices(sandbox_sdk, _invoice(customer, "ACCPAY"), idempotency_key=key)
    assert again.invoices[0].invoice_id == first.invoices[0].invoice_id
    assert len(sandbox.documents(sandbox.demo_tenant_id, "invoices")) == 1


def test_idempotency_key_on_a_different_request_is_a_400(sandbox_sdk, customer):
    key = uuid.uuid4().hex
    _put_invoices(sandbox_sdk, _invoice(customer), idempotency_key=key)
    body = Invoices(invoices=[_invoice(customer)])
    with pytest.raises(AccountingBadRequestException):
        sandbox_sdk.accounting.update_or_create_invoices(
            sandbox_sdk.tenant_id, body, idempotency_key=key
        )


def test_update_invoice_by_id_and_void(sandbox_sdk, customer):
    invoice = _put_invoices(sandbox_sdk, _invoice(customer, status="AUTHORISED")).invoices[0]
    changed = Invoices(invoices=[Invoice(reference="PO 77", line_items=[_line(50, 1)])])
    updated = sandbox_sdk.accounting.update_invoice(
        sandbox_sdk.tenant_id, invoice.invoice_id, changed
    )
    assert updated.invoices[0].reference == "PO 77" and updated.invoices[0].total == Decimal("57.5")
    void = Invoices(invoices=[Invoice(status="VOIDED")])
    sandbox_sdk.accounting.update_invoice(sandbox_sdk.tenant_id, invoice.invoice_id, void)
    with pytest.raises(AccountingBadRequestException) as error:
        sandbox_sdk.accounting.update_invoice(sandbox_sdk.tenant_id, invoice.invoice_id, changed)
    assert error.value.reason == "Invoice not of valid status for modification"


def test_get_invoices_filters_and_line_items_only_when_paged(sandbox, sandbox_sdk, customer):
    other = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Other"}])[0]
    mine = _put_invoices(
        sandbox_sdk, _invoice(customer, status="AUTHORISED"), _invoice(other)
    ).invoices
    tenant = sandbox_sdk.tenant_id
    unpaged = sandbox_sdk.accounting.get_invoices(tenant, contact_i_ds=[customer])
    assert [i.invoice_id for i in unpaged.invoices] == [mine[0].invoice_id]
    assert unpaged.invoices[0].line_items is None
    paged = sandbox_sdk.accounting.get_invoices(tenant, statuses=["DRAFT"], page=1)
    assert [i.invoice_id for i in paged.invoices] == [mine[1].invoice_id]
    assert len(paged.invoices[0].line_items) == 1
    by_number = sandbox_sdk.accounting.get_invoices(
        tenant, invoice_numbers=[mine[1].invoice_number]
    )
    assert len(by_number.invoices) == 1
    where = f'Contact.ContactID==Guid("{other}") AND Type=="ACCREC"'
    assert len(sandbox_sdk.accounting.get_invoices(tenant, where=where).invoices) == 1
    by_id = sandbox_sdk.accounting.get_invoice(tenant, mine[0].invoice_id)
    assert by_id.invoices[0].line_items[0].description == "Widgets"


def test_unknown_invoice_is_404(sandbox_sdk):
    with pytest.raises(NotFoundException):
        sandbox_sdk.accounting.get_invoice(sandbox_sdk.tenant_id, str(uuid.uuid4()))


def test_credit_notes_create_number_and_list(sandbox_sdk, customer):
    body = CreditNotes(
        credit_notes=[
            CreditNote(
                type="ACCRECCREDIT", contact=Contact(contact_id=customer), line_items=[_line(10, 1)]
            )
        ]
    )
    created = sandbox_sdk.accounting.create_credit_notes(sandbox_sdk.tenant_id, body).credit_notes[
        0
    ]
    assert created.credit_note_number.startswith("CN-")
    assert created.total == Decimal("11.5") and created.remaining_credit == Decimal("11.5")
    listed = sandbox_sdk.accounting.get_credit_notes(
        sandbox_sdk.tenant_id, where='Type=="ACCRECCREDIT"'
    )
    assert [c.credit_note_id for c in listed.credit_notes] == [created.credit_note_id]
    fetched = sandbox_sdk.accounting.get_credit_note(sandbox_sdk.tenant_id, created.credit_note_id)
    assert fetched.credit_notes[0].contact.contact_id == customer


def test_credit_note_for_archived_contact_is_refused(sandbox, sandbox_sdk, customer):
    sandbox.archive(customer)
    body = CreditNotes(
        credit_notes=[
            CreditNote(
                type="ACCPAYCREDIT", contact=Contact(contact_id=customer), line_items=[_line()]
            )
        ]
    )
    with pytest.raises(AccountingBadRequestException) as error:
        sandbox_sdk.accounting.create_credit_notes(sandbox_sdk.tenant_id, body)
    assert error.value.reason == ARCHIVED


def _po(contact_id: str, **fields) -> PurchaseOrder:
    return PurchaseOrder(
        contact=Contact(contact_id=contact_id), line_items=[_line(account="300")], **fields
    )


def test_purchase_orders_number_unique_and_filters(sandbox_sdk, customer):
    tenant = sandbox_sdk.tenant_id
    body = PurchaseOrders(
        purchase_orders=[
            _po(customer, date=date(2026, 1, 5)),
            _po(customer, date=date(2026, 2, 5), status="AUTHORISED"),
        ]
    )
    first, second = sandbox_sdk.accounting.create_purchase_orders(tenant, body).purchase_orders
    assert first.purchase_order_number == "PO-0001" and second.purchase_order_number == "PO-0002"
    dup = PurchaseOrders(purchase_orders=[_po(customer, purchase_order_number="PO-0001")])
    result = sandbox_sdk.accounting.create_purchase_orders(tenant, dup, summarize_errors=False)
    assert result.purchase_orders[0].validation_errors[0].message == "Order number must be unique"
    authorised = sandbox_sdk.accounting.get_purchase_orders(tenant, status="AUTHORISED")
    assert [p.purchase_order_id for p in authorised.purchase_orders] == [second.purchase_order_id]
    january = sandbox_sdk.accounting.get_purchase_orders(
        tenant, date_from="2026-01-01", date_to="2026-01-31"
    )
    assert [p.purchase_order_id for p in january.purchase_orders] == [first.purchase_order_id]
    by_number = sandbox_sdk.accounting.get_purchase_order_by_number(tenant, "PO-0002")
    assert by_number.purchase_orders[0].purchase_order_id == second.purchase_order_id
    by_id = sandbox_sdk.accounting.get_purchase_order(tenant, first.purchase_order_id)
    assert by_id.purchase_orders[0].total == Decimal("46")


def test_purchase_order_update_or_create(sandbox_sdk, customer):
    tenant = sandbox_sdk.tenant_id
    created = sandbox_sdk.accounting.create_purchase_orders(
        tenant, PurchaseOrders(purchase_orders=[_po(customer)])
    ).purchase_orders[0]
    change = PurchaseOrders(
        purchase_orders=[
            PurchaseOrder(purchase_order_id=created.purchase_order_id, reference="R1"),
            _po(customer),
        ]
    )
    result = sandbox_sdk.accounting.update_or_create_purchase_orders(tenant, change).purchase_orders
    assert result[0].purchase_order_id == created.purchase_order_id and result[0].reference == "R1"
    assert result[1].purchase_order_id != created.purchase_order_id


def test_accounts_and_tax_rates_are_seeded(sandbox_sdk):
    tenant = sandbox_sdk.tenant_id
    accounts = {a.code: a for a in sandbox_sdk.accounting.get_accounts(tenant).accounts}
    assert accounts["200"].name == "Sales" and accounts["310"].name == "Cost of Goods Sold"
    assert accounts["090"].type.value == "BANK" and accounts["400"].name == "Advertising"
    banks = sandbox_sdk.accounting.get_accounts(tenant, where='Type=="BANK"').accounts
    assert {a.code for a in banks} == {"090", "091"}
    rates = {t.tax_type: t for t in sandbox_sdk.accounting.get_tax_rates(tenant).tax_rates}
    assert rates["OUTPUT2"].name == "15% GST on Income" and rates["OUTPUT2"].effective_rate == 15
    assert rates["INPUT2"].name == "15% GST on Expenses"
    assert {"NONE", "EXEMPTOUTPUT", "EXEMPTINPUT", "ZERORATED"} <= rates.keys()


def test_fifty_invoice_batch(sandbox_sdk, customer):
    invoices = [_invoice(customer, reference=f"batch-{n}") for n in range(50)]
    result = _put_invoices(sandbox_sdk, *invoices)
    assert len({i.invoice_number for i in result.invoices}) == 50


def test_idempotent_400_that_stored_nothing_is_not_replayed(sandbox, sandbox_sdk, customer):
    """A refused request can be retried with its key once the cause is fixed (README)."""
    sandbox.archive(customer)
    key = uuid.uuid4().hex
    with pytest.raises(AccountingBadRequestException) as refused:
        _put_invoices(sandbox_sdk, _invoice(customer), idempotency_key=key)
    assert refused.value.reason == ARCHIVED
    sandbox.restore(customer)
    retried = _put_invoices(sandbox_sdk, _invoice(customer), idempotency_key=key)
    arrived = sandbox.documents(sandbox.demo_tenant_id, "invoices")
    assert [i["InvoiceID"] for i in arrived] == [retried.invoices[0].invoice_id]


def test_idempotent_partial_batch_400_is_replayed(sandbox, sandbox_sdk, customer):
    """Part of the batch was stored, so the same request gets the same 400, once."""
    key = uuid.uuid4().hex
    batch = (_invoice(customer, "ACCPAY", reference="good"), _invoice(customer, status="PAID"))
    answers = []
    for _ in range(2):
        with pytest.raises(AccountingBadRequestException) as refused:
            _put_invoices(sandbox_sdk, *batch, idempotency_key=key)
        answers.append(refused.value.body)
    assert answers[0] == answers[1]
    arrived = sandbox.documents(sandbox.demo_tenant_id, "invoices")
    assert [i["Reference"] for i in arrived] == ["good"]  # not created twice


def test_empty_idempotency_key_is_a_400(sandbox, sandbox_sdk, customer):
    """An empty header broke calls at Xero; the SDK sends one for `idempotency_key=""`.

    https://github.com/XeroAPI/xero-node/issues/649
    """
    with pytest.raises(AccountingBadRequestException) as refused:
        _put_invoices(sandbox_sdk, _invoice(customer), idempotency_key="")
    assert b"[sandbox] Idempotency-Key must not be empty" in refused.value.body
    assert sandbox.documents(sandbox.demo_tenant_id, "invoices") == []


def test_invoice_of_a_since_archived_contact_can_still_be_updated(sandbox, sandbox_sdk, customer):
    invoice = _put_invoices(sandbox_sdk, _invoice(customer)).invoices[0]
    sandbox.archive(customer)
    tenant = sandbox_sdk.tenant_id
    change = Invoices(invoices=[Invoice(reference="late edit")])
    updated = sandbox_sdk.accounting.update_invoice(tenant, invoice.invoice_id, change)
    assert updated.invoices[0].reference == "late edit"
    # Naming the same (archived) contact again is not a change of contact.
    same = Invoices(invoices=[Invoice(contact=Contact(contact_id=customer), reference="again")])
    updated = sandbox_sdk.accounting.update_invoice(tenant, invoice.invoice_id, same)
    assert updated.invoices[0].reference == "again"


def test_moving_an_invoice_to_an_archived_contact_is_refused(sandbox, sandbox_sdk, customer):
    other = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Gone Ltd"}])[0]
    invoice = _put_invoices(sandbox_sdk, _invoice(customer)).invoices[0]
    sandbox.archive(other)
    move = Invoices(invoices=[Invoice(contact=Contact(contact_id=other))])
    with pytest.raises(AccountingBadRequestException) as refused:
        sandbox_sdk.accounting.update_invoice(sandbox_sdk.tenant_id, invoice.invoice_id, move)
    assert refused.value.reason == ARCHIVED


def test_invoice_naming_an_archived_contact_is_refused_not_a_new_contact(
    sandbox, sandbox_sdk, customer
):
    source, survivor = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Merged Away Ltd"}, {"Name": "Kept Ltd"}]
    )
    sandbox.archive(customer)
    sandbox.merge(source, into=survivor)
    for name in ("Customer Ltd", "merged away ltd"):
        by_name = Invoice(type="ACCREC", contact=Contact(name=name), line_items=[_line()])
        with pytest.raises(AccountingBadRequestException) as refused:
            _put_invoices(sandbox_sdk, by_name)
        assert refused.value.reason == ARCHIVED
    everyone = sandbox_sdk.accounting.get_contacts(sandbox_sdk.tenant_id, include_archived=True)
    assert len(everyone.contacts) == 3  # no ACTIVE twin was created
    assert sandbox.documents(sandbox.demo_tenant_id, "invoices") == []


# Unit amounts: 2 decimal places unless the call asks for 4 (unitdp=4), reads included --------
# https://developer.xero.com/documentation/api-guides/rounding-in-xero

FOUR_PLACES_LINE = {
    "Description": "Fine widgets",
    "Quantity": 3,
    "UnitAmount": 2.3456,
    "AccountCode": "200",
    "TaxType": "OUTPUT2",
}
DOCUMENT_BODIES = {
    "Invoices": {"Type": "ACCREC"},
    "CreditNotes": {"Type": "ACCRECCREDIT"},
    "PurchaseOrders": {"Date": "2026-01-05"},
}


def _only_line(answer, collection: str) -> dict:
    (document,) = answer.json()[collection]
    (line,) = document["LineItems"]
    return line


@pytest.mark.parametrize("collection", list(DOCUMENT_BODIES))
def test_a_four_place_unit_amount_reads_back_with_two_unless_unitdp_is_4(
    sandbox, customer, collection
):
    body = {**DOCUMENT_BODIES[collection], "Contact": {"ContactID": customer}}
    body["LineItems"] = [FOUR_PLACES_LINE]
    created = api(sandbox, "PUT", f"/{collection}?unitdp=4", {collection: [body]})
    line = _only_line(created, collection)
    # 3 * 2.3456 = 7.0368: the line amount is stored to the cent from the 4-place figure.
    assert (line["UnitAmount"], line["LineAmount"]) == (2.3456, 7.04)
    document_id = created.json()[collection][0][collection[:-1] + "ID"]
    total = created.json()[collection][0]["Total"]
    listed = "?page=1"  # invoices list their lines only when paged
    for path, unit in (
        (f"/{collection}/{document_id}", 2.35),
        (f"/{collection}/{document_id}?unitdp=4", 2.3456),
        (f"/{collection}{listed}", 2.35),
        (f"/{collection}{listed}&unitdp=4", 2.3456),
    ):
        read = api(sandbox, "GET", path)
        line = _only_line(read, collection)
        # Only the unit amount is shown rounded; the line amount and total stay as stored
        # (2.35 * 3 would be 7.05).
        assert (line["UnitAmount"], line["LineAmount"]) == (unit, 7.04), path
        assert read.json()[collection][0]["Total"] == total, path


def test_sdk_reads_of_a_four_place_invoice_round_unless_asked(sandbox_sdk, customer):
    line = _line(2.3456, 3, tax_type="OUTPUT2")
    created = _put_invoices(sandbox_sdk, _invoice(customer, line_items=[line]), unitdp=4)
    invoice_id = created.invoices[0].invoice_id
    tenant = sandbox_sdk.tenant_id
    read = sandbox_sdk.accounting.get_invoice(tenant, invoice_id).invoices[0]
    assert read.line_items[0].unit_amount == Decimal("2.35")
    assert read.line_items[0].line_amount == Decimal("7.04")
    exact = sandbox_sdk.accounting.get_invoice(tenant, invoice_id, unitdp=4).invoices[0]
    assert exact.line_items[0].unit_amount == Decimal("2.3456")
    listed = sandbox_sdk.accounting.get_invoices(tenant, page=1).invoices[0]
    assert listed.line_items[0].unit_amount == Decimal("2.35")
    # An update that leaves the lines alone keeps their four places, though its answer
    # (without unitdp=4) shows two.
    change = Invoices(invoices=[Invoice(reference="Rounded view only")])
    updated = sandbox_sdk.accounting.update_invoice(tenant, invoice_id, change).invoices[0]
    assert updated.line_items[0].unit_amount == Decimal("2.35")
    exact = sandbox_sdk.accounting.get_invoice(tenant, invoice_id, unitdp=4).invoices[0]
    assert exact.line_items[0].unit_amount == Decimal("2.3456")
