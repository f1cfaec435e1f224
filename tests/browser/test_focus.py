"""Where keyboard focus goes after each thing done on the contacts subtab: it stays on the
control that was used (a sort link, a pager link, an action button) when the table is swapped
in place, and goes to what happened after the unlink dialog; never back to the top."""

import pytest
from playwright.sync_api import expect

from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    TransactionFactory,
    XeroConnectionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ready(name):
    contact = ContactFactory(name=name)
    LineItemFactory(transaction=TransactionFactory(contact=contact))
    return contact


@pytest.fixture
def books():
    demo = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    tui = ContactLinkFactory(contact=ready("Tui Books"), connection=demo)
    return {"tui": tui.contact, "bayview": ready("Bayview Cafe")}


@pytest.fixture
def signed_in(login, accountant, books):
    page = login(accountant)
    page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
    return page


def test_sorting_from_the_keyboard_keeps_focus_on_the_sort_link(signed_in):
    page = signed_in
    page.get_by_role("link", name="Ready to sync").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#contacts thead th[aria-sort=descending]")).to_contain_text(
        "Ready to sync"
    )
    expect(page.get_by_role("link", name="Ready to sync")).to_be_focused()
    page.keyboard.press("Enter")  # and again, the other way
    expect(page.locator("#contacts thead th[aria-sort=ascending]")).to_contain_text("Ready to sync")
    expect(page.get_by_role("link", name="Ready to sync")).to_be_focused()


def test_an_action_keeps_focus_on_its_button(signed_in, books):
    page = signed_in
    page.get_by_role("checkbox", name="Select Tui Books").check()
    check = page.get_by_role("button", name="Check links")
    check.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#contacts-messages")).to_contain_text("Xero's contacts have not been")
    expect(check).to_be_focused()


def test_the_next_page_keeps_focus_in_the_pager(login, accountant, books):
    for n in range(50):
        ready(f"Customer {n:02d}")
    page = login(accountant)
    page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
    page.get_by_role("link", name="Next").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    # The last page has no Next: focus is on the pager's other link, not lost.
    expect(page.get_by_role("link", name="Previous")).to_be_focused()


def test_after_the_unlink_dialog_focus_is_on_what_happened(signed_in):
    page = signed_in
    page.get_by_role("checkbox", name="Select Tui Books").check()
    page.get_by_role("button", name="Unlink", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Unlink Tui Books").click()
    messages = page.locator("#contacts-messages")
    expect(messages).to_contain_text("Unlinked 1 contact")
    expect(messages).to_be_focused()
