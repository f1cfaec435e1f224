"""Undo, as an accountant clicks it: a link made by mistake, undone from its message."""

import pytest
from playwright.sync_api import expect

from sync.models import ContactLink, LinkEvent
from tests.browser.conftest import refreshed
from tests.factories import ContactFactory, LineItemFactory, TransactionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_link_is_undone_from_its_message(connected, sandbox, live_server, screenshot):
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Summit Cycles Ltd"}])
    refreshed()
    summit = ContactFactory(name="Summit Cycles")
    LineItemFactory(transaction=TransactionFactory(contact=summit))
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    row = page.locator(f"#contact-{summit.pk}")
    expect(row).to_contain_text("No linked contact")
    row.get_by_role("searchbox").fill("summit")
    row.locator(".suggestions").get_by_role("button", name="Link").first.click()
    expect(row).to_contain_text("Linked to Summit Cycles Ltd in Xero.")
    screenshot("undo-offered")
    row.get_by_role("button", name="Undo").click()
    expect(row).to_contain_text("Undone: Summit Cycles has no linked contact again.")
    expect(row).to_contain_text("No linked contact")
    screenshot("undo-done")
    assert not ContactLink.objects.filter(contact=summit).exists()
    assert LinkEvent.objects.get(action="unlink").undoes == LinkEvent.objects.get(action="link")
