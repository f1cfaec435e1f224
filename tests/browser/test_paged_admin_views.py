"""Errors and Discrepancies a page at a time, as a person reads them: the pager says where
the page stands, and Next and Previous lead through the list."""

import pytest
from playwright.sync_api import expect

from sync.models import SyncSettings
from tests.factories import XeroConnectionFactory
from tests.syncing.test_paged_views import refused, voided

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def organisation():
    connection = XeroConnectionFactory(organisation_name="Demo Company (NZ)")
    SyncSettings.for_connection(connection)
    return connection


def test_discrepancies_page_through_with_the_pager(
    login, accountant, organisation, live_server, screenshot
):
    for n in range(60):
        voided(organisation, n)
    SyncSettings.objects.filter(connection=organisation).update(
        documents_checked_at="2026-12-01T09:00Z"
    )
    page = login(accountant)
    page.goto(f"{live_server.url}/accounting/xero/discrepancies/")
    pager = page.get_by_role("navigation", name="Pages", exact=True)
    expect(pager).to_contain_text("Page 1 of 2 · 60 in all")
    expect(page.locator("#discrepancies tbody tr")).to_have_count(50)
    screenshot("discrepancies-page-1")
    pager.get_by_role("link", name="Next").click()
    expect(pager).to_contain_text("Page 2 of 2 · 60 in all")
    expect(page.locator("#discrepancies tbody tr")).to_have_count(10)
    screenshot("discrepancies-page-2")
    pager.get_by_role("link", name="Previous").click()
    expect(pager).to_contain_text("Page 1 of 2")


def test_errors_page_through_with_the_pager(
    login, accountant, organisation, live_server, screenshot
):
    for n in range(25):
        refused(n, organisation)
    page = login(accountant)
    page.goto(f"{live_server.url}/accounting/xero/errors/")
    pager = page.get_by_role("navigation", name="Pages", exact=True)
    expect(pager).to_contain_text("Page 1 of 2 · 25 in all")
    expect(page.locator("section.panel.problem")).to_have_count(20)
    screenshot("errors-page-1")
    pager.get_by_role("link", name="Next").click()
    expect(pager).to_contain_text("Page 2 of 2 · 25 in all")
    expect(page.locator("section.panel.problem")).to_have_count(5)
    screenshot("errors-page-2")
