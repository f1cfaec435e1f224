"""The sandbox's webhooks delivered to omni-xero's own endpoint over HTTP, end to end."""

import uuid

import pytest
from django.urls import reverse

from sync.models import InvalidReason, SyncSettings, WebhookDelivery, WebhookEvent
from sync.syncing import discrepancies
from sync.webhooks import services as webhooks
from tests.plugins.xero import connect_with
from tests.syncing.test_sync import linked, sync, transaction_of
from tests.webhooks.sandbox_links import linked_in_sandbox
from tests.webhooks.test_document_events import pay_in_xero

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "omni-xero-live-webhook-key"


def test_xero_enables_the_endpoint_and_an_archive_invalidates_the_link(
    client, accountant, sandbox, xero_settings, live_server
):
    xero_settings.XERO_WEBHOOK_KEY = KEY
    connection = connect_with(client, accountant, sandbox)
    xero_id, link = linked_in_sandbox(sandbox, connection, "Tui Books Ltd", omni_name="Tui Books")
    hook = sandbox.webhook(
        url=f"{live_server.url}/webhooks/xero", key=KEY, intent=True, round_seconds=3600
    )
    assert hook["status"] == "enabled", hook  # omni-xero passed Xero's intent to receive
    assert list(WebhookDelivery.objects.values_list("signed", flat=True)) == [True, False]

    sandbox.archive(xero_id)
    (state,) = sandbox.flush_webhooks()
    assert state["delivered"] == 1 and state["last_status"] == 200
    assert WebhookEvent.objects.get().resource_id.hex == xero_id.replace("-", "")

    webhooks.webhook_events_process(connection_id=connection.pk)  # what the worker runs
    link.refresh_from_db()
    assert link.invalid_reason == InvalidReason.ARCHIVED


def test_a_delivery_refused_is_retried_by_xero_and_then_stored_once(
    client, accountant, sandbox, xero_settings, live_server
):
    xero_settings.XERO_WEBHOOK_KEY = "a key from before the app's key was rotated"
    connection = connect_with(client, accountant, sandbox)
    sandbox.webhook(url=f"{live_server.url}/webhooks/xero", key=KEY, round_seconds=3600)
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Napier Gifts"}])
    (state,) = sandbox.flush_webhooks()
    assert state["last_status"] == 401 and state["pending"] == 1  # kept for a retry
    assert not WebhookEvent.objects.exists()

    xero_settings.XERO_WEBHOOK_KEY = KEY  # the right key is configured
    (state,) = sandbox.flush_webhooks()  # Xero's next retry
    assert state["delivered"] == 1 and state["failures"] == 1 and state["pending"] == 0
    assert list(WebhookEvent.objects.values_list("resource_id", flat=True)) == [uuid.UUID(xero_id)]
    assert WebhookEvent.objects.get().connection == connection


def test_an_invoice_paid_in_xero_shows_paid_on_discrepancies_through_the_webhook(
    client, accountant, sandbox, sandbox_sdk, xero_settings, live_server
):
    xero_settings.XERO_WEBHOOK_KEY = KEY
    connection = connect_with(client, accountant, sandbox)
    SyncSettings.objects.update_or_create(
        connection=connection, defaults={"document_status": "AUTHORISED"}
    )
    txn = transaction_of(linked(connection, sandbox, name="Tui Books"), number="INV-8801")
    sync(connection, [txn])
    txn.refresh_from_db()
    discrepancies.documents_refresh(connection=connection)
    sandbox.webhook(url=f"{live_server.url}/webhooks/xero", key=KEY, round_seconds=3600)
    page = reverse("sync:discrepancies")
    assert "Paid in Xero" not in client.get(page).content.decode()

    pay_in_xero(sandbox_sdk, txn.xero_id, txn.totals.total)  # in Xero
    (state,) = sandbox.flush_webhooks()  # Xero delivers the INVOICE UPDATE
    assert state["last_status"] == 200
    assert WebhookEvent.objects.filter(category="INVOICE", resource_id=txn.xero_id).exists()
    webhooks.webhook_events_process(connection_id=connection.pk)  # what the worker runs

    html = client.get(page).content.decode()
    assert "Paid in Xero" in html and "INV-8801" in html
