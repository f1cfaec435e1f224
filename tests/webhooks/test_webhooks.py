"""Xero's webhooks: the signed endpoint, and links judged again within a delivery's work."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from sync.links import mirror
from sync.models import (
    InvalidReason,
    LinkStatus,
    WebhookDelivery,
    WebhookEvent,
    XeroApiCall,
    XeroContact,
)
from sync.webhooks import services as webhooks
from tests.factories import XeroConnectionFactory
from tests.webhooks.sandbox_links import linked_in_sandbox

pytestmark = pytest.mark.django_db

KEY = "omni-xero-test-webhook-key"
URL = "/webhooks/xero"
# Xero's "intent to receive" body, and its signature with KEY, computed outside Python:
#   printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$KEY" -binary | base64
INTENT = b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0,"entropy": "S0m3r4Nd0mt3xt"}'
INTENT_SIGNATURE = "gwWXDk6AmpGjXtv434nQwmSpZKQn70QQJP6pxp1wR2A="


@pytest.fixture(autouse=True)
def webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = KEY


def signed(body: bytes, key: str = KEY) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def deliver(client, body: bytes, signature: str | None = None):
    return client.post(
        URL,
        body,
        content_type="application/json",
        headers={"x-xero-signature": signed(body) if signature is None else signature},
    )


def event(tenant, resource, *, category="CONTACT", kind="UPDATE", at=None):
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Contacts/{resource}",
        "resourceId": str(resource),
        "eventDateUtc": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "eventType": kind,
        "eventCategory": category,
        "tenantId": str(tenant),
        "tenantType": "ORGANISATION",
    }


def body_of(*events) -> bytes:
    payload = {"events": list(events), "firstEventSequence": 1, "lastEventSequence": 1}
    return json.dumps(payload, indent=1).encode()


# --- The endpoint ------------------------------------------------------------------------------


def test_intent_to_receive_signed_right_gets_200_and_an_empty_body(client):
    response = deliver(client, INTENT, INTENT_SIGNATURE)
    assert response.status_code == 200 and response.content == b""
    assert WebhookDelivery.objects.get().signed


def test_intent_to_receive_signed_wrong_gets_401(client):
    assert deliver(client, INTENT, signed(INTENT, key="another key")).status_code == 401
    assert deliver(client, INTENT, "").status_code == 401
    assert deliver(client, INTENT, "not base64 at all ☃").status_code == 401
    assert deliver(client, b"", signed(b"", key="another key")).status_code == 401
    assert not WebhookDelivery.objects.filter(signed=True).exists()


def test_the_raw_bytes_are_verified_not_the_json_read_back(client):
    # The same JSON serialised again (no spaces) is other bytes: its signature is not this.
    again = json.dumps(json.loads(INTENT), separators=(",", ":")).encode()
    assert deliver(client, again, INTENT_SIGNATURE).status_code == 401
    assert deliver(client, INTENT, INTENT_SIGNATURE).status_code == 200


def test_a_signature_computed_here_independently_is_the_one_accepted(client, settings):
    # A fixed key and body, signed here with hashlib, hmac and base64 (and by openssl:
    #   printf '%s' "$BODY" | openssl dgst -sha256 -hmac vector-key-2026 -binary | base64
    # gives the same literal), not with omni-xero's own code.
    key = "vector-key-2026"
    body = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"K3yV3ct0r"}'
    computed = base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest())
    assert computed == b"OWPz6oCIj8TMOwCyfQI51h3+aOkcexB6yQC1u+jFP40="
    settings.XERO_WEBHOOK_KEY = key
    assert deliver(client, body, computed.decode()).status_code == 200
    assert deliver(client, body, signed(body, key="vector-key-2025")).status_code == 401


def test_an_empty_body_is_answered_by_its_signature_alone(client):
    assert deliver(client, b"", signed(b"")).status_code == 200
    assert deliver(client, b"", "").status_code == 401
    assert not WebhookEvent.objects.exists()
    signed_list = WebhookDelivery.objects.order_by("pk").values_list("signed", flat=True)
    assert list(signed_list) == [True, False]


def test_without_a_webhook_key_every_delivery_is_refused(client, settings):
    settings.XERO_WEBHOOK_KEY = ""
    assert deliver(client, INTENT, signed(INTENT, key="")).status_code == 401


def test_the_endpoint_needs_no_csrf_token_no_login_and_never_redirects(settings):
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        URL,
        INTENT,
        content_type="application/json",
        headers={"x-xero-signature": INTENT_SIGNATURE},
        secure=False,
    )
    assert response.status_code == 200
    assert reverse("xero_webhook") == URL  # no slash to append
    assert strict.get(URL).status_code == 405


def test_events_of_an_unknown_organisation_are_accepted_and_ignored(client):
    response = deliver(client, body_of(event(uuid.uuid4(), uuid.uuid4())))
    assert response.status_code == 200
    assert not WebhookEvent.objects.exists()


def test_a_redelivered_event_is_stored_once(client, django_capture_on_commit_callbacks):
    connection = XeroConnectionFactory()
    body = body_of(event(connection.tenant_id, uuid.uuid4(), at=datetime(2026, 12, 1, tzinfo=UTC)))
    with django_capture_on_commit_callbacks() as queued:
        assert deliver(client, body).status_code == 200
        assert deliver(client, body).status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert len(queued) == 2  # each delivery queues the processing; the second finds nothing


def test_an_unreadable_event_is_left_out_and_the_others_kept(client):
    connection = XeroConnectionFactory()
    good = event(connection.tenant_id, uuid.uuid4())
    bad = {**event(connection.tenant_id, uuid.uuid4()), "resourceId": "not a uuid"}
    response = deliver(client, body_of(bad, good, "just a string"))
    assert response.status_code == 200
    assert list(WebhookEvent.objects.values_list("resource_id", flat=True)) == [
        uuid.UUID(good["resourceId"])
    ]
    assert WebhookDelivery.objects.get().events == 3


# --- Processing, against the sandbox -----------------------------------------------------------


def process(client, connection, *events):
    deliver(client, body_of(*events))
    calls = XeroApiCall.objects.count()
    result = webhooks.webhook_events_process(connection_id=connection.pk)
    return result, XeroApiCall.objects.count() - calls


def test_an_archive_in_xero_makes_the_link_invalid_with_one_call(client, connection, sandbox):
    xero_id, link = linked_in_sandbox(sandbox, connection, "Tui Books Ltd")
    sandbox.archive(xero_id)
    _, calls = process(client, connection, event(connection.tenant_id, xero_id))
    link.refresh_from_db()
    assert (link.status, link.invalid_reason) == (LinkStatus.INVALID, InvalidReason.ARCHIVED)
    assert calls == 1
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()


def test_a_merge_names_its_survivor(client, connection, sandbox):
    old, link = linked_in_sandbox(sandbox, connection, "Bayview Cafe")
    (survivor,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Bayview Cafe Ltd"}])
    sandbox.merge(old, into=survivor)
    process(client, connection, event(connection.tenant_id, old))
    link.refresh_from_db()
    assert link.invalid_reason == InvalidReason.MERGED
    assert str(link.merged_into_xero_contact_id) == survivor


def test_redelivered_and_older_events_cost_no_call(client, connection, sandbox):
    xero_id, _ = linked_in_sandbox(sandbox, connection, "Harbour Cafe")
    sandbox.archive(xero_id)
    process(client, connection, event(connection.tenant_id, xero_id))
    changed = XeroContact.objects.get(contact_id=xero_id).updated_in_xero
    older = event(connection.tenant_id, xero_id, at=changed - timedelta(minutes=5))
    _, calls = process(client, connection, older)
    assert calls == 0
    _, calls = process(client, connection, event(connection.tenant_id, xero_id, at=changed))
    assert calls == 0


def test_a_burst_of_1000_events_is_fetched_in_a_few_calls(client, connection, sandbox):
    names = [{"Name": f"Burst {n:03}"} for n in range(120)]
    ids = sandbox.seed_contacts(sandbox.demo_tenant_id, names)
    at = datetime.now(UTC) + timedelta(minutes=1)  # newer than the mirror has them
    events = [
        event(connection.tenant_id, ids[n % len(ids)], at=at + timedelta(seconds=n))
        for n in range(1000)
    ]
    result, calls = process(client, connection, *events)
    assert result["fetched"] == 120
    assert calls == 3  # 120 contacts, 50 IDs a call
    assert XeroContact.objects.filter(contact_id__in=ids).count() == 120


def test_events_wait_while_a_refresh_holds_the_mirror(client, connection, sandbox, monkeypatch):
    xero_id, _ = linked_in_sandbox(sandbox, connection, "Kauri Timber")
    sandbox.archive(xero_id)

    def busy(**kwargs):
        raise mirror.RefreshRunning("busy")

    monkeypatch.setattr(mirror, "xero_contacts_refresh_some", busy)
    result, _ = process(client, connection, event(connection.tenant_id, xero_id))
    assert "retry" in result
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 1


def test_events_a_killed_worker_left_are_queued_again_by_the_sweep(
    client, django_capture_on_commit_callbacks
):
    connection = XeroConnectionFactory()
    deliver(client, body_of(event(connection.tenant_id, uuid.uuid4())))
    with django_capture_on_commit_callbacks() as queued:
        assert webhooks.webhook_events_resume() == 0  # just arrived: its task is on its way
    WebhookEvent.objects.update(received_at=datetime.now(UTC) - timedelta(minutes=3))
    with django_capture_on_commit_callbacks() as queued:
        assert webhooks.webhook_events_resume() == 1
    assert len(queued) == 1


def test_a_flood_of_wrongly_signed_deliveries_is_refused_without_filling_the_database(client):
    for _ in range(webhooks.REFUSED_KEPT_PER_MINUTE + 40):
        assert deliver(client, INTENT, signature="not-it").status_code == 401
    assert WebhookDelivery.objects.filter(signed=False).count() == webhooks.REFUSED_KEPT_PER_MINUTE
    # A correctly signed one is still kept and answered as ever.
    assert deliver(client, INTENT, signature=INTENT_SIGNATURE).status_code == 200
    assert WebhookDelivery.objects.filter(signed=True).count() == 1


def test_deliveries_and_processed_events_older_than_30_days_are_pruned_but_waiting_ones_kept():
    connection = XeroConnectionFactory()
    old = datetime.now(UTC) - timedelta(days=31)

    def stored(*, processed: bool) -> WebhookEvent:
        row = WebhookEvent.objects.create(
            connection=connection,
            category="CONTACT",
            event_type="UPDATE",
            resource_id=uuid.uuid4(),
            event_date=old,
            processed_at=old if processed else None,
        )
        return row

    done, waiting, recent = stored(processed=True), stored(processed=False), stored(processed=True)
    WebhookDelivery.objects.create(events=2, signed=True)
    WebhookEvent.objects.filter(pk__in=[done.pk, waiting.pk]).update(received_at=old)
    WebhookDelivery.objects.update(received_at=old)
    WebhookDelivery.objects.create(events=1, signed=True)  # today's

    assert webhooks.webhook_history_prune() == 2
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk}
    assert WebhookDelivery.objects.count() == 1
