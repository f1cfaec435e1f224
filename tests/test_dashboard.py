"""The Xero integration dashboard: who may see and do what, and what each tab shows."""

import pytest
from django.urls import reverse

from sync.models import ContactLink, InvalidReason, LinkEvent, LinkStatus
from transactions.models import SyncState, TransactionType

from .factories import (
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    SupplierFactory,
    TransactionFactory,
    XeroConnectionFactory,
)

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
SUPPLIERS = reverse("sync:subtab", kwargs={"tab": "purchases", "subtab": "suppliers"})


def unlink_url(contact, tab="sales"):
    return reverse("sync:unlink", kwargs={"tab": tab, "pk": contact.pk})


def test_anonymous_is_sent_to_login(client):
    response = client.get(CUSTOMERS)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_logs_a_user_in(client, accountant):
    page = client.get(reverse("login"))
    assert b"Log in" in page.content
    response = client.post(
        reverse("login"), {"username": "alex", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get(response.url, follow=True).request["PATH_INFO"] == CUSTOMERS


def test_user_outside_the_groups_is_refused(client, outsider):
    client.force_login(outsider)
    assert client.get(CUSTOMERS).status_code == 403


def test_dashboard_opens_on_sales_customers(accountant_client):
    response = accountant_client.get(reverse("sync:dashboard"))
    assert response.url == CUSTOMERS


def test_customers_tab_lists_customers_with_no_linked_contact(viewer_client):
    ContactFactory(name="Bayview Cafe")
    SupplierFactory(name="Kiwi Coffee Roasters")
    page = viewer_client.get(CUSTOMERS).content.decode()
    assert "Bayview Cafe" in page
    assert "Kiwi Coffee Roasters" not in page
    assert "Linked Contact" in page
    assert '<span class="muted">No linked contact</span>' in page
    assert "Not connected to Xero yet" in page


def test_suppliers_tab_lists_suppliers(viewer_client):
    ContactFactory(name="Bayview Cafe")
    SupplierFactory(name="Kiwi Coffee Roasters")
    page = viewer_client.get(SUPPLIERS).content.decode()
    assert "Kiwi Coffee Roasters" in page
    assert "Bayview Cafe" not in page


def test_linked_and_invalid_links_show_in_the_linked_contact_column(viewer_client):
    connection = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    ContactLinkFactory(
        contact=ContactFactory(name="Tui Books"),
        connection=connection,
        xero_name="Tui Books Limited",
    )
    ContactLinkFactory(
        contact=ContactFactory(name="Seaside Surf"),
        connection=connection,
        xero_name="Seaside Surf Shop",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.ARCHIVED,
    )
    page = viewer_client.get(CUSTOMERS).content.decode()
    assert "Demo Company (NZ)</strong>" in page
    assert "Tui Books Limited" in page
    assert "Seaside Surf Shop is archived in Xero" in page
    assert '<span class="muted">No linked contact</span>' not in page


def test_link_filter_and_search(viewer_client):
    connection = XeroConnectionFactory()
    ContactLinkFactory(contact=ContactFactory(name="Tui Books"), connection=connection)
    ContactFactory(name="Bayview Cafe")
    unlinked = viewer_client.get(CUSTOMERS, {"linked": "unlinked"}).content.decode()
    assert "Bayview Cafe" in unlinked and "Tui Books" not in unlinked
    linked = viewer_client.get(CUSTOMERS, {"linked": "linked"}).content.decode()
    assert "Tui Books" in linked and "Bayview Cafe" not in linked
    found = viewer_client.get(CUSTOMERS, {"q": "bayview"}).content.decode()
    assert "Bayview Cafe" in found and "Tui Books" not in found


def test_contacts_tab_query_count_does_not_grow_with_rows(viewer_client, django_assert_num_queries):
    connection = XeroConnectionFactory()
    for _ in range(12):
        link = ContactLinkFactory(connection=connection)
        TransactionFactory(contact=link.contact)
    # session, user, user's permissions (2: user and group), connection, mirrored Xero
    # contacts count, contacts count, page of contacts (with ready counts), their links,
    # their recent uploads.
    with django_assert_num_queries(10):
        assert viewer_client.get(CUSTOMERS).status_code == 200


def test_transaction_subtab_lists_its_type_with_totals_and_state(viewer_client):
    invoice = TransactionFactory(number="INV-0042", contact=ContactFactory(name="Tui Books"))
    LineItemFactory(transaction=invoice)  # 2 x 24.50 + 15% GST
    TransactionFactory(
        number="PO-0007", type=TransactionType.PURCHASE_ORDER, contact=SupplierFactory()
    )
    TransactionFactory(
        number="INV-0043", sync_state=SyncState.FAILED, last_error="The contact has been archived."
    )
    page = viewer_client.get(
        reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "invoices"})
    ).content.decode()
    assert "INV-0042" in page and "PO-0007" not in page
    assert "56.35" in page
    assert "Ready to sync" in page and "The contact has been archived." in page
    orders = viewer_client.get(
        reverse("sync:subtab", kwargs={"tab": "purchases", "subtab": "orders"})
    ).content.decode()
    assert "PO-0007" in orders and "INV-0042" not in orders


def test_htmx_request_gets_only_the_rows(viewer_client):
    ContactFactory(name="Bayview Cafe")
    response = viewer_client.get(CUSTOMERS, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Bayview Cafe" in html
    assert "<html" not in html and "<thead>" not in html


def test_unknown_tab_is_404(viewer_client):
    assert viewer_client.get("/accounting/xero/payroll/customers/").status_code == 404
    assert viewer_client.get("/accounting/xero/sales/suppliers/").status_code == 404


def test_viewer_cannot_unlink(viewer_client):
    link = ContactLinkFactory()
    assert viewer_client.get(unlink_url(link.contact)).status_code == 403
    assert viewer_client.post(unlink_url(link.contact)).status_code == 403
    assert ContactLink.objects.filter(pk=link.pk).exists()
    assert "Unlink" not in viewer_client.get(CUSTOMERS).content.decode()


def test_accountant_unlinks_after_confirming(accountant_client, accountant):
    link = ContactLinkFactory(contact=ContactFactory(name="Tui Books"), xero_name="Tui Books Ltd")
    confirm = accountant_client.get(unlink_url(link.contact)).content.decode()
    assert "Unlink Tui Books?" in confirm and "Tui Books Ltd" in confirm
    assert ContactLink.objects.exists()  # asking changes nothing
    response = accountant_client.post(unlink_url(link.contact), follow=True)
    assert "Unlinked Tui Books" in response.content.decode()
    assert not ContactLink.objects.exists()
    assert LinkEvent.objects.get().actor == accountant


def test_unlinking_an_unlinked_contact_gives_a_clear_message(accountant_client):
    XeroConnectionFactory()
    contact = ContactFactory(name="Bayview Cafe")
    response = accountant_client.post(unlink_url(contact), follow=True)
    assert "Bayview Cafe is not linked to a Xero contact" in response.content.decode()


def test_unlink_must_be_posted_by_an_allowed_user(client, viewer, outsider):
    link = ContactLinkFactory()
    anonymous = client.post(unlink_url(link.contact))
    assert anonymous.status_code == 302 and "/login/" in anonymous.url
    for person in (viewer, outsider):
        client.force_login(person)
        assert client.post(unlink_url(link.contact)).status_code == 403
        assert client.get(unlink_url(link.contact)).status_code == 403
    assert ContactLink.objects.filter(pk=link.pk).exists()
    assert not LinkEvent.objects.exists()


def test_linked_filter_without_a_connection_shows_nothing(viewer_client):
    ContactFactory(name="Bayview Cafe")
    page = viewer_client.get(CUSTOMERS, {"linked": "linked"}).content.decode()
    assert "Bayview Cafe" not in page and "No customers match this search." in page
