"""The automatic sync's choices: the types it takes, the time of day it starts, where its
failure alert goes, and its history in the sync log."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from sync.models import SyncRun, SyncSettings
from sync.syncing import runs
from tests.factories import (
    ContactFactory,
    PaymentFactory,
    SyncRunFactory,
    UserFactory,
    XeroConnectionFactory,
)
from tests.syncing.test_admin_tab import SAVE, settings_data
from tests.syncing.test_sync import linked, transaction_of
from transactions.models import PaymentState, TransactionType

pytestmark = pytest.mark.django_db


@pytest.fixture
def shown():
    """The organisation the Admin tab shows (connected last; no call to Xero here)."""
    return XeroConnectionFactory(connected_at=timezone.now() + timedelta(days=1))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time of December 2026 in the organisation's time zone (TIME_ZONE)."""
    return timezone.make_aware(datetime(2026, 12, day, hour, minute))


def test_an_automatic_sync_takes_only_the_types_ticked(connection, sandbox):
    contact = linked(connection, sandbox)
    invoice = transaction_of(contact)
    bill = transaction_of(contact, type=TransactionType.SUPPLIER_INVOICE)
    SyncSettings.objects.create(
        connection=connection, autosync="hourly", autosync_types=["sales_invoice"]
    )
    assert runs.autosyncs_start() == 1
    run = SyncRun.objects.get()
    assert list(run.items.values_list("transaction_id", flat=True)) == [invoice.pk]
    assert bill.pk not in run.items.values_list("transaction_id", flat=True)


def test_with_no_type_ticked_an_automatic_sync_takes_every_type(connection, sandbox):
    contact = linked(connection, sandbox)
    both = {transaction_of(contact).pk, transaction_of(contact, type="supplier_invoice").pk}
    SyncSettings.objects.create(connection=connection, autosync="hourly")
    assert runs.autosyncs_start() == 1
    assert set(SyncRun.objects.get().items.values_list("transaction_id", flat=True)) == both


def test_an_automatic_sync_with_payments_ticked_uploads_the_ready_ones(connection, sandbox):
    SyncSettings.objects.create(
        connection=connection,
        autosync="hourly",
        autosync_types=["sales_invoice", "payments"],
        document_status="AUTHORISED",
        payment_account_code="090",
    )
    invoice = transaction_of(linked(connection, sandbox))
    waits = PaymentFactory(transaction=invoice, amount=Decimal("10.00"))
    assert runs.autosyncs_start() == 1  # the invoice; its payment waits for it
    runs.sync_run(run=SyncRun.objects.get())
    waits.refresh_from_db()
    assert waits.sync_state == PaymentState.READY

    SyncSettings.objects.filter(connection=connection).update(autosync_last_at=None)
    assert runs.autosyncs_start() == 1
    run = SyncRun.objects.latest("pk")
    assert run.trigger == SyncRun.Trigger.SCHEDULE
    assert list(run.payment_items.values_list("payment_id", flat=True)) == [waits.pk]


def test_an_automatic_sync_leaves_payments_alone_unless_ticked(connection, sandbox):
    SyncSettings.objects.create(
        connection=connection, autosync="hourly", autosync_types=["sales_invoice"]
    )
    invoice = transaction_of(linked(connection, sandbox))
    PaymentFactory(transaction=invoice, amount=Decimal("10.00"), sync_state=PaymentState.READY)
    assert runs.autosyncs_start() == 1
    assert not SyncRun.objects.get().payment_items.exists()


def test_a_daily_sync_starts_at_its_time_of_day_once_a_day():
    settings = SyncSettings(autosync="daily", autosync_at=time(7, 0))
    assert not settings.autosync_due(local(4, 6, 59))  # never run, but not 7 yet
    assert settings.autosync_due(local(4, 7, 0))
    settings.autosync_last_at = local(4, 7, 1)
    assert not settings.autosync_due(local(4, 23, 0))  # once that day
    assert not settings.autosync_due(local(5, 6, 59))
    assert settings.autosync_due(local(5, 7, 0))


def test_a_weekly_sync_starts_at_its_time_of_day_a_week_on():
    settings = SyncSettings(autosync="weekly", autosync_at=time(18, 30))
    settings.autosync_last_at = local(1, 18, 31)
    assert not settings.autosync_due(local(7, 19, 0))  # six days on
    assert not settings.autosync_due(local(8, 18, 29))
    assert settings.autosync_due(local(8, 18, 30))


def test_without_a_start_time_a_sync_is_due_an_interval_after_the_last():
    settings = SyncSettings(autosync="daily", autosync_last_at=local(4, 3, 15))
    assert not settings.autosync_due(local(5, 3, 14))
    assert settings.autosync_due(local(5, 3, 15))


def test_a_failed_automatic_sync_alerts_the_address_chosen_and_not_the_admins(connection, sandbox):
    UserFactory(username="root", is_superuser=True, email="root@example.nz")
    transaction_of(ContactFactory(name="Weka Wines"))  # not linked: refused
    SyncSettings.objects.create(
        connection=connection, autosync="hourly", autosync_alert_email="books@weka.nz"
    )
    assert runs.autosyncs_start() == 1
    runs.sync_run(run=SyncRun.objects.get())
    (email,) = mail.outbox
    assert email.to == ["books@weka.nz"]
    assert email.subject == "Xero sync: 1 not sent"


def test_an_admin_chooses_the_types_the_time_and_the_alert_address(admin_client, shown):
    data = settings_data(
        autosync="daily",
        autosync_types=["sales_invoice", "supplier_credit_note"],
        autosync_at="07:30",
        autosync_alert_email="books@weka.nz",
    )
    response = admin_client.post(SAVE, data, follow=True)
    assert "Saved the sync settings" in response.content.decode()
    saved = SyncSettings.for_connection(shown)
    assert saved.autosync_types == ["sales_invoice", "supplier_credit_note"]
    assert (saved.autosync_at, saved.autosync_alert_email) == (time(7, 30), "books@weka.nz")

    page = admin_client.get(reverse("sync:admin_tab")).content.decode()
    assert 'value="supplier_credit_note" id="id_autosync_types_4" checked' in page
    assert 'value="07:30"' in page
    history = reverse("sync:sync_log") + "?trigger=schedule"
    assert f'href="{history}"' in page


def test_an_alert_address_that_is_no_email_address_is_refused(admin_client, shown):
    data = settings_data(autosync="daily", autosync_alert_email="books at weka")
    response = admin_client.post(SAVE, data)
    assert "Enter a valid email address." in response.content.decode()
    assert SyncSettings.for_connection(shown).autosync == "off"


def test_the_history_lists_each_automatic_run_as_the_sync_log_does(admin_client, shown):
    automatic = SyncRunFactory(connection=shown, trigger=SyncRun.Trigger.SCHEDULE)
    by_hand = SyncRunFactory(connection=shown, trigger=SyncRun.Trigger.DASHBOARD)
    page = admin_client.get(reverse("sync:sync_log") + "?trigger=schedule").content.decode()
    assert reverse("sync:sync_run", args=[automatic.pk]) in page
    assert reverse("sync:sync_run", args=[by_hand.pk]) not in page
