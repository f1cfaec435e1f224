"""Selection across pages ("Select all N matching", which the server applies to the list's
filter) and the filter each user chose last on each list, kept for their next visit."""

import pytest
from django.urls import reverse

from sync.dashboard.contacts import PAGE_SIZE
from sync.models import ContactLink, KeptFilter
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    TransactionFactory,
    UserFactory,
    XeroConnectionFactory,
)
from transactions.models import SyncState, Transaction, TransactionType

pytestmark = pytest.mark.django_db

CUSTOMERS = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
INVOICES = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "invoices"})
SALES_ACTION = reverse("sync:contacts_action", kwargs={"tab": "sales"})
INVOICES_ACTION = reverse("sync:transactions_action", kwargs={"tab": "sales", "subtab": "invoices"})


def linked_customers(connection, prefix, count):
    return [
        ContactLinkFactory(
            contact=ContactFactory(name=f"{prefix} {n:03}"), connection=connection
        ).contact
        for n in range(count)
    ]


def matching(**fields):
    """The fields an action bar posts for "all N matching" with this filter."""
    return {"scope": "matching", **{f"matching-{k}": v for k, v in fields.items()}}


def test_the_action_bar_offers_all_matching_only_when_they_span_pages(accountant_client):
    connection = XeroConnectionFactory()
    linked_customers(connection, "Harbour", PAGE_SIZE + 5)
    page = accountant_client.get(CUSTOMERS, {"show": "all"}).content.decode()
    assert f"Select all {PAGE_SIZE + 5} matching customers" in page
    assert 'name="matching-show" value="all"' in page
    one_page = accountant_client.get(CUSTOMERS, {"show": "all", "q": "Harbour 00"})
    assert "matching customers" not in one_page.content.decode()


def test_unlink_all_matching_reaches_beyond_the_page_and_only_the_filter(accountant_client):
    connection = XeroConnectionFactory()
    harbour = linked_customers(connection, "Harbour", PAGE_SIZE + 5)
    others = linked_customers(connection, "Tui", 3)
    asked = accountant_client.post(
        SALES_ACTION,
        {"action": "unlink", "connection": connection.pk, **matching(show="all", q="Harbour")},
    )
    html = asked.content.decode()
    assert f"Unlink {PAGE_SIZE + 5} contacts?" in html
    assert f"and {PAGE_SIZE + 5 - 20} more" in html  # the names are listed 20 at most
    assert 'name="matching-q" value="Harbour"' in html and 'name="contact"' not in html

    accountant_client.post(
        SALES_ACTION,
        {
            "action": "unlink",
            "confirmed": "yes",
            "connection": connection.pk,
            # A ticked id of another contact is not what "all matching" means: it is ignored.
            "contact": others[0].pk,
            **matching(show="all", q="Harbour"),
        },
    )
    assert not ContactLink.objects.filter(contact__in=harbour).exists()
    assert ContactLink.objects.filter(contact__in=others).count() == 3


def test_without_all_matching_only_the_ticked_rows_are_acted_on(accountant_client):
    connection = XeroConnectionFactory()
    harbour = linked_customers(connection, "Harbour", 3)
    accountant_client.post(
        SALES_ACTION,
        {
            "action": "unlink",
            "confirmed": "yes",
            "connection": connection.pk,
            "contact": harbour[0].pk,
            "matching-q": "Harbour",  # the filter alone, without the scope, selects nothing
        },
    )
    assert ContactLink.objects.filter(contact__in=harbour).count() == 2


def test_a_bad_matching_filter_is_a_clear_400_and_changes_nothing(accountant_client):
    connection = XeroConnectionFactory()
    harbour = linked_customers(connection, "Harbour", 2)
    response = accountant_client.post(
        SALES_ACTION,
        {"action": "unlink", "confirmed": "yes", **matching(linked="nonsense")},
    )
    assert response.status_code == 400
    assert ContactLink.objects.filter(contact__in=harbour).count() == 2


def test_skip_all_matching_transactions_takes_every_page_of_the_filter(accountant_client):
    connection = XeroConnectionFactory()
    customer = ContactFactory(name="Harbourside Deli")
    ContactLinkFactory(contact=customer, connection=connection)
    for _ in range(PAGE_SIZE + 2):
        TransactionFactory(contact=customer, type=TransactionType.SALES_INVOICE)
    failed = TransactionFactory(
        contact=customer, type=TransactionType.SALES_INVOICE, sync_state=SyncState.FAILED
    )
    page = accountant_client.get(INVOICES, {"state": "ready"}).content.decode()
    assert f"Select all {PAGE_SIZE + 2} matching invoices" in page
    accountant_client.post(
        INVOICES_ACTION,
        {"action": "skip", "connection": connection.pk, **matching(state="ready")},
    )
    states = set(Transaction.objects.exclude(pk=failed.pk).values_list("sync_state", flat=True))
    assert states == {SyncState.SKIPPED}
    failed.refresh_from_db()
    assert failed.sync_state == SyncState.FAILED  # not in the filter: left as it was


# Filters kept per user


def test_a_list_opened_again_shows_the_filter_chosen_last(accountant_client):
    accountant_client.get(CUSTOMERS, {"linked": "unlinked", "q": "Harbour", "page": "2"})
    again = accountant_client.get(CUSTOMERS)
    assert again.status_code == 302
    assert again.url == f"{CUSTOMERS}?linked=unlinked&q=Harbour"  # not the page
    # Each subtab keeps its own.
    assert accountant_client.get(INVOICES).status_code == 200


def test_clearing_the_filter_is_kept_too(accountant_client):
    page = accountant_client.get(CUSTOMERS, {"linked": "unlinked"}).content.decode()
    assert f'href="{CUSTOMERS}?q=">Clear filters</a>' in page
    accountant_client.get(CUSTOMERS, {"q": "", "linked": ""})  # the form submitted empty
    assert accountant_client.get(CUSTOMERS).status_code == 200


def test_a_filter_is_kept_for_its_user_only(client, accountant):
    client.force_login(accountant)
    client.get(INVOICES, {"state": "failed"})
    assert client.get(INVOICES).url == f"{INVOICES}?state=failed"
    colleague = UserFactory(username="colleague")
    colleague.user_permissions.set(accountant.user_permissions.all())
    colleague.groups.set(accountant.groups.all())
    client.force_login(colleague)
    assert client.get(INVOICES).status_code == 200


def test_a_kept_filter_the_list_can_no_longer_read_is_forgotten(accountant, accountant_client):
    KeptFilter.objects.create(user=accountant, list_key="sales/contacts", query="linked=gone")
    response = accountant_client.get(CUSTOMERS)
    assert response.status_code == 200
    assert not KeptFilter.objects.filter(user=accountant).exclude(query="").exists()
