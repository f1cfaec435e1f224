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


def test_a_half_made_connection_is_finished_from_its_banner(
    login, accountant, xero_settings, sandbox, screenshot
):
    sandbox.fault(status=503, count=10, path="/api.xro/2.0/Organisation")
    page = login(accountant)
    page.get_by_role("button", name="Connect to Xero").click()
    page.get_by_role("button", name="Allow access").click()
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Connecting to Demo Company (NZ) is not finished")
    expect(page.locator("#connection")).to_contain_text("Not ready")
    screenshot("dashboard-not-ready")
    sandbox.clear_faults()
    banner.get_by_role("button", name="Finish connecting").click()
    expect(page.get_by_role("status")).to_contain_text("Connected to Demo Company (NZ)")
    expect(page.get_by_role("alert")).to_have_count(0)
    assert XeroConnection.objects.get().status == ConnectionStatus.ACTIVE


def test_a_failed_refresh_is_shown_with_a_retry_button(
    login, accountant, xero_settings, screenshot
):
    from django.utils import timezone

    XeroConnection.objects.create(
        organisation_name="Demo Company (NZ)",
        tenant_id="b6a5e4c2-7d3f-4c1a-9e8b-2f0a1d3c5e71",
        contacts_refresh_failed_at=timezone.now(),
        contacts_refresh_error="Xero's per-minute call limit for this organisation is used up. "
        "Try again in 45 seconds.",
    )
    page = login(accountant)
    failed = page.locator("#refresh-failed")
    expect(failed).to_contain_text("The last refresh of Xero contacts failed")
    expect(failed).to_contain_text("Try again in 45 seconds.")
    screenshot("dashboard-refresh-failed")
    failed.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status")).to_contain_text("Refreshing the Xero contacts")
