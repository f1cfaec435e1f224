"""Open in Xero: one builder of Xero's deep links (a contact, each document type), rendered
the same on every page that names a Xero object."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.dashboard.presenters import XeroObject, document_kind, xero_deep_link
from sync.models import InvalidReason, LinkStatus, SyncItem, SyncSettings
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    MirroredDocumentFactory,
    SyncItemFactory,
    SyncRunFactory,
    TransactionFactory,
    XeroConnectionFactory,
)
from transactions.models import SyncState, TransactionType

pytestmark = pytest.mark.django_db

ID = uuid.UUID("1cf1a11c-a067-4a05-9c8b-06f281f7afed")


@pytest.mark.parametrize(
    ("kind", "page"),
    [
        (XeroObject.CONTACT, f"/Contacts/View/{ID}"),
        (XeroObject.INVOICE, f"/AccountsReceivable/View.aspx?InvoiceID={ID}"),
        (XeroObject.BILL, f"/AccountsPayable/Edit.aspx?InvoiceID={ID}"),
        (XeroObject.CREDIT_NOTE, f"/AccountsPayable/ViewCreditNote.aspx?creditNoteID={ID}"),
        (XeroObject.PURCHASE_ORDER, f"/Accounts/Payable/PurchaseOrders/View/{ID}/"),
    ],
)
def test_each_xero_object_has_its_documented_deep_link(kind, page):
    assert xero_deep_link(kind, ID) == f"https://go.xero.com{page}"
    with_code = urlsplit(xero_deep_link(kind, str(ID), short_code="!NLglS"))
    assert with_code.path == "/organisationlogin/default.aspx"
    assert parse_qs(with_code.query) == {"shortcode": ["!NLglS"], "redirecturl": [page]}


@pytest.mark.parametrize(
    ("transaction_type", "kind"),
    [
        (TransactionType.SALES_INVOICE, XeroObject.INVOICE),
        (TransactionType.SUPPLIER_INVOICE, XeroObject.BILL),
        (TransactionType.SALES_CREDIT_NOTE, XeroObject.CREDIT_NOTE),
        (TransactionType.SUPPLIER_CREDIT_NOTE, XeroObject.CREDIT_NOTE),
        (TransactionType.PURCHASE_ORDER, XeroObject.PURCHASE_ORDER),
    ],
)
def test_each_transaction_type_opens_its_own_document(transaction_type, kind):
    assert document_kind(transaction_type) == kind


def test_a_malformed_id_makes_no_link():
    with pytest.raises(ValueError):
        xero_deep_link(XeroObject.CONTACT, "not-an-id")


@pytest.fixture
def connection():
    return XeroConnectionFactory(connected_at=timezone.now() + timedelta(days=1))


def links_in(html: str) -> list[str]:
    """Every Open in Xero link of a page, as it is written."""
    return re.findall(r'<a href="https://go\.xero\.com[^>]*>.*?</a>', html, re.S)


def test_the_contact_pages_open_the_linked_xero_contact(connection, viewer_client):
    link = ContactLinkFactory(connection=connection, xero_name="Kea Outfitters Ltd")
    contact = link.contact
    LineItemFactory(transaction=TransactionFactory(contact=contact))
    url = f"https://go.xero.com/Contacts/View/{link.xero_contact_id}"

    detail = viewer_client.get(reverse("sync:contact_detail", args=["sales", contact.pk])).content
    customers = viewer_client.get(reverse("sync:subtab", args=["sales", "customers"])).content

    (on_detail,) = links_in(detail.decode())
    assert f'href="{url}"' in on_detail and 'target="_blank" rel="noopener"' in on_detail
    assert 'aria-label="Open in Xero: Kea Outfitters Ltd (opens a new tab)"' in on_detail
    assert ">Open in Xero</a>" in on_detail
    (on_row,) = links_in(customers.decode())
    assert f'href="{url}"' in on_row and 'aria-label="Open in Xero: Kea Outfitters Ltd' in on_row


def test_a_deleted_xero_contact_is_not_offered(connection, viewer_client):
    link = ContactLinkFactory(
        connection=connection, status=LinkStatus.INVALID, invalid_reason=InvalidReason.DELETED
    )
    detail = viewer_client.get(
        reverse("sync:contact_detail", args=["sales", link.contact.pk])
    ).content
    assert links_in(detail.decode()) == []


def test_synced_transactions_open_their_document_and_others_do_not(connection, viewer_client):
    xero_id = uuid.uuid4()
    bill = TransactionFactory(
        type=TransactionType.SUPPLIER_INVOICE,
        contact=ContactFactory(is_customer=False, is_supplier=True),
        number="BILL-7",
        sync_state=SyncState.SYNCED,
        xero_id=xero_id,
        xero_number="BILL-7",
    )
    TransactionFactory(
        type=TransactionType.SUPPLIER_INVOICE,
        contact=bill.contact,
        number="BILL-8",
        sync_state=SyncState.READY,
    )
    run = SyncRunFactory(connection=connection)
    SyncItemFactory(
        run=run,
        transaction=bill,
        state=SyncItem.State.SYNCED,
        xero_id=xero_id,
        xero_number="BILL-7",
    )
    url = f"https://go.xero.com/AccountsPayable/Edit.aspx?InvoiceID={xero_id}"
    name = "Open in Xero: Supplier invoice (bill) BILL-7 (opens a new tab)"

    bills = viewer_client.get(reverse("sync:subtab", args=["purchases", "bills"])).content.decode()
    on_run = viewer_client.get(reverse("sync:sync_run", args=[run.pk])).content.decode()

    for page in (bills, on_run):
        (found,) = links_in(page)
        assert f'href="{url}"' in found and f'aria-label="{name}"' in found


def test_errors_and_discrepancies_open_the_xero_objects_they_name(connection, viewer_client):
    link = ContactLinkFactory(
        connection=connection,
        xero_name="Moa Motors Ltd",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    document = MirroredDocumentFactory(connection=connection, status="VOIDED", number="INV-9")
    voided = TransactionFactory(
        number="INV-9", sync_state=SyncState.SYNCED, xero_id=document.document_id
    )
    LineItemFactory(transaction=voided, quantity=Decimal("1"), unit_price=Decimal("100"))
    SyncSettings.objects.create(connection=connection, documents_checked_at=timezone.now())

    on_errors = viewer_client.get(reverse("sync:errors")).content.decode()
    on_discrepancies = viewer_client.get(reverse("sync:discrepancies")).content.decode()

    (contact_link,) = links_in(on_errors)
    assert f"/Contacts/View/{link.xero_contact_id}" in contact_link
    (document_link,) = links_in(on_discrepancies)
    assert f"/AccountsReceivable/View.aspx?InvoiceID={document.document_id}" in document_link
    assert 'aria-label="Open in Xero: Sales invoice INV-9 (opens a new tab)"' in document_link
