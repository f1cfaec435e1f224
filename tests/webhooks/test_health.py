"""Polling as the safety net: the webhook mode of an organisation, the refreshes it queues,
and Check links fetching what changed before it judges."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync import jobs
from sync.links import mirror
from sync.models import (
    InvalidReason,
    LinkStatus,
    WebhookDelivery,
    WebhookEvent,
    XeroApiCall,
    XeroConnection,
    XeroContact,
)
from sync.webhooks import health
from sync.webhooks.health import Mode, Reason, safety_net_refreshes_enqueue, webhook_health
from tests.factories import (
    WebhookDeliveryFactory,
    WebhookEventFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)
from tests.webhooks.sandbox_links import linked_in_sandbox
from tests.webhooks.test_webhooks import body_of, deliver, event

pytestmark = pytest.mark.django_db

KEY = "omni-xero-test-webhook-key"
SALES_ACTION = reverse("sync:contacts_action", kwargs={"tab": "sales"})
CUSTOMERS = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})


@pytest.fixture(autouse=True)
def webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = KEY
    settings.XERO_MIRROR_REFRESH_MINUTES = 5
    settings.XERO_MIRROR_REFRESH_MINUTES_WITH_WEBHOOKS = 60


def delivered(at):
    """A signed delivery that arrived at `at`."""
    delivery = WebhookDeliveryFactory()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=at)


def refreshed(connection, at):
    XeroConnection.objects.filter(pk=connection.pk).update(
        contacts_refreshed_at=at, contacts_refresh_queued_at=None
    )
    connection.refresh_from_db()


# --- The mode ----------------------------------------------------------------------------------


def test_healthy_webhooks_are_live_and_refresh_hourly():
    now = timezone.now()
    connection = XeroConnectionFactory()
    refreshed(connection, now - timedelta(minutes=10))
    delivered(now - timedelta(hours=3))
    found = webhook_health(connection, now=now)
    assert (found.mode, found.reason) == (Mode.LIVE, Reason.HEALTHY)
    assert found.refresh_due_at == now + timedelta(minutes=50)


def test_without_a_webhook_key_it_polls(settings):
    settings.XERO_WEBHOOK_KEY = ""
    now = timezone.now()
    delivered(now)
    found = webhook_health(XeroConnectionFactory(), now=now)
    assert (found.mode, found.reason) == (Mode.POLLING, Reason.NO_KEY)


def test_when_deliveries_stop_it_falls_back_to_polling_every_5_minutes():
    now = timezone.now()
    connection = XeroConnectionFactory()
    delivered(now - timedelta(hours=1))
    refreshed(connection, now)
    assert webhook_health(connection, now=now).live
    later = now + health.DELIVERY_WINDOW  # a day on, and no delivery since
    found = webhook_health(connection, now=later)
    assert (found.mode, found.reason) == (Mode.POLLING, Reason.NO_DELIVERY)
    assert found.last_delivery is not None
    refreshed(connection, later)
    assert webhook_health(connection, now=later).refresh_due_at == later + timedelta(minutes=5)


def test_an_intent_to_receive_counts_as_a_delivery_but_a_test_sample_does_not():
    now = timezone.now()
    WebhookDeliveryFactory(events=0)  # Xero's intent to receive: no events
    assert webhook_health(XeroConnectionFactory(), now=now).live
    WebhookDelivery.objects.update(sample=True)  # the Admin tab's Test sent it
    assert webhook_health(XeroConnectionFactory(), now=now).reason == Reason.NO_DELIVERY


def test_events_left_unprocessed_make_it_poll():
    now = timezone.now()
    connection = XeroConnectionFactory()
    delivered(now)
    waiting = WebhookEventFactory(connection=connection)
    assert webhook_health(connection, now=now).live  # just arrived: being processed
    WebhookEvent.objects.filter(pk=waiting.pk).update(received_at=now - timedelta(minutes=3))
    found = webhook_health(connection, now=now)
    assert (found.mode, found.reason, found.stalled) == (Mode.POLLING, Reason.STALLED, 1)


# --- Changes Xero never announced --------------------------------------------------------------


def test_a_change_no_event_announced_counts_as_missed():
    now = timezone.now()
    connection = XeroConnectionFactory()
    since = now - timedelta(hours=1)
    announced = XeroContactFactory(
        connection=connection, updated_in_xero=now - timedelta(minutes=30)
    )
    WebhookEventFactory(
        connection=connection,
        resource_id=announced.contact_id,
        event_date=announced.updated_in_xero,
    )
    XeroContactFactory(connection=connection, updated_in_xero=now - timedelta(minutes=20))  # missed
    XeroContactFactory(
        connection=connection, updated_in_xero=now - timedelta(seconds=30)
    )  # too new
    XeroContactFactory(connection=connection, updated_in_xero=since)  # the last refresh's
    assert health.changes_missed(connection=connection, since=since, started=now) == 1


def test_a_missed_change_found_by_the_refresh_flips_to_polling(connection, sandbox, monkeypatch):
    WebhookDeliveryFactory()
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Tui Books Ltd"}])
    mirror.xero_contacts_refresh(connection=connection)
    connection.refresh_from_db()
    assert webhook_health(connection).live
    sandbox.archive(xero_id)  # in Xero, and no webhook tells omni-xero
    monkeypatch.setattr(health, "MISSED_GRACE", timedelta(0))  # the change is old enough
    health.safety_net_refresh_run(connection_id=connection.pk)
    connection.refresh_from_db()
    found = webhook_health(connection)
    assert (found.mode, found.reason, found.missed) == (Mode.POLLING, Reason.MISSED, 1)
    # The next refresh finds nothing unannounced: live again.
    health.safety_net_refresh_run(connection_id=connection.pk)
    connection.refresh_from_db()
    assert webhook_health(connection).live


# --- The scheduler -----------------------------------------------------------------------------


def simulate(connection, *, start, minutes, deliveries_every=None):
    """Run the scheduler's round every minute for `minutes`; each refresh it queues runs at
    once (as a worker would, in no time). Returns when each refresh was queued."""
    queued_at = []
    for minute in range(minutes):
        now = start + timedelta(minutes=minute)
        if deliveries_every and minute % deliveries_every == 0:
            delivered(now)
        if safety_net_refreshes_enqueue(now=now):
            queued_at.append(now)
            refreshed(connection, now)
    return queued_at


def test_while_live_a_refresh_is_not_queued_again_for_60_minutes(
    django_capture_on_commit_callbacks,
):
    start = timezone.now()
    connection = XeroConnectionFactory()
    delivered(start)
    with django_capture_on_commit_callbacks():
        queued = simulate(connection, start=start, minutes=125)
    assert [q - start for q in queued] == [timedelta(minutes=m) for m in (0, 60, 120)]


def test_while_polling_a_refresh_is_queued_every_5_minutes(
    settings, django_capture_on_commit_callbacks
):
    settings.XERO_WEBHOOK_KEY = ""
    start = timezone.now()
    connection = XeroConnectionFactory()
    with django_capture_on_commit_callbacks():
        queued = simulate(connection, start=start, minutes=16)
    assert [q - start for q in queued] == [timedelta(minutes=m) for m in (0, 5, 10, 15)]


def test_the_safety_net_costs_under_5_percent_of_a_starter_plans_day_while_live(
    django_capture_on_commit_callbacks,
):
    start = timezone.now()
    connection = XeroConnectionFactory()
    with django_capture_on_commit_callbacks():
        queued = simulate(connection, start=start, minutes=24 * 60, deliveries_every=60)
    # An incremental refresh of a quiet organisation is one call to Xero.
    assert len(queued) == 24
    assert len(queued) <= 0.05 * 1000


def test_a_queued_or_running_refresh_is_not_queued_twice(django_capture_on_commit_callbacks):
    connection = XeroConnectionFactory()
    with django_capture_on_commit_callbacks():
        assert safety_net_refreshes_enqueue() == 1
        assert safety_net_refreshes_enqueue() == 0
    XeroConnection.objects.update(contacts_refresh_queued_at=None)
    lease = jobs.Lease.claim(
        XeroConnection, connection.pk, field="contacts_refresh_lease_until", length=timedelta(1)
    )
    assert lease is not None
    assert safety_net_refreshes_enqueue() == 0


# --- Check links -------------------------------------------------------------------------------


def check_links(client):
    response = client.post(SALES_ACTION, {"action": "check_links", "next": CUSTOMERS}, follow=True)
    return [str(m) for m in response.context["messages"]]


def test_check_links_right_after_an_archive_in_xero_says_it_went_bad(
    connection, sandbox, accountant_client
):
    _, link = linked_in_sandbox(sandbox, connection, "Tui Books Ltd")
    sandbox.archive(str(link.xero_contact_id))
    (said,) = check_links(accountant_client)
    assert "1 went bad in Xero" in said and "none changed" not in said
    assert "(1 call to Xero)" in said
    link.refresh_from_db()
    assert (link.status, link.invalid_reason) == (LinkStatus.INVALID, InvalidReason.ARCHIVED)


def test_check_links_with_nothing_changed_says_none_changed(connection, sandbox, accountant_client):
    linked_in_sandbox(sandbox, connection, "Tui Books Ltd")
    (said,) = check_links(accountant_client)
    assert "Checked 1 link against what changed in Xero" in said and "none changed" in said


def test_check_links_takes_up_the_waiting_webhook_events(
    connection, sandbox, client, accountant_client
):
    xero_id, _ = linked_in_sandbox(sandbox, connection, "Tui Books Ltd")
    sandbox.archive(xero_id)
    deliver(client, body_of(event(connection.tenant_id, xero_id)))
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 1
    (said,) = check_links(accountant_client)
    assert "1 went bad in Xero" in said
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()


def test_check_links_while_a_refresh_runs_says_so(connection, sandbox, accountant_client):
    linked_in_sandbox(sandbox, connection, "Tui Books Ltd")
    lease = jobs.Lease.claim(
        XeroConnection, connection.pk, field="contacts_refresh_lease_until", length=timedelta(1)
    )
    assert lease is not None
    (said,) = check_links(accountant_client)
    assert "Xero's contacts are being refreshed right now" in said
    assert "checked again when that refresh ends" in said


def test_check_links_when_xero_fails_says_what_it_checked_against(
    connection, sandbox, accountant_client, settings
):
    settings.XERO_MAX_RETRIES = 0
    linked_in_sandbox(sandbox, connection, "Tui Books Ltd")
    sandbox.fault(status=503, count=1, path="/api.xro/2.0/Contacts")
    (said,) = check_links(accountant_client)
    assert said.startswith("What changed in Xero could not be fetched")
    assert "against omni-xero's copy as last refreshed: none changed." in said


# --- The dashboard says which mode it is in ----------------------------------------------------


def test_the_dashboard_says_webhooks_report_changes_while_live(accountant_client):
    XeroConnectionFactory()
    delivered(timezone.now())
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert (
        "Xero reports changes as they happen (webhooks); a full check runs every 60 minutes."
        in page
    )


def test_the_dashboard_says_it_polls_and_since_when_no_delivery_came(accountant_client):
    XeroConnectionFactory()
    delivered(timezone.now() - timedelta(days=2))
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert "Checking Xero for changes every 5 minutes: no webhook delivery since" in page


def test_a_missed_change_is_named_on_the_dashboard(accountant_client):
    XeroConnectionFactory(webhook_missed=2)
    delivered(timezone.now())
    page = accountant_client.get(CUSTOMERS).content.decode()
    assert "the last check found 2 changes in Xero that no webhook reported." in page
    assert XeroContact.objects.count() == 0


def test_check_links_before_the_first_refresh_queues_it_and_fetches_nothing(
    accountant_client, django_capture_on_commit_callbacks
):
    XeroConnectionFactory()
    with django_capture_on_commit_callbacks() as queued:
        (said,) = check_links(accountant_client)
    assert said.startswith("Xero's contacts have not been fetched yet")
    assert len(queued) == 1  # the first refresh, for the worker
    assert not XeroApiCall.objects.exists()
