"""Admin → Webhooks: the webhook's state, the address to register, and the Test of the endpoint
(over HTTP, through the real endpoint)."""

import socket
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import WebhookDelivery, WebhookEvent
from sync.webhooks import sample
from sync.webhooks.health import Reason, webhook_health
from tests.factories import WebhookDeliveryFactory, WebhookEventFactory, XeroConnectionFactory

KEY = "omni-xero-test-webhook-key"
PAGE = reverse("sync:admin_webhooks")
TEST = reverse("sync:admin_webhooks_test")


@pytest.fixture(autouse=True)
def webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = KEY


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


@pytest.mark.django_db
def test_the_panel_shows_the_webhooks_state_and_the_address_to_register(admin_client):
    connection = XeroConnectionFactory()
    now = timezone.now()
    WebhookDeliveryFactory()
    old_refusal = WebhookDeliveryFactory(signed=False)
    WebhookDelivery.objects.filter(pk=old_refusal.pk).update(received_at=now - timedelta(days=2))
    WebhookDeliveryFactory(signed=False)
    WebhookDeliveryFactory(signed=False, sample=True)  # the Test's: not a refusal of Xero's
    WebhookEventFactory(connection=connection, processed_at=now)
    WebhookEventFactory(connection=connection)  # waiting
    three_days_ago = WebhookEventFactory(connection=connection, processed_at=now)
    WebhookEvent.objects.filter(pk=three_days_ago.pk).update(received_at=now - timedelta(days=3))
    eight_days_ago = WebhookEventFactory(connection=connection, processed_at=now)
    WebhookEvent.objects.filter(pk=eight_days_ago.pk).update(received_at=now - timedelta(days=8))
    other = XeroConnectionFactory(connected_at=now - timedelta(days=1))  # not the one shown
    WebhookEventFactory(connection=other)

    response = admin_client.get(PAGE)
    html = response.content.decode()
    assert '<dd id="webhook-configured">set</dd>' in html
    assert '<code id="webhook-url">http://testserver/webhooks/xero</code>' in html
    assert '<dd id="webhook-refused">1</dd>' in html
    assert '<dd id="webhook-waiting">1</dd>' in html  # not the other organisation's
    assert "Xero reports changes as they happen (webhooks)" in html
    days = response.context["panel"].per_day
    assert len(days) == 7
    assert [n for _, n in days] == [0, 0, 0, 1, 0, 0, 2]
    assert ">Test</button>" in html


@pytest.mark.django_db
def test_without_a_key_the_panel_says_every_delivery_is_refused(admin_client, settings):
    settings.XERO_WEBHOOK_KEY = ""
    XeroConnectionFactory()
    html = admin_client.get(PAGE).content.decode()
    assert "not set (<code>XERO_WEBHOOK_KEY</code>): every delivery is refused" in html
    assert "webhooks are not set up (no webhook key)" in html
    response = admin_client.post(TEST, follow=True)
    assert "No webhook key is set (XERO_WEBHOOK_KEY)" in messages_of(response)[0]


@pytest.mark.django_db
def test_only_admins_may_test(accountant_client, viewer_client):
    XeroConnectionFactory()
    for client in (accountant_client, viewer_client):
        page = client.get(PAGE)
        assert page.status_code == 200
        assert ">Test</button>" not in page.content.decode()
        assert "Only admins can test the endpoint." in page.content.decode()
        assert client.post(TEST).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_test_replays_a_signed_pair_through_the_real_endpoint(admin_client, live_server):
    connection = XeroConnectionFactory()
    host = live_server.url.removeprefix("http://")
    response = admin_client.post(TEST, HTTP_HOST=host, follow=True)
    (said,) = messages_of(response)
    assert said.startswith("Signed sample: 200 in ")
    assert " ms ✓; wrongly signed: 401 in " in said
    assert said.endswith("Xero would enable this endpoint.")
    # Both went through the endpoint, recorded as samples: no proof that Xero delivers.
    assert list(WebhookDelivery.objects.order_by("pk").values_list("signed", "sample")) == [
        (True, True),
        (False, True),
    ]
    assert webhook_health(connection).reason == Reason.NO_DELIVERY


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db
def test_the_test_says_when_the_address_cannot_be_reached(admin_client):
    XeroConnectionFactory()
    response = admin_client.post(TEST, HTTP_HOST=f"127.0.0.1:{closed_port()}", follow=True)
    (said,) = messages_of(response)
    assert said.startswith("Signed sample: could not connect (ConnectionError) ✗; wrongly signed")
    assert said.endswith("Xero would not enable this endpoint.")


@pytest.mark.django_db(transaction=True)
def test_a_redirect_is_reported_as_one_xero_does_not_follow(live_server):
    # An address with a slash too few: Django redirects it (APPEND_SLASH).
    (signed, wrong) = sample.webhook_test(url=f"{live_server.url}/accounting/xero/admin")
    assert (signed.problem, signed.status) == (sample.Problem.REDIRECT, 301)
    assert signed.detail == "/accounting/xero/admin/"
    assert wrong.problem == sample.Problem.REDIRECT


@pytest.mark.django_db
def test_an_endpoint_that_does_not_answer_in_time_is_reported(monkeypatch):
    monkeypatch.setattr(sample, "TIMEOUT", 0.2)
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/webhooks/xero"
        attempts = sample.webhook_test(url=url)
    assert [a.problem for a in attempts] == [sample.Problem.TIMEOUT, sample.Problem.TIMEOUT]
