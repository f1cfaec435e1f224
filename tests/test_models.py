"""Model rules and the constraints the database enforces on its own."""

import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from contacts.models import Contact
from sync.models import ContactLink, InvalidReason, LinkEvent, LinkStatus
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    LinkEventFactory,
    SupplierFactory,
    TransactionFactory,
    XeroConnectionFactory,
)
from transactions.models import LineAmountType, SyncState, Transaction, TransactionType
from transactions.taxes import TaxType

pytestmark = pytest.mark.django_db


def test_contact_must_be_customer_or_supplier():
    with pytest.raises(IntegrityError):
        ContactFactory(is_customer=False, is_supplier=False)


def test_contact_role_and_tab_lists():
    customer = ContactFactory(name="Bayview Cafe")
    supplier = SupplierFactory(name="Kiwi Coffee Roasters")
    both = ContactFactory(name="Harbour Wholesale", is_supplier=True)
    assert both.role == "Customer and supplier"
    assert set(Contact.objects.for_tab("sales")) == {customer, both}
    assert set(Contact.objects.for_tab("purchases")) == {supplier, both}
    with pytest.raises(ValueError):
        Contact.objects.for_tab("payroll")


def test_contact_search_matches_name_email_and_account_number():
    cafe = ContactFactory(name="Bayview Cafe", email="hello@bayview.nz", account_number="C1001")
    ContactFactory(name="Tui Books", email="shop@tui.nz", account_number="C2002")
    for text in ("bayview", "HELLO@", "c1001"):
        assert list(Contact.objects.search(text)) == [cafe]


def test_transaction_numbers_are_unique_per_type():
    TransactionFactory(type=TransactionType.SALES_INVOICE, number="1001")
    # The same number in another type is a different document.
    TransactionFactory(type=TransactionType.PURCHASE_ORDER, number="1001")
    with pytest.raises(IntegrityError):
        TransactionFactory(type=TransactionType.SALES_INVOICE, number="1001")


def test_due_date_cannot_precede_the_date():
    txn = TransactionFactory.build(contact=ContactFactory())
    txn.due_date = txn.date.replace(year=txn.date.year - 1)
    with pytest.raises(ValidationError, match="due date cannot be before"):
        txn.full_clean()


def test_a_synced_transaction_has_its_xero_id():
    txn = TransactionFactory()
    txn.sync_state = SyncState.SYNCED
    with pytest.raises(IntegrityError):
        txn.save()


def test_totals_tax_exclusive_are_derived_from_lines():
    txn = TransactionFactory(line_amount_type=LineAmountType.EXCLUSIVE)
    LineItemFactory(transaction=txn, quantity=Decimal("2"), unit_price=Decimal("24.50"))
    LineItemFactory(
        transaction=txn, quantity=Decimal("1"), unit_price=Decimal("10"), tax_type=TaxType.NONE
    )
    totals = Transaction.objects.with_lines().get(pk=txn.pk).totals
    assert totals.subtotal == Decimal("59.00")
    assert totals.tax == Decimal("7.35")
    assert totals.total == Decimal("66.35")


def test_totals_tax_inclusive_take_the_tax_out_of_the_price():
    txn = TransactionFactory(line_amount_type=LineAmountType.INCLUSIVE)
    LineItemFactory(transaction=txn, quantity=Decimal("1"), unit_price=Decimal("115.00"))
    totals = txn.totals
    assert (totals.subtotal, totals.tax, totals.total) == (
        Decimal("100.00"),
        Decimal("15.00"),
        Decimal("115.00"),
    )


def test_totals_without_tax():
    txn = TransactionFactory(line_amount_type=LineAmountType.NO_TAX)
    LineItemFactory(transaction=txn, quantity=Decimal("3"), unit_price=Decimal("9.99"))
    assert txn.totals.total == Decimal("29.97")
    assert txn.totals.tax == Decimal("0.00")


def test_one_link_per_contact_per_connection():
    link = ContactLinkFactory()
    with pytest.raises(IntegrityError):
        ContactLinkFactory(contact=link.contact, connection=link.connection)


def test_a_contact_may_be_linked_in_two_organisations():
    link = ContactLinkFactory()
    other = ContactLinkFactory(contact=link.contact, connection=XeroConnectionFactory())
    assert link.contact.links.count() == 2
    assert other.is_valid


@pytest.mark.parametrize(
    ("status", "reason", "survivor"),
    [
        (LinkStatus.INVALID, "", None),  # invalid without a reason
        (LinkStatus.VALID, InvalidReason.ARCHIVED, None),  # valid with a reason
        (LinkStatus.INVALID, InvalidReason.ARCHIVED, uuid.uuid4()),  # survivor but not merged
    ],
)
def test_link_status_rules_are_database_constraints(status, reason, survivor):
    with pytest.raises(IntegrityError):
        ContactLinkFactory(
            status=status, invalid_reason=reason, merged_into_xero_contact_id=survivor
        )


def test_invalid_link_says_why_in_words():
    link = ContactLinkFactory(
        xero_name="Bayview Cafe",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.MERGED,
        merged_into_xero_contact_id=uuid.uuid4(),
    )
    assert "Bayview Cafe was merged into another Xero contact" in link.invalid_message
    assert ContactLink.objects.invalid().get() == link
    assert ContactLinkFactory().invalid_message == ""


def test_audit_events_are_append_only():
    event = LinkEventFactory()
    event.detail = "tampered"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValidationError):
        LinkEvent.objects.update(detail="tampered")
    with pytest.raises(ValidationError):
        LinkEvent.objects.all().delete()
    assert LinkEvent.objects.get().detail == ""


def test_audit_event_outlives_its_contact():
    event = LinkEventFactory(contact=ContactFactory(name="Gone Ltd"))
    event.contact.delete()
    event.refresh_from_db()
    assert event.contact is None
    assert event.contact_name == "Gone Ltd"


def test_a_sales_document_needs_a_customer_and_a_purchase_one_a_supplier():
    supplier, customer = SupplierFactory(), ContactFactory()
    with pytest.raises(ValidationError, match="not a customer"):
        TransactionFactory.build(contact=supplier, type=TransactionType.SALES_INVOICE).full_clean()
    with pytest.raises(ValidationError, match="not a supplier"):
        TransactionFactory.build(contact=customer, type=TransactionType.PURCHASE_ORDER).full_clean()
    TransactionFactory.build(contact=supplier, type=TransactionType.SUPPLIER_INVOICE).full_clean()


def test_currency_defaults_to_the_setting_when_the_transaction_is_made(settings):
    settings.DEFAULT_CURRENCY = "AUD"
    assert TransactionFactory().currency == "AUD"
