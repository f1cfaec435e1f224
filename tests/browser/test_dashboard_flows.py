"""What an accountant sees and clicks on the Xero integration dashboard, in a real browser."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sync.models import ContactLink, InvalidReason, LinkEvent, LinkStatus
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    LineItemFactory,
    SupplierFactory,
    TransactionFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ready(contact, count=1):
    for _ in range(count):
        LineItemFactory(transaction=TransactionFactory(contact=contact))
    return contact


def linked(name, connection, **fields):
    return ContactLinkFactory(
        contact=ready(ContactFactory(name=name)), connection=connection, **fields
    )


@pytest.fixture
def books():
    """Demo Company with three linked customers (one merged in Xero) and one unlinked."""
    demo = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    survivor = XeroContactFactory(connection=demo, name="Seaside Surf Group")
    return {
        "tui": linked("Tui Books", demo, xero_name="Tui Books Limited"),
        "seaside": linked(
            "Seaside Surf",
            demo,
            xero_name="Seaside Surf Shop",
            status=LinkStatus.INVALID,
            invalid_reason=InvalidReason.MERGED,
            merged_into_xero_contact_id=survivor.contact_id,
        ),
        "harbour": linked("Harbour Cafe", demo, xero_name="Harbour Cafe Ltd"),
        "bayview": ready(ContactFactory(name="Bayview Cafe", account_number="C1001"), 3),
    }


@pytest.fixture
def sign_in(login):
    """Log in and wait until htmx has wired the page: a keypress before it would submit the
    plain form (which works too, but is not the flow these tests follow)."""

    def sign_in_as(user):
        page = login(user)
        page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
        return page

    return sign_in_as


def tick(page, *links):
    for link in links:
        page.locator(f"#contact-{link.contact.pk}").get_by_role("checkbox").check()


def test_accountant_unlinks_several_after_confirming_in_the_dialog(
    sign_in, accountant, books, screenshot
):
    page = sign_in(accountant)
    page.evaluate("window.stayed = true")  # gone if the page is loaded again
    expect(page.locator("#contacts tbody tr")).to_have_count(4)
    expect(page.locator("#contacts")).to_contain_text("Merged into Seaside Surf Group")
    tick(page, books["tui"], books["seaside"])
    expect(page.get_by_text("2 selected")).to_be_visible()
    page.get_by_role("button", name="Unlink", exact=True).click()

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Unlink 2 contacts?")
    expect(dialog).to_contain_text("Tui Books Limited")
    expect(dialog).to_contain_text("stay in Xero on the old contact")
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    screenshot("unlink-dialog")
    dialog.get_by_role("button", name="Unlink 2 contacts").click()

    expect(dialog).to_be_hidden()
    expect(page.locator("#contacts-messages")).to_contain_text("Unlinked 2 contacts")
    for link in (books["tui"], books["seaside"]):
        expect(page.locator(f"#contact-{link.contact.pk}")).to_contain_text("No linked contact")
    expect(page.locator(f"#contact-{books['harbour'].contact.pk}")).to_contain_text(
        "Harbour Cafe Ltd"
    )
    assert list(ContactLink.objects.all()) == [books["harbour"]]
    assert sorted(LinkEvent.objects.values_list("contact_name", flat=True)) == [
        "Seaside Surf",
        "Tui Books",
    ]
    assert page.evaluate("window.stayed") is True  # the table was swapped in place


def test_a_rows_own_unlink_confirms_in_the_dialog_and_swaps_only_that_row(
    sign_in, accountant, books
):
    page = sign_in(accountant)
    page.evaluate("window.stayed = true")  # gone if the page is loaded again
    tui = page.locator(f"#contact-{books['tui'].contact.pk}")
    tui.get_by_role("link", name="Unlink Tui Books").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Unlink Tui Books?")
    dialog.get_by_role("button", name="Unlink Tui Books").click()
    expect(dialog).to_be_hidden()
    expect(tui).to_contain_text("No linked contact")
    expect(tui.locator(".row-note")).to_have_text("Unlinked from Tui Books Limited.")
    expect(tui.locator(".row-note")).to_be_focused()
    expect(page.locator("#row-announcer")).to_have_text(
        "Tui Books: Unlinked from Tui Books Limited."
    )
    harbour = page.locator(f"#contact-{books['harbour'].contact.pk}")
    expect(harbour).to_contain_text("Harbour Cafe Ltd")
    assert page.evaluate("window.stayed") is True
    assert LinkEvent.objects.get().contact_name == "Tui Books"


def test_cancelling_the_dialog_by_button_or_escape_changes_nothing(sign_in, accountant, books):
    page = sign_in(accountant)
    tick(page, books["tui"])
    unlink = page.get_by_role("button", name="Unlink", exact=True)
    unlink.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(unlink).to_be_focused()

    unlink.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(unlink).to_be_focused()
    assert ContactLink.objects.count() == 3 and not LinkEvent.objects.exists()
    expect(page.locator(f"#contact-{books['tui'].contact.pk}")).to_contain_text("Tui Books Limited")


def test_the_dialog_works_from_the_keyboard(sign_in, accountant, books):
    page = sign_in(accountant)
    box = page.locator(f"#contact-{books['tui'].contact.pk}").get_by_role("checkbox")
    box.focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Unlink", exact=True).focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Unlink Tui Books")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#contact-{books['tui'].contact.pk}")).to_contain_text("No linked contact")
    assert LinkEvent.objects.get().contact_name == "Tui Books"


def test_select_all_on_this_page(sign_in, accountant, books):
    page = sign_in(accountant)
    page.get_by_role("checkbox", name="Select all on this page").check()
    expect(page.get_by_text("4 selected")).to_be_visible()
    page.get_by_role("button", name="Unlink", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Unlink 3 contacts?")
    expect(dialog).to_contain_text("1 of the selected contacts has no linked contact")


def test_sorting_and_filtering_update_the_table_in_place(sign_in, viewer, books):
    page = sign_in(viewer)
    page.get_by_role("link", name="Ready to sync").click()
    expect(page.locator("#contacts thead th[aria-sort=descending]")).to_have_text(
        re.compile("Ready to sync")
    )
    expect(page.locator("#contacts tbody tr").first).to_contain_text("Bayview Cafe")
    expect(page).to_have_url(re.compile(r"sort=-ready"))
    page.get_by_label("Link filter").select_option("unlinked")
    expect(page.locator("#contacts tbody tr")).to_have_count(1)
    expect(page).to_have_url(
        re.compile(r"linked=unlinked.*sort=-ready|sort=-ready.*linked=unlinked")
    )
    page.get_by_label("Search customers").fill("nothing like this")
    expect(page.locator("#contacts")).to_contain_text("No customers match this search.")


def test_viewer_sees_the_actions_disabled_with_the_reason(sign_in, viewer, books, screenshot):
    page = sign_in(viewer)
    for name in ("Upload", "Unlink", "Relink to survivor", "Check links"):
        button = page.get_by_role("button", name=name, exact=True)
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("title", re.compile("Viewers can look but not change"))
    expect(page.get_by_text("Ask an admin to add you to Accountants.")).to_be_visible()
    screenshot("dashboard-customers-viewer")


def test_switching_organisation_shows_its_own_links(sign_in, accountant, books, screenshot):
    harbour = XeroConnectionFactory(
        organisation_name="Harbour Trading", connected_at=timezone.now() - timedelta(days=3)
    )
    ContactLinkFactory(
        contact=books["bayview"], connection=harbour, xero_name="Bayview Cafe (Harbour)"
    )
    page = sign_in(accountant)
    # Bayview's transactions are Harbour's (the one organisation it is linked in), so the
    # Demo list shows it among all customers, not among those with something to sync.
    page.goto(page.url.split("?")[0] + "?show=all")
    connection = page.locator("#connection")
    expect(connection).to_contain_text("Demo Company (NZ)")
    expect(page.get_by_role("button", name="Connect another organisation")).to_be_visible()
    row = page.locator(f"#contact-{books['bayview'].pk}")
    expect(row).to_contain_text("No linked contact")

    page.get_by_label("Organisation").select_option(label="Harbour Trading")
    page.get_by_role("button", name="Show").click()
    expect(connection).to_contain_text("Connected to Harbour Trading")
    expect(row).to_contain_text("Bayview Cafe (Harbour)")
    expect(page.locator(f"#contact-{books['tui'].contact.pk}")).to_contain_text("No linked contact")
    screenshot("dashboard-two-organisations")


def test_contact_page_shows_its_link_history(sign_in, accountant, books, screenshot):
    page = sign_in(accountant)
    tick(page, books["harbour"])
    page.get_by_role("button", name="Unlink", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Unlink Harbour Cafe").click()
    expect(page.locator(f"#contact-{books['harbour'].contact.pk}")).to_contain_text(
        "No linked contact"
    )
    page.get_by_role("link", name="Harbour Cafe").click()
    expect(page.get_by_role("heading", name="Harbour Cafe")).to_be_visible()
    history = page.locator("#history")
    expect(history).to_contain_text("Unlinked")
    expect(history).to_contain_text("Alex Accountant")
    expect(history).to_contain_text("Was linked to Harbour Cafe Ltd")
    screenshot("contact-page")


def test_screenshots_of_each_subtab(sign_in, accountant, books, screenshot):
    ready(SupplierFactory(name="Kiwi Coffee Roasters"), 2)
    ContactLinkFactory(
        contact=ready(SupplierFactory(name="Pacific Packaging Ltd")),
        connection=books["tui"].connection,
        xero_name="Pacific Packaging Limited",
    )
    ContactFactory(name="<script>alert(1)</script>")
    page = sign_in(accountant)
    page.get_by_role("checkbox", name="Select Tui Books").check()
    screenshot("dashboard-customers")

    page.get_by_label("Which customers").select_option("all")
    expect(page.locator("#contacts")).to_contain_text("<script>alert(1)</script>")
    screenshot("dashboard-customers-all")

    page.get_by_role("link", name="Purchases").click()
    expect(page.locator("#contacts")).to_contain_text("Kiwi Coffee Roasters")
    expect(page.locator("#contacts")).not_to_contain_text("Bayview Cafe")
    screenshot("dashboard-suppliers")

    page.get_by_role("link", name="Sales").click()
    page.get_by_role("link", name="Invoices").click()
    expect(page.locator("#transactions")).to_contain_text("Tui Books")
    screenshot("dashboard-sales-invoices")


def test_a_plain_form_shows_it_is_working_and_is_sent_once(sign_in, accountant, books):
    page = sign_in(accountant)
    sent = []

    def answer(route):  # held, then "No Content": the browser stays on the page
        sent.append(route.request.method)
        route.fulfill(status=204)

    page.route("**/refresh-contacts/", answer)
    refresh = page.get_by_role("button", name="Refresh Xero contacts")
    refresh.click()
    expect(refresh).to_be_disabled()
    expect(refresh).to_have_class(re.compile("is-busy"))
    page.evaluate("document.querySelector('form[action$=\"/refresh-contacts/\"]').requestSubmit()")
    page.wait_for_timeout(300)
    assert sent == ["POST"]
