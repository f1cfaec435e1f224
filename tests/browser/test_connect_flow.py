"""Connecting to Xero in a real browser: omni-xero → the sandbox's consent page → back."""

import pytest
from playwright.sync_api import expect

from sync.models import ConnectionStatus, XeroConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_accountant_connects_the_demo_organisation(login, accountant, xero_settings, screenshot):
    page = login(accountant)
    expect(page.locator("#connection")).to_contain_text("Not connected to Xero yet")
    screenshot("dashboard-not-connected")
    page.get_by_role("button", name="Connect to Xero").click()

    expect(page.get_by_text("Organisations to connect")).to_be_visible()
    screenshot("sandbox-consent")
    page.get_by_role("button", name="Allow access").click()

    expect(page.get_by_role("status")).to_contain_text("Connected to Demo Company (NZ)")
    expect(page.locator("#connection")).to_contain_text("Demo Company (NZ)")
    expect(
        page.get_by_role("button", name="Disconnect").or_(
            page.get_by_role("link", name="Disconnect")
        )
    ).to_be_visible()
    screenshot("dashboard-connected")
    connection = XeroConnection.objects.get()
    assert connection.status == ConnectionStatus.ACTIVE

    page.get_by_role("link", name="Disconnect").click()
    expect(page.get_by_role("heading", name="Disconnect from Demo Company (NZ)?")).to_be_visible()
    page.get_by_role("button", name="Disconnect").click()
    expect(page.locator("#connection")).to_contain_text("Not connected to Xero yet")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.DISCONNECTED


def test_needs_reconnecting_shows_a_banner_with_a_reconnect_button(
    login, accountant, xero_settings, screenshot
):
    XeroConnection.objects.create(
        organisation_name="Demo Company (NZ)",
        tenant_id="b6a5e4c2-7d3f-4c1a-9e8b-2f0a1d3c5e71",
        status=ConnectionStatus.NEEDS_RECONNECT,
        status_detail="the sign-in expired or was revoked in Xero",
    )
    page = login(accountant)
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Xero needs reconnecting")
    screenshot("dashboard-needs-reconnect")
    banner.get_by_role("button", name="Reconnect to Xero").click()
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_role("status")).to_contain_text("Connected to Demo Company (NZ)")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert XeroConnection.objects.get().status == ConnectionStatus.ACTIVE
