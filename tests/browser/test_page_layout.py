"""The layout in a real browser: at a phone's width (390 px) no page scrolls sideways (the
top bar and banners wrap, tables become stacked cards); on a wide screen (1920 px) the tables
use the width; the skip link works. SCREENSHOTS=1 writes every page at 390, 1366 and 1920 px
to var/screenshots/ for a person to look at."""

import os

import pytest
from playwright.sync_api import expect

from sync.models import ConnectionStatus
from tests.browser import tour
from tests.factories import ContactFactory, XeroConnectionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
WIDE = {"width": 1920, "height": 1080}


def every_page(page, live_server, login, admin_user, accountant):
    """Visit every page of the tour (logged out, as the admin, as the accountant), yielding
    each once it has loaded."""
    data = tour.books()
    for stop in tour.LOGGED_OUT_STOPS:
        page.goto(f"{live_server.url}{stop.path}")
        yield stop
    login(admin_user)
    for stop in tour.stops(page, live_server.url, data):
        page.goto(f"{live_server.url}{stop.path}")
        page.wait_for_load_state("networkidle")
        yield stop
    page.get_by_role("button", name="Log out").click()
    login(accountant)
    for stop in tour.ACCOUNTANT_STOPS:
        page.goto(f"{live_server.url}{stop.path}")
        yield stop


def test_no_page_scrolls_sideways_at_390_px(
    login, admin_user, accountant, page, live_server, screenshot
):
    page.set_viewport_size(PHONE)
    wide = {}
    for stop in every_page(page, live_server, login, admin_user, accountant):
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide[stop.name] = width
            screenshot(f"too-wide-390-{stop.name}")
    assert not wide, f"pages wider than {PHONE['width']} px at {PHONE['width']} px: {wide}"


def test_tables_use_the_width_of_a_1920_px_screen(login, admin_user, accountant, page, live_server):
    page.set_viewport_size(WIDE)
    narrow = {}
    for stop in every_page(page, live_server, login, admin_user, accountant):
        if stop.table:
            width = page.locator(stop.table).bounding_box()["width"]
            if width <= 1400:
                narrow[stop.name] = width
    assert not narrow, f"main tables no wider than 1400 px at 1920 px: {narrow}"


@pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="SCREENSHOTS=1 writes them")
def test_screenshots_of_every_page_at_three_widths(
    login, admin_user, accountant, page, live_server
):
    for stop in every_page(page, live_server, login, admin_user, accountant):
        for size in (PHONE, LAPTOP, WIDE):
            page.set_viewport_size(size)
            # The top of a long page: its first screens are what a person looks at.
            height = min(page.evaluate("document.documentElement.scrollHeight"), 2400)
            page.screenshot(
                path=os.path.join("var", "screenshots", f"layout-{size['width']}-{stop.name}.png"),
                full_page=True,
                clip={"x": 0, "y": 0, "width": size["width"], "height": height},
            )


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
