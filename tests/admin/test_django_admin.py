"""Django admin: every page opens, and link edits go through the audited services."""

import uuid

import pytest
from django.contrib import admin
from django.urls import reverse

from sync.models import ContactLink, LinkEvent, XeroConnection
from sync.tasks import refresh_xero_contacts
from tests.factories import (
    AccessAttemptFactory,
    AccessFailureLogFactory,
    AccessLogFactory,
    AccountMappingFactory,
    BranchOrganisationFactory,
    BranchTrackingFactory,
    ChartAccountFactory,
    ConnectionEventFactory,
    ContactFactory,
    ContactLinkFactory,
    CurrencyFactory,
    DismissedSuggestionFactory,
    ImportedContactFactory,
    LineItemFactory,
    LinkEventFactory,
    MirroredDocumentFactory,
    PaymentFactory,
    SyncItemFactory,
    SyncSettingsFactory,
    TaxRateFactory,
    TrackingOptionFactory,
    TransactionEventFactory,
    TransactionOrganisationFactory,
    UnmirroredContactFactory,
    UploadRowFactory,
    WebhookDeliveryFactory,
    WebhookEventFactory,
    XeroApiCallFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_of_everything():
    LineItemFactory()
    PaymentFactory()
    ContactLinkFactory()
    LinkEventFactory()
    ConnectionEventFactory()
    XeroContactFactory()
    UnmirroredContactFactory()
    XeroApiCallFactory()
    UploadRowFactory(message="Xero refused it.")
    SyncItemFactory(message="Xero refused it: Invoice # must be unique.")
    SyncSettingsFactory()
    AccountMappingFactory(account_code="200")
    ChartAccountFactory()
    TaxRateFactory()
    MirroredDocumentFactory()
    ImportedContactFactory()
    DismissedSuggestionFactory()
    BranchOrganisationFactory()
    BranchTrackingFactory()
    CurrencyFactory()
    TrackingOptionFactory()
    TransactionOrganisationFactory()
    TransactionEventFactory()
    WebhookDeliveryFactory()
    WebhookEventFactory()
    refresh_xero_contacts.enqueue(XeroConnection.objects.first().pk)  # a task result
    AccessAttemptFactory()
    AccessLogFactory()
    AccessFailureLogFactory()


def admin_urls():
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        yield model, model_admin, info


def test_every_admin_page_opens(admin_client, admin_user, rf, one_of_everything):
    request = rf.get("/")
    request.user = admin_user
    assert admin_client.get(reverse("admin:index")).status_code == 200
    for model, model_admin, info in admin_urls():
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        assert admin_client.get(changelist).status_code == 200, changelist
        assert admin_client.get(changelist, {"q": "a"}).status_code == 200, changelist
        obj = model._default_manager.first()
        if model._meta.app_label not in ("auth",):
            assert obj is not None, f"one_of_everything makes no {model.__name__}"
        if obj is not None:
            change = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change
        if model_admin.has_add_permission(request):
            add = reverse("admin:{}_{}_add".format(*info))
            assert admin_client.get(add).status_code == 200, add


def test_admin_link_add_writes_an_audit_event(admin_client, admin_user):
    contact, connection, xero_id = ContactFactory(), XeroConnectionFactory(), uuid.uuid4()
    response = admin_client.post(
        reverse("admin:sync_contactlink_add"),
        {
            "contact": contact.pk,
            "connection": connection.pk,
            "xero_contact_id": str(xero_id),
            "xero_name": "Bayview Cafe Ltd",
            "method": "existing",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    link = ContactLink.objects.get()
    assert link.created_by == admin_user
    event = LinkEvent.objects.get()
    assert (event.action, event.actor, event.xero_contact_id_after) == ("link", admin_user, xero_id)


def test_admin_refuses_a_second_link_for_a_contact(admin_client):
    link = ContactLinkFactory()
    response = admin_client.post(
        reverse("admin:sync_contactlink_add"),
        {
            "contact": link.contact.pk,
            "connection": link.connection.pk,
            "xero_contact_id": str(uuid.uuid4()),
            "xero_name": "Other",
            "method": "existing",
        },
    )
    assert response.status_code == 200
    assert "already linked in this Xero organisation" in response.content.decode()
    assert ContactLink.objects.count() == 1


def test_admin_change_of_xero_contact_is_an_audited_relink(admin_client):
    link = ContactLinkFactory()
    new_id = uuid.uuid4()
    response = admin_client.post(
        reverse("admin:sync_contactlink_change", args=[link.pk]),
        {"xero_contact_id": str(new_id), "xero_name": "Survivor Ltd"},
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.xero_contact_id == new_id
    event = LinkEvent.objects.get()
    assert event.action == "relink" and event.xero_contact_id_before != new_id


def test_admin_delete_is_an_audited_unlink(admin_client):
    links = [ContactLinkFactory(), ContactLinkFactory()]
    response = admin_client.post(
        reverse("admin:sync_contactlink_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [link.pk for link in links],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not ContactLink.objects.exists()
    assert LinkEvent.objects.filter(action="unlink").count() == 2


def test_contact_admin_unlink_action(admin_client):
    link = ContactLinkFactory()
    admin_client.post(
        reverse("admin:contacts_contact_changelist"),
        {"action": "unlink_selected", "_selected_action": [link.contact.pk]},
    )
    assert not ContactLink.objects.exists()
    assert LinkEvent.objects.get().action == "unlink"


def test_audit_events_cannot_be_changed_in_admin(admin_client):
    event = LinkEventFactory()
    change = reverse("admin:sync_linkevent_change", args=[event.pk])
    admin_client.post(change, {"detail": "tampered"})
    event.refresh_from_db()
    assert event.detail == ""
    assert admin_client.get(reverse("admin:sync_linkevent_add")).status_code == 403


def test_saving_a_link_unchanged_keeps_it_invalid_and_writes_nothing(admin_client):
    link = ContactLinkFactory(status="invalid", invalid_reason="archived")
    response = admin_client.post(
        reverse("admin:sync_contactlink_change", args=[link.pk]),
        {"xero_contact_id": str(link.xero_contact_id), "xero_name": link.xero_name},
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.status, link.invalid_reason) == ("invalid", "archived")
    assert not LinkEvent.objects.exists()


def test_correcting_only_the_xero_name_is_audited_as_a_rename(admin_client, admin_user):
    link = ContactLinkFactory(xero_name="Tui Books")
    admin_client.post(
        reverse("admin:sync_contactlink_change", args=[link.pk]),
        {"xero_contact_id": str(link.xero_contact_id), "xero_name": "Tui Books Limited"},
    )
    link.refresh_from_db()
    assert link.xero_name == "Tui Books Limited"
    event = LinkEvent.objects.get()
    assert (event.action, event.actor) == ("rename", admin_user)
    assert event.xero_contact_id_before == event.xero_contact_id_after == link.xero_contact_id


def test_deleting_a_linked_contact_unlinks_it_with_an_audit_event(admin_client):
    link = ContactLinkFactory()
    response = admin_client.post(
        reverse("admin:contacts_contact_delete", args=[link.contact.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not ContactLink.objects.exists()
    event = LinkEvent.objects.get()
    assert (event.action, event.contact_name) == ("unlink", link.contact.name)


def test_what_xero_made_of_a_transaction_is_shown_but_not_edited_in_admin(admin_client):
    """A hand-typed Xero ID or sync state would make the next Upload create a duplicate or
    skip one: those fields are the sync's to write."""
    from tests.factories import TransactionFactory
    from transactions.models import SyncState

    txn = TransactionFactory(number="INV-0042", sync_state=SyncState.REFUSED, last_error="No.")
    change = reverse("admin:transactions_transaction_change", args=[txn.pk])
    page = admin_client.get(change).content.decode()
    assert "No." in page and 'name="sync_state"' not in page and 'name="xero_id"' not in page
    data = {
        "type": txn.type,
        "number": "INV-0042A",
        "reference": "",
        "contact": txn.contact.pk,
        "date": txn.date.isoformat(),
        "due_date": txn.due_date.isoformat(),
        "currency": txn.currency,
        "line_amount_type": txn.line_amount_type,
        "sync_state": SyncState.SYNCED,
        "xero_id": str(uuid.uuid4()),
        "last_error": "",
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
    }
    assert admin_client.post(change, data).status_code == 302
    txn.refresh_from_db()
    assert txn.number == "INV-0042A"
    assert (txn.sync_state, txn.xero_id, txn.last_error) == (SyncState.REFUSED, None, "No.")
