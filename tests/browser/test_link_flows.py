"""Upload, link by search, and links that went bad, as an accountant clicks through them,
with the sandbox's own Xero web page standing in for Xero."""

import pytest
from playwright.sync_api import Page, expect

from sync.models import ContactLink, InvalidReason, XeroConnection
from tests.browser.conftest import refreshed
from tests.factories import ContactFactory, LineItemFactory, TransactionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ready(name: str, **fields):
    contact = ContactFactory(name=name, **fields)
    LineItemFactory(transaction=TransactionFactory(contact=contact))
    return contact


def linked_to(contact, xero_id: str, name: str):
    """The contact, linked to an existing Xero contact of the organisation connected."""
    ContactLink.objects.create(
        contact=contact,
        connection=XeroConnection.objects.get(),
        xero_contact_id=xero_id,
        xero_name=name,
        method="existing",
    )
    return contact


def row(page: Page, contact):
    return page.locator(f"#contact-{contact.pk}")


def in_xero(sandbox, name: str) -> int:
    found = sandbox.call("GET", f"/_sandbox/organisations/{sandbox.demo_tenant_id}/contacts")
    return sum(1 for c in found if c["Name"] == name)


def test_accountant_uploads_several_contacts(connected, sandbox, live_server, screenshot):
    aroha, tui = ready("Aroha Gift Store"), ready("Tui Bookshop")
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    for contact in (aroha, tui):
        row(page, contact).get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(row(page, aroha)).to_contain_text("Uploaded")
    expect(row(page, tui)).to_contain_text("Tui Bookshop")
    expect(page.get_by_role("status").first).to_contain_text("Uploaded 2 contacts to Xero.")
    screenshot("upload-several")
    assert in_xero(sandbox, "Aroha Gift Store") == 1 and in_xero(sandbox, "Tui Bookshop") == 1
    assert ContactLink.objects.count() == 2


def test_a_contact_xero_already_has_is_offered_instead_of_duplicated(
    connected, sandbox, live_server, screenshot
):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Bayview Cafe Ltd", "AccountNumber": "C1001"}]
    )
    bayview = ready("Bayview Cafe", account_number="C1001")
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    row(page, bayview).get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(row(page, bayview)).to_contain_text("Xero already has Bayview Cafe Ltd")
    screenshot("upload-duplicate-offered")
    expect(row(page, bayview).locator(".badge.bad")).to_have_text("Not uploaded")
    row(page, bayview).get_by_role("link", name="Link to Bayview Cafe Ltd").click()
    expect(row(page, bayview).locator(".badge.ok")).to_have_text("Linked")
    assert ContactLink.objects.get(contact=bayview).xero_name == "Bayview Cafe Ltd"
    assert in_xero(sandbox, "Bayview Cafe") == 0


def test_a_likely_match_shows_its_evidence_and_create_anyway_creates(
    connected, sandbox, live_server, screenshot
):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Southern Alps Sports Ltd"}])
    alps = ready("Southern Alps Sports", account_number="")
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    row(page, alps).get_by_role("checkbox").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(row(page, alps)).to_contain_text("(same name once normalised)")
    expect(
        row(page, alps).get_by_role("link", name="Link to Southern Alps Sports Ltd")
    ).to_be_visible()
    screenshot("upload-likely-match")
    assert in_xero(sandbox, "Southern Alps Sports") == 0
    row(page, alps).get_by_role("button", name="Create Southern Alps Sports in Xero anyway").click()
    expect(row(page, alps)).to_contain_text("Uploaded")
    assert in_xero(sandbox, "Southern Alps Sports") == 1
    assert ContactLink.objects.get(contact=alps).xero_name == "Southern Alps Sports"


def test_accountant_links_an_existing_contact_by_searching(
    connected, sandbox, live_server, screenshot
):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [
            {"Name": "Summit Cycles Ltd", "EmailAddress": "accounts@summit.nz"},
            {"Name": "Summit Cycles Ltd (Queenstown)", "EmailAddress": "qt@summit.nz"},
        ],
    )
    refreshed()
    summit = ready("Summit Cycles")
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    row(page, summit).get_by_role("searchbox").fill("summit")
    results = row(page, summit).locator(".suggestions").get_by_role("listitem")
    expect(results).to_have_count(2)
    expect(results.first).to_contain_text("accounts@summit.nz")  # evidence tells them apart
    screenshot("link-by-search")
    results.first.get_by_role("button", name="Link").click()
    expect(row(page, summit)).to_contain_text("Summit Cycles Ltd")
    expect(row(page, summit)).not_to_contain_text("No linked contact")
    link = ContactLink.objects.get(contact=summit)
    assert link.xero_name == "Summit Cycles Ltd" and link.method == "existing"


def test_arrow_keys_move_through_the_search_results(connected, sandbox, live_server, screenshot):
    sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [{"Name": "Tui Books Limited"}, {"Name": "Kea and Tui Cafe"}, {"Name": "Studio Tuatara"}],
    )
    refreshed()
    tui = ready("Tui Books")
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    box = row(page, tui).get_by_role("searchbox")
    box.fill("tu")
    buttons = row(page, tui).locator(".suggestions").get_by_role("button", name="Link")
    expect(buttons).to_have_count(3)
    expect(row(page, tui).locator(".suggestions li").first).to_contain_text("Tui Books Limited")
    box.press("ArrowDown")
    expect(buttons.nth(0)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(buttons.nth(1)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(buttons.nth(2)).to_be_focused()
    page.keyboard.press("ArrowDown")  # the last stays
    expect(buttons.nth(2)).to_be_focused()
    screenshot("search-arrow-keys")
    page.keyboard.press("ArrowUp")
    expect(buttons.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # from the first, back to the search box
    expect(box).to_be_focused()
    box.press("ArrowDown")
    page.keyboard.press("Enter")  # the focused result is chosen
    expect(row(page, tui)).not_to_contain_text("No linked contact")
    assert ContactLink.objects.get(contact=tui).xero_name == "Tui Books Limited"


def test_a_merge_in_xero_is_relinked_to_the_survivor(connected, sandbox, live_server, screenshot):
    old, survivor = sandbox.seed_contacts(
        sandbox.demo_tenant_id, [{"Name": "Harbour Deli"}, {"Name": "Harbourside Deli Ltd"}]
    )
    refreshed()
    harbour = linked_to(ready("Harbour Deli"), old, "Harbour Deli")
    page = connected
    # In Xero (the sandbox's page), the accountant merges the duplicate into the survivor.
    page.goto(sandbox.url + "/")
    xero_row = page.locator("tr").filter(
        has=page.get_by_role("cell", name="Harbour Deli", exact=True)
    )
    xero_row.get_by_role("combobox", name="Merge into").fill("Harbourside Deli Ltd")
    xero_row.get_by_role("button", name="Merge into").click()
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    page.get_by_role("button", name="Check links").click()
    # Check links fetches what changed in Xero before it judges: the merge, at once.
    expect(page.get_by_role("status")).to_contain_text("1 went bad in Xero")
    expect(row(page, harbour)).to_contain_text("Merged into Harbourside Deli Ltd")
    screenshot("link-merged")
    row(page, harbour).get_by_role("checkbox").check()
    page.get_by_role("button", name="Relink to survivor").click()
    expect(row(page, harbour)).to_contain_text("Harbourside Deli Ltd")
    expect(row(page, harbour)).not_to_contain_text("Merged into")
    link = ContactLink.objects.get(contact=harbour)
    assert str(link.xero_contact_id) == survivor and link.is_valid


def test_restoring_in_xero_makes_the_link_valid_again(connected, sandbox, live_server, screenshot):
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Kauri Coast Ltd"}])
    refreshed()
    kauri = linked_to(ready("Kauri Coast"), xero_id, "Kauri Coast Ltd")
    page = connected
    page.goto(sandbox.url + "/")
    xero_row = page.locator("tr").filter(
        has=page.get_by_role("cell", name="Kauri Coast Ltd", exact=True)
    )
    xero_row.get_by_role("button", name="Archive").click()
    refreshed()
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    expect(row(page, kauri)).to_contain_text("Archived in Xero")
    screenshot("link-archived")
    assert ContactLink.objects.get(contact=kauri).invalid_reason == InvalidReason.ARCHIVED
    page.goto(sandbox.url + "/")
    xero_row.get_by_role("button", name="Restore").click()
    refreshed()
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    expect(row(page, kauri)).not_to_contain_text("Archived in Xero")
    assert ContactLink.objects.get(contact=kauri).is_valid


def test_linking_a_row_swaps_only_that_row_and_keeps_the_page(
    connected, sandbox, live_server, screenshot
):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Zealandia Cycles Ltd"}])
    refreshed()
    for n in range(25):  # a page to scroll, the contact in the middle of it
        ready(f"Aroha Shop {n:02d}")
        ready(f"Zoo Shop {n:02d}")
    zealandia = ready("Zealandia Cycles")
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    page.evaluate("window.stayed = true")  # gone if the page is loaded again
    box = row(page, zealandia).get_by_role("searchbox")
    box.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0
    box.fill("zealandia")
    link = row(page, zealandia).locator(".suggestions").get_by_role("button", name="Link")
    link.click()
    expect(row(page, zealandia).locator(".badge")).to_have_text("Linked")
    expect(row(page, zealandia)).to_contain_text("Linked to Zealandia Cycles Ltd in Xero.")
    expect(row(page, zealandia).locator(".row-note")).to_be_focused()
    expect(page.locator("#row-announcer")).to_have_text(
        "Zealandia Cycles: Linked to Zealandia Cycles Ltd in Xero."
    )
    screenshot("link-row-swapped")
    assert page.evaluate("window.stayed") is True  # no reload
    assert page.evaluate("window.scrollY") == scrolled
    assert ContactLink.objects.get(contact=zealandia).xero_name == "Zealandia Cycles Ltd"
