"""The Search column: ranking, why each result matched, and Xero contacts linked elsewhere."""

import pytest
from django.urls import reverse

from sync.models import ContactLink
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    SupplierFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def suggest_url(contact) -> str:
    return reverse("sync:xero_suggest", kwargs={"tab": "sales", "pk": contact.pk})


def link_url(contact) -> str:
    return reverse("sync:link_existing", kwargs={"tab": "sales", "pk": contact.pk})


@pytest.fixture
def connection():
    return XeroConnectionFactory()


@pytest.fixture
def studio(connection):
    """A Xero contact "tu" matches only inside a word, linked to another Omni contact."""
    xero = XeroContactFactory(connection=connection, name="Studio Nine Ltd")
    ContactLinkFactory(
        connection=connection,
        contact=ContactFactory(name="Studio Nine Design"),
        xero_contact_id=xero.contact_id,
        xero_name=xero.name,
    )
    return xero


def search(client, contact, text: str, **extra) -> str:
    return client.get(suggest_url(contact), {"q": text}, **extra).content.decode()


def test_typing_tu_puts_tui_books_before_a_name_with_tu_inside_a_word(
    accountant_client, connection, studio
):
    XeroContactFactory(connection=connection, name="Tui Books Limited")
    XeroContactFactory(connection=connection, name="Kea and Tui Cafe")
    XeroContactFactory(connection=connection, name="Harbour Stores", email="tui@harbour.nz")
    page = search(accountant_client, ContactFactory(name="Tui Books"), "tu", **HTMX)
    order = [
        page.index(name)
        for name in ("Tui Books Limited", "Kea and Tui Cafe", "Harbour Stores", "Studio Nine Ltd")
    ]
    assert order == sorted(order)


def test_each_result_says_why_it_matched(accountant_client, connection, studio):
    XeroContactFactory(connection=connection, name="Tui Books Limited")
    XeroContactFactory(connection=connection, name="Kea and Tui Cafe")
    XeroContactFactory(connection=connection, name="Harbour Stores", email="tui@harbour.nz")
    page = search(accountant_client, ContactFactory(name="Tui Books"), "tu", **HTMX)
    assert "Name starts with “<bdi>tu</bdi>”" in page
    assert "A word of the name starts with “<bdi>tu</bdi>”" in page
    assert "Email address starts with “<bdi>tu</bdi>”" in page
    assert "Name contains “<bdi>tu</bdi>”" in page


def test_a_contact_linked_elsewhere_shows_its_omni_contact_and_cannot_be_chosen(
    accountant_client, connection, studio
):
    XeroContactFactory(connection=connection, name="Tui Books Limited")
    contact = ContactFactory(name="Tui Books")
    for page in (
        search(accountant_client, contact, "tu", **HTMX),
        search(accountant_client, contact, "tu"),  # the page without JavaScript
    ):
        assert "Linked to <bdi>Studio Nine Design</bdi> in Omni: unlink it there first" in page
        studio_row = page[page.index("Studio Nine Ltd") :].split("</li>")[0]
        assert "Link" not in studio_row.replace("Linked to", "")
        assert str(studio.contact_id) not in page
        tui_row = page[page.index("Tui Books Limited") :].split("</li>")[0]
        assert ">Link</button>" in tui_row
    # Posted anyway (a stale page, a hand-made request): refused, saying why and what to do.
    page = accountant_client.post(
        link_url(contact), {"xero_contact_id": str(studio.contact_id)}, follow=True
    ).content.decode()
    assert "Studio Nine Ltd in Xero is already linked to Studio Nine Design" in page
    assert "unlink Studio Nine Design first, or pick another Xero contact" in page
    assert not ContactLink.objects.filter(contact=contact).exists()


def test_one_business_s_customer_and_supplier_records_may_share_a_result(
    accountant_client, connection
):
    xero = XeroContactFactory(connection=connection, name="Tui Books Limited")
    ContactLinkFactory(
        connection=connection,
        contact=SupplierFactory(name="Tui Books", email="accounts@tui.nz"),
        xero_contact_id=xero.contact_id,
    )
    customer = ContactFactory(name="Tui Books", email="accounts@tui.nz")
    page = search(accountant_client, customer, "tui", **HTMX)
    assert "Linked to <bdi>Tui Books</bdi>, the same business's supplier record" in page
    assert ">Link</button>" in page
    accountant_client.post(link_url(customer), {"xero_contact_id": str(xero.contact_id)})
    assert ContactLink.objects.filter(contact=customer, xero_contact_id=xero.contact_id).exists()


@pytest.mark.parametrize("results", [1, 8])
def test_one_search_costs_the_same_queries_however_many_results(
    accountant_client, connection, django_assert_num_queries, results
):
    for n in range(results):
        xero = XeroContactFactory(connection=connection, name=f"Tui Books {n} Ltd")
        ContactLinkFactory(connection=connection, xero_contact_id=xero.contact_id)
    contact = ContactFactory(name="Tui Books")
    # session, user, the user's and their groups' permissions, the contact, the connection
    # shown, the ranked matches, their links with their Omni contacts
    with django_assert_num_queries(8):
        page = search(accountant_client, contact, "tui", **HTMX)
    assert page.count("Tui Books ") == results
