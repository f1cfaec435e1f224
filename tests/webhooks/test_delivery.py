"""The sandbox's webhooks delivered to omni-xero's own endpoint over HTTP, end to end."""

import pytest

from sync.links import mirror
from sync.links.services import contact_link
from sync.models import InvalidReason, LinkMethod, WebhookDelivery, WebhookEvent
from sync.webhooks import services as webhooks
from tests.factories import ContactFactory
from tests.plugins.xero import connect_with

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "omni-xero-live-webhook-key"


def test_xero_enables_the_endpoint_and_an_archive_invalidates_the_link(
    client, accountant, sandbox, xero_settings, live_server
):
    xero_settings.XERO_WEBHOOK_KEY = KEY
    connection = connect_with(client, accountant, sandbox)
    (xero_id,) = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Tui Books Ltd"}])
    mirror.xero_contacts_refresh(connection=connection)
    link = contact_link(
        contact=ContactFactory(name="Tui Books"),
        connection=connection,
        xero_contact_id=xero_id,
        xero_name="Tui Books Ltd",
        method=LinkMethod.EXISTING,
        user=None,
    )
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
