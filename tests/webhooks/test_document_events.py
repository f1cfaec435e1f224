"""Invoice and credit-note webhook events refresh the Discrepancies copy and the payment
state; every event's processing is paced by the organisation's shared quota."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from xero_python.accounting import Account, Invoice, Invoices, Payment, Payments

from sync import xero
from sync.connections import quota
from sync.models import (
    MirroredDocument,
    SyncSettings,
    WebhookEvent,
    XeroApiCall,
    XeroQuota,
)
from sync.syncing import discrepancies
from sync.webhooks import services as webhooks
from tests.syncing.test_sync import linked, sync, transaction_of
from tests.webhooks.test_webhooks import body_of, deliver, event
from transactions.models import TransactionType

pytestmark = pytest.mark.django_db

DISCREPANCIES = reverse("sync:discrepancies")
LATER = timedelta(minutes=1)  # an event newer than anything the local copy holds


@pytest.fixture(autouse=True)
def webhook_key(settings):
    settings.XERO_WEBHOOK_KEY = "omni-xero-test-webhook-key"


def synced(connection, sandbox, name, type=TransactionType.SALES_INVOICE, number="INV-9001"):
    """A transaction synced to the sandbox as an approved document, and the local copy of
    the organisation's documents refreshed."""
    SyncSettings.objects.update_or_create(
        connection=connection, defaults={"document_status": "AUTHORISED"}
    )
    txn = transaction_of(linked(connection, sandbox, name=name), type, number=number)
    sync(connection, [txn])
    txn.refresh_from_db()
    discrepancies.documents_refresh(connection=connection)
    return txn


def pay_in_xero(sdk, invoice_id, amount):
    """Pay an invoice in Xero, as the organisation's bookkeeper would."""
    payment = Payment(
        invoice=Invoice(invoice_id=str(invoice_id)),
        account=Account(code="090"),
        amount=float(amount),
        date=date(2026, 12, 2),
    )
    sdk.accounting.create_payments(sdk.tenant_id, Payments(payments=[payment]))


def process(client, connection, *events):
    deliver(client, body_of(*events))
    calls = XeroApiCall.objects.count()
    result = webhooks.webhook_events_process(connection_id=connection.pk)
    return result, XeroApiCall.objects.count() - calls


def outcomes() -> list[str]:
    return list(WebhookEvent.objects.order_by("pk").values_list("outcome", flat=True))


def test_a_payment_in_xero_shows_as_paid_on_discrepancies_after_its_event(
    client, connection, sandbox, sandbox_sdk, accountant_client
):
    txn = synced(connection, sandbox, "Tui Books")
    assert "Paid in Xero" not in accountant_client.get(DISCREPANCIES).content.decode()
    pay_in_xero(sandbox_sdk, txn.xero_id, txn.totals.total)
    now = datetime.now(UTC) + LATER

    _, calls = process(
        client, connection, event(connection.tenant_id, txn.xero_id, category="INVOICE", at=now)
    )

    assert calls == 1
    copy = MirroredDocument.objects.get(document_id=txn.xero_id)
    assert (copy.status, copy.amount_paid, copy.amount_due) == ("PAID", txn.totals.total, 0)
    assert outcomes() == ["Document refreshed"]
    assert "Paid in Xero" in accountant_client.get(DISCREPANCIES).content.decode()


def test_an_event_the_copy_is_already_as_new_as_costs_no_call(client, connection, sandbox):
    txn = synced(connection, sandbox, "Harbour Cafe")
    kept = MirroredDocument.objects.get(document_id=txn.xero_id).updated_in_xero
    _, calls = process(
        client, connection, event(connection.tenant_id, txn.xero_id, category="INVOICE", at=kept)
    )
    assert calls == 0
    assert outcomes() == ["Up to date: no call"]


def test_duplicates_and_events_arriving_newest_first_cost_one_call(
    client, connection, sandbox, sandbox_sdk
):
    txn = synced(connection, sandbox, "Kauri Timber")
    first = sandbox_sdk.accounting.get_invoice(sandbox_sdk.tenant_id, str(txn.xero_id))
    older = first.invoices[0].updated_date_utc  # when it was synced
    sandbox.advance_clock(30)
    pay_in_xero(sandbox_sdk, txn.xero_id, 1)
    paid = sandbox_sdk.accounting.get_invoice(sandbox_sdk.tenant_id, str(txn.xero_id))
    newest = paid.invoices[0].updated_date_utc  # when it was paid: what Xero's event says

    def about(at):
        return event(connection.tenant_id, txn.xero_id, category="INVOICE", at=at)

    _, calls = process(client, connection, about(newest), about(newest))  # and a duplicate
    assert calls == 1
    _, calls = process(client, connection, about(older))  # the older change, arriving late
    assert calls == 0
    _, calls = process(client, connection, about(newest))  # redelivered once more
    assert calls == 0
    assert outcomes() == ["Document refreshed", "Up to date: no call"]  # each stored once


def test_a_voided_credit_note_is_seen_voided_after_its_event(
    client, connection, sandbox, sandbox_sdk, accountant_client
):
    txn = synced(
        connection, sandbox, "Bayview", TransactionType.SALES_CREDIT_NOTE, number="CN-9001"
    )
    from xero_python.accounting import CreditNote, CreditNotes

    sandbox_sdk.accounting.update_credit_note(
        sandbox_sdk.tenant_id,
        str(txn.xero_id),
        CreditNotes(credit_notes=[CreditNote(status="VOIDED")]),
    )
    at = datetime.now(UTC) + LATER
    _, calls = process(
        client, connection, event(connection.tenant_id, txn.xero_id, category="CREDITNOTE", at=at)
    )
    assert calls == 1
    assert MirroredDocument.objects.get(document_id=txn.xero_id).status == "VOIDED"
    assert "Voided in Xero" in accountant_client.get(DISCREPANCIES).content.decode()


def test_a_failure_of_xero_leaves_the_document_events_for_the_next_try(
    client, connection, sandbox, waits
):
    txn = synced(connection, sandbox, "Napier Gifts")
    sandbox.fault(status=503, count=20, path="/api.xro/2.0/Invoices")
    at = datetime.now(UTC) + LATER
    deliver(client, body_of(event(connection.tenant_id, txn.xero_id, category="INVOICE", at=at)))
    with pytest.raises(xero.XeroUnavailable):
        webhooks.webhook_events_process(connection_id=connection.pk)
    assert WebhookEvent.objects.get().processed_at is None

    sandbox.clear_faults()
    webhooks.webhook_events_process(connection_id=connection.pk)  # the next try
    assert outcomes() == ["Document refreshed"]


def test_a_days_quota_used_up_leaves_the_events_waiting_without_a_call(
    client, connection, sandbox, django_capture_on_commit_callbacks
):
    txn = synced(connection, sandbox, "Gone Fishing")
    # Another process's latest call said nothing is left today.
    XeroQuota.objects.filter(connection=connection).update(day_left=0, day_seen_at=quota.clock())
    at = datetime.now(UTC) + LATER
    deliver(client, body_of(event(connection.tenant_id, txn.xero_id, category="INVOICE", at=at)))
    calls = XeroApiCall.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = webhooks.webhook_events_process(connection_id=connection.pk)
    assert "retry" in result and "day" in str(result["retry"])
    assert XeroApiCall.objects.count() == calls
    assert WebhookEvent.objects.get().processed_at is None
    assert len(queued) == 1  # tried again later


def _invoices_in_xero(sdk, contact_id: str, n: int) -> list[str]:
    """n approved invoices made in Xero itself (50 a call, as a bookkeeper's import would)."""
    from xero_python.accounting import Contact, LineItem

    ids = []
    for start in range(0, n, 50):
        batch = [
            Invoice(
                type="ACCREC",
                contact=Contact(contact_id=contact_id),
                status="AUTHORISED",
                line_items=[LineItem(description="W", quantity=1, unit_amount=10 + k)],
            )
            for k in range(start, min(n, start + 50))
        ]
        made = sdk.accounting.create_invoices(sdk.tenant_id, Invoices(invoices=batch)).invoices
        ids += [str(i.invoice_id) for i in made]
    return ids


@pytest.mark.parametrize("first", ["a recorded minute used up", "the sandbox's minute limit"])
def test_a_burst_of_1000_contact_and_500_invoice_events_is_paced_without_a_429(
    client, connection, sandbox, sandbox_sdk, later, first
):
    contact_ids = sandbox.generate_contacts(sandbox.demo_tenant_id, 1000)
    invoice_ids = _invoices_in_xero(sandbox_sdk, contact_ids[0], 500)
    at = datetime.now(UTC) + LATER
    events = [event(connection.tenant_id, c, at=at) for c in contact_ids] + [
        event(connection.tenant_id, i, category="INVOICE", at=at) for i in invoice_ids
    ]
    later(61)  # the calls above have left the minute
    # Room for the 20 contact calls in a minute: those fetched before a hand-back are
    # fetched again (these events are dated after the contacts' last change).
    sandbox.rate_limits(enabled=True, reset_counters=True, minute=20)
    if first == "a recorded minute used up":
        # Another process just used the organisation's minute, and the shared quota counts it.
        for _ in range(20):
            sandbox_sdk.accounting.get_organisations(sandbox_sdk.tenant_id)
        XeroQuota.objects.filter(connection=connection).update(calls=[quota.clock()] * 60)

    result, calls = process(client, connection, *events)
    rounds = 1
    while "retry" in result:
        # The minute used up: the events wait for it, and no worker waits with them.
        assert "minute" in str(result["retry"])
        later(61)
        before = XeroApiCall.objects.count()
        result = webhooks.webhook_events_process(connection_id=connection.pk)
        calls += XeroApiCall.objects.count() - before
        rounds += 1

    assert calls >= 20 + 10  # ⌈1000 / 50⌉ contacts, ⌈500 / 50⌉ invoices
    assert not XeroApiCall.objects.filter(status=429).exists()
    assert rounds > 1  # it waited for the minute instead of being refused
    assert not WebhookEvent.objects.filter(processed_at__isnull=True).exists()
    assert MirroredDocument.objects.filter(document_id__in=invoice_ids).count() == 500


def test_a_document_an_event_brought_in_does_not_make_the_next_refresh_skip_others(
    client, connection, sandbox, sandbox_sdk, accountant_client
):
    missed = synced(connection, sandbox, "Quiet Customer", number="INV-9101")
    told = transaction_of(linked(connection, sandbox, name="Loud Customer"), number="INV-9102")
    sync(connection, [told])
    told.refresh_from_db()
    discrepancies.documents_refresh(connection=connection)
    sandbox.advance_clock(10)
    pay_in_xero(sandbox_sdk, missed.xero_id, missed.totals.total)  # its event never came
    sandbox.advance_clock(10)
    pay_in_xero(sandbox_sdk, told.xero_id, told.totals.total)
    at = datetime.now(UTC) + LATER
    process(
        client, connection, event(connection.tenant_id, told.xero_id, category="INVOICE", at=at)
    )
    assert MirroredDocument.objects.get(document_id=missed.xero_id).status == "AUTHORISED"

    discrepancies.documents_refresh(connection=connection)  # Refresh from Xero, the safety net

    assert MirroredDocument.objects.get(document_id=missed.xero_id).status == "PAID"


def test_a_syncs_own_invoices_are_kept_so_their_create_events_cost_no_call(
    client, connection, sandbox
):
    SyncSettings.objects.update_or_create(
        connection=connection, defaults={"document_status": "AUTHORISED"}
    )
    txn = transaction_of(linked(connection, sandbox, name="Kept Ltd"), number="INV-9301")
    sync(connection, [txn])  # no refresh after it
    txn.refresh_from_db()
    kept = MirroredDocument.objects.get(connection=connection, document_id=txn.xero_id)
    assert (kept.number, kept.status, kept.amount_due) == ("INV-9301", "AUTHORISED", 34.5)

    created = event(
        connection.tenant_id,
        txn.xero_id,
        category="INVOICE",
        kind="CREATE",
        at=kept.updated_in_xero,
    )
    _, calls = process(client, connection, created)

    assert calls == 0
    assert outcomes() == ["Up to date: no call"]
