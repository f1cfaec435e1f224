"""Admin → Webhooks and the dashboard's line on how changes in Xero reach omni-xero."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sync.models import WebhookDelivery, WebhookEvent
from tests.browser import tour
from tests.browser.tour import XERO
from tests.factories import WebhookDeliveryFactory, WebhookEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def books():
    return tour.books()


@pytest.fixture(autouse=True)
def webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = "omni-xero-browser-webhook-key"


def test_an_admin_tests_the_endpoint_from_the_webhooks_page(
    login, admin_user, books, live_server, screenshot
):
    demo = books["demo"]
    now = timezone.now()
    WebhookDeliveryFactory(events=3)
    WebhookDeliveryFactory(signed=False)
    for days_ago, n in [(0, 3), (2, 5), (5, 1)]:
        for _ in range(n):
            event = WebhookEventFactory(connection=demo, processed_at=now)
            WebhookEvent.objects.filter(pk=event.pk).update(
                received_at=now - timedelta(days=days_ago)
            )
    page = login(admin_user)
    page.goto(f"{live_server.url}{XERO}/sales/customers/")
    expect(page.locator("#webhook-mode")).to_have_text(
        "Xero reports changes as they happen (webhooks); a full check runs every 60 minutes."
    )
    screenshot("dashboard-webhooks-live")

    page.get_by_role("link", name="Admin", exact=True).last.click()
    page.get_by_role("link", name="Webhooks").click()
    expect(page.locator("#webhook-url")).to_have_text(f"{live_server.url}/webhooks/xero")
    expect(page.locator("#webhook-refused")).to_have_text("1")
    expect(page.locator("#webhook-days tbody tr")).to_have_count(7)
    page.get_by_role("button", name="Test").click()
    message = page.locator(".messages")
    expect(message).to_contain_text("Signed sample: 200 in ")
    expect(message).to_contain_text("wrongly signed: 401 in ")
    expect(message).to_contain_text("Xero would enable this endpoint.")
    expect(page.locator("#webhook-refused")).to_have_text("1")  # the Test's is no refusal
    screenshot("admin-webhooks")
    assert WebhookDelivery.objects.filter(sample=True).count() == 2


def test_the_dashboard_says_it_polls_when_no_delivery_came(
    login, accountant, books, live_server, screenshot
):
    delivery = WebhookDeliveryFactory()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(days=3)
    )
    page = login(accountant)
    page.goto(f"{live_server.url}{XERO}/sales/customers/")
    expect(page.locator("#webhook-mode")).to_contain_text(
        "Checking Xero for changes every 5 minutes: no webhook delivery since"
    )
    screenshot("dashboard-webhooks-polling")
