"""An open dashboard shows a link going bad in Xero without a reload: the contact is archived
on the sandbox's own Xero page in another tab, the sandbox delivers its webhook to omni-xero,
the worker's processing runs, and the row on the open page turns invalid by itself."""

import pytest
from playwright.sync_api import expect

from sync.models import ContactLink, WebhookEvent, XeroConnection
from sync.webhooks import services as webhooks
from tests.browser.conftest import refreshed
from tests.browser.test_link_flows import linked_to, ready, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "omni-xero-browser-webhook-key"


def test_a_contact_archived_in_xero_turns_invalid_on_the_open_page(
    connected, sandbox, live_server, xero_settings, screenshot
):
    xero_settings.XERO_WEBHOOK_KEY = KEY
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Tui Books Ltd"}])
    refreshed()
    tui = linked_to(ready("Tui Books"), xero_id, "Tui Books Ltd")
    hook = sandbox.webhook(
        url=f"{live_server.url}/webhooks/xero", key=KEY, intent=True, round_seconds=3600
    )
    assert hook["status"] == "enabled", hook
    page = connected
    page.goto(f"{live_server.url}/accounting/xero/sales/customers/")
    expect(row(page, tui)).to_contain_text("Tui Books Ltd")
    expect(row(page, tui).locator(".badge.bad")).to_have_count(0)
    page.evaluate("window.__marker = 1")  # gone if the page is loaded again

    # In Xero (the sandbox's page, in another tab), the accountant archives the contact.
    xero = page.context.new_page()
    xero.goto(sandbox.url + "/")
    xero_row = xero.locator("tr").filter(
        has=xero.get_by_role("cell", name="Tui Books Ltd", exact=True)
    )
    xero_row.get_by_role("button", name="Archive").click()
    expect(xero_row).to_contain_text("ARCHIVED")
    xero.close()
    page.bring_to_front()
    (state,) = sandbox.flush_webhooks()  # the sandbox's next round of deliveries, now
    assert state["last_status"] == 200 and WebhookEvent.objects.count() == 1
    webhooks.webhook_events_process(connection_id=XeroConnection.objects.get().pk)  # the worker

    expect(row(page, tui).locator(".badge.bad")).to_have_text("Archived in Xero", timeout=6000)
    expect(row(page, tui)).to_contain_text("Tui Books Ltd is archived in Xero")
    expect(row(page, tui).get_by_role("link", name="Restore in Xero")).to_be_visible()
    expect(row(page, tui).get_by_role("link", name="Unlink Tui Books")).to_be_visible()
    expect(page.locator("#row-announcer")).to_have_text("Tui Books: Archived in Xero.")
    assert page.evaluate("window.__marker") == 1  # the same page: never reloaded
    assert page.evaluate("document.activeElement === document.body")  # focus not taken
    screenshot("live-row-archived")
    assert not ContactLink.objects.get(contact=tui).is_valid
