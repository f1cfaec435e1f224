"""Selecting every row that matches a filter, across pages, and the filter kept for the next
visit, in a real browser."""

import pytest
from playwright.sync_api import expect

from sync.dashboard.contacts import PAGE_SIZE
from sync.models import ContactLink
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    TransactionFactory,
    XeroConnectionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNT = PAGE_SIZE + 7


@pytest.fixture
def many():
    demo = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    for n in range(COUNT):
        contact = ContactFactory(name=f"Harbour {n:03}")
        LineItemFactory(transaction=TransactionFactory(contact=contact))
        ContactLinkFactory(contact=contact, connection=demo)
    kept = ContactFactory(name="Tui Books")
    LineItemFactory(transaction=TransactionFactory(contact=kept))
    ContactLinkFactory(contact=kept, connection=demo)
    return demo


def test_unlink_every_matching_contact_beyond_the_page(login, accountant, many, live_server):
    page = login(accountant)
    page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
    page.get_by_label("Search customers").fill("Harbour")
    expect(page.locator("#contacts tbody tr")).to_have_count(PAGE_SIZE)
    everything = page.get_by_label(f"Select all {COUNT} matching customers (every page)")
    everything.check()
    expect(page.get_by_text(f"All {COUNT} matching selected")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Select all on this page")).to_be_checked()
    page.get_by_role("button", name="Unlink", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text(f"Unlink {COUNT} contacts?")
    dialog.get_by_role("button", name=f"Unlink {COUNT} contacts").click()
    expect(page.locator("#contacts-messages")).to_contain_text(f"Unlinked {COUNT} contacts")
    assert list(ContactLink.objects.values_list("contact__name", flat=True)) == ["Tui Books"]

    # Opened again from the tabs, the list keeps the search.
    page.get_by_role("link", name="Invoices").click()
    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_label("Search customers")).to_have_value("Harbour")
    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_label("Search customers")).to_have_value("")


def test_unticking_a_row_narrows_the_selection_to_the_ticked(login, accountant, many):
    page = login(accountant)
    page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
    everything = page.get_by_label(f"Select all {COUNT + 1} matching customers (every page)")
    everything.check()
    page.locator("#contacts tbody tr").first.get_by_role("checkbox").uncheck()
    expect(page.get_by_text(f"{PAGE_SIZE - 1} selected")).to_be_visible()
    expect(everything).not_to_be_checked()
