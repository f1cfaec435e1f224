"""The dashboard's layout in a real browser: at a phone's width (390 px) the top bar and the
connection banner wrap instead of making the page scroll sideways; the skip link works."""

import pytest
from playwright.sync_api import expect

from sync.models import ConnectionStatus
from tests.factories import ContactFactory, XeroConnectionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(
    "status",
    [ConnectionStatus.ACTIVE, ConnectionStatus.PENDING, ConnectionStatus.NEEDS_RECONNECT],
)
def test_the_customers_subtab_does_not_scroll_sideways_at_390_px(
    login, admin_user, page, live_server, screenshot, status
):
    XeroConnectionFactory(organisation_name="Second Company (NZ)")  # the switcher shows
    XeroConnectionFactory(organisation_name="Demo Company (NZ)", status=status)  # shown
    ContactFactory(name="Bayview Cafe")
    page.set_viewport_size(PHONE)
    login(admin_user)
    expect(page).to_have_title("Customers · Sales · Xero integration")
    # The table's own stacked layout is another piece of work: measure the page above it.
    page.locator("#contacts-region").evaluate("region => region.remove()")
    screenshot(f"dashboard-390-{status}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']} px"


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_page(
    login, accountant, page, screenshot
):
    XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    login(accountant)
    page.reload(wait_until="networkidle")
    # The first tab stop in the document's order (asked of the page, not of a Tab pressed
    # while the page may still be taking focus somewhere).
    first = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, input, select, textarea,'
              + ' [tabindex]')].find(el => el.tabIndex >= 0 && !el.disabled)?.textContent"""
    )
    assert first.strip() == "Skip to content"
    skip = page.get_by_role("link", name="Skip to content")
    skip.focus()
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # out of sight only until a keyboard reaches it
    screenshot("skip-link-focused")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the page, past the top bar
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
