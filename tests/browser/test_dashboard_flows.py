"""What an accountant sees and clicks on the Xero integration dashboard, in a real browser."""

import pytest
from playwright.sync_api import expect

from sync.models import ContactLink, LinkEvent
from tests.factories import ContactFactory, ContactLinkFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_accountant_browses_tabs_and_unlinks_after_confirming(login, accountant, screenshot):
    ContactFactory(name="Bayview Cafe", account_number="C1001")
    linked = ContactLinkFactory(
        contact=ContactFactory(name="Tui Books"), xero_name="Tui Books Limited"
    )
    SupplierFactory(name="Kiwi Coffee Roasters")

    page = login(accountant)
    expect(page.get_by_role("heading", name="Xero integration")).to_be_visible()
    rows = page.locator("#contacts tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(f"#contact-{linked.contact.pk}")).to_contain_text("Tui Books Limited")
    expect(page.locator("#contacts")).to_contain_text("No linked contact")
    screenshot("dashboard-customers")

    page.get_by_role("link", name="Purchases").click()
    expect(page.locator("#contacts")).to_contain_text("Kiwi Coffee Roasters")
    expect(page.locator("#contacts")).not_to_contain_text("Bayview Cafe")
    page.get_by_role("link", name="Sales").click()

    page.locator(f"#contact-{linked.contact.pk}").get_by_role("link", name="Unlink").click()
    expect(page.get_by_role("heading", name="Unlink Tui Books?")).to_be_visible()
    screenshot("unlink-confirm")
    page.get_by_role("button", name="Unlink").click()
    expect(page.get_by_role("status")).to_contain_text("Unlinked Tui Books")
    expect(page.locator(f"#contact-{linked.contact.pk}")).to_contain_text("No linked contact")
    assert not ContactLink.objects.exists()
    assert LinkEvent.objects.get().actor == accountant


def test_viewer_sees_no_unlink_button(login, viewer):
    ContactLinkFactory(contact=ContactFactory(name="Tui Books"))
    page = login(viewer)
    expect(page.locator("#contacts")).to_contain_text("Tui Books")
    expect(page.get_by_role("link", name="Unlink")).to_have_count(0)
