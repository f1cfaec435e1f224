"""The link services: every change is audited, and a linked contact is never linked again."""

import uuid

import pytest
from django.db.models import ProtectedError

from sync.exceptions import LinkError
from sync.links.services import (
    contact_delete,
    contact_link,
    contact_relink,
    contact_unlink,
    link_mark_invalid,
    link_mark_valid,
)
from sync.models import ContactLink, InvalidReason, LinkEvent, LinkMethod, LinkStatus
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    TransactionFactory,
    XeroConnectionFactory,
)

pytestmark = pytest.mark.django_db


def test_link_records_who_linked_what(accountant):
    contact, connection, xero_id = ContactFactory(), XeroConnectionFactory(), uuid.uuid4()
    link = contact_link(
        contact=contact,
        connection=connection,
        xero_contact_id=xero_id,
        xero_name="Bayview Cafe Ltd",
        method=LinkMethod.EXISTING,
        user=accountant,
    )
    assert (link.xero_contact_id, link.created_by, link.status) == (
        xero_id,
        accountant,
        LinkStatus.VALID,
    )
    event = LinkEvent.objects.get()
    assert (event.action, event.actor, event.contact, event.xero_contact_id_after) == (
        LinkEvent.Action.LINK,
        accountant,
        contact,
        xero_id,
    )
    assert event.xero_contact_id_before is None


def test_a_linked_contact_is_never_linked_again(accountant):
    link = ContactLinkFactory(xero_name="Bayview Cafe Ltd")
    with pytest.raises(LinkError, match="already linked to Bayview Cafe Ltd"):
        contact_link(
            contact=link.contact,
            connection=link.connection,
            xero_contact_id=uuid.uuid4(),
            xero_name="Other",
            method=LinkMethod.UPLOAD,
            user=accountant,
        )
    assert ContactLink.objects.get().xero_contact_id == link.xero_contact_id
    assert not LinkEvent.objects.exists()


def test_unlink_removes_the_link_and_audits_it(accountant):
    link = ContactLinkFactory()
    contact_unlink(contact=link.contact, connection=link.connection, user=accountant)
    assert not ContactLink.objects.exists()
    event = LinkEvent.objects.get()
    assert event.action == LinkEvent.Action.UNLINK
    assert event.xero_contact_id_before == link.xero_contact_id
    assert event.actor == accountant


def test_unlink_of_an_unlinked_contact_says_so(accountant):
    with pytest.raises(LinkError, match="is not linked"):
        contact_unlink(
            contact=ContactFactory(), connection=XeroConnectionFactory(), user=accountant
        )


def test_relink_to_a_merged_contacts_survivor(accountant):
    survivor = uuid.uuid4()
    link = ContactLinkFactory()
    link_mark_invalid(link=link, reason=InvalidReason.MERGED, merged_into=survivor)
    relinked = contact_relink(
        contact=link.contact,
        connection=link.connection,
        xero_contact_id=survivor,
        xero_name="Survivor Ltd",
        user=accountant,
    )
    assert relinked.is_valid and relinked.xero_contact_id == survivor
    assert relinked.merged_into_xero_contact_id is None
    actions = list(LinkEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions == [LinkEvent.Action.INVALIDATE, LinkEvent.Action.RELINK]
    relink_event = LinkEvent.objects.get(action=LinkEvent.Action.RELINK)
    assert relink_event.xero_contact_id_before == link.xero_contact_id
    assert relink_event.xero_contact_id_after == survivor


def test_marking_invalid_twice_audits_once():
    link = ContactLinkFactory()
    link_mark_invalid(link=link, reason=InvalidReason.ARCHIVED)
    link_mark_invalid(link=link, reason=InvalidReason.ARCHIVED)
    assert LinkEvent.objects.filter(action=LinkEvent.Action.INVALIDATE).count() == 1
    link_mark_valid(link=link)
    link.refresh_from_db()
    assert link.is_valid and link.invalid_reason == ""
    assert LinkEvent.objects.filter(action=LinkEvent.Action.REVALIDATE).count() == 1


def test_only_a_merge_has_a_survivor():
    with pytest.raises(LinkError):
        link_mark_invalid(
            link=ContactLinkFactory(), reason=InvalidReason.ARCHIVED, merged_into=uuid.uuid4()
        )


def test_deleting_a_contact_unlinks_it_in_every_organisation_with_audit_events(accountant):
    contact = ContactFactory(name="Tui Books")
    first = ContactLinkFactory(contact=contact, xero_name="Tui Books Ltd")
    ContactLinkFactory(contact=contact, xero_name="Tui Books (NZ)")

    contact_delete(contact=contact, user=accountant)

    assert not ContactLink.objects.exists()
    events = LinkEvent.objects.order_by("organisation_name")
    assert {(e.action, e.contact_name, e.actor) for e in events} == {
        ("unlink", "Tui Books", accountant)
    }
    assert {e.detail for e in events} == {
        "Was linked to Tui Books Ltd; the contact was deleted",
        "Was linked to Tui Books (NZ); the contact was deleted",
    }
    assert first.xero_contact_id in {e.xero_contact_id_before for e in events}


def test_a_contact_that_cannot_be_deleted_keeps_its_link_and_no_unlink_is_recorded(accountant):
    """Its transactions protect it: the unlink before the delete is undone with it."""
    link = ContactLinkFactory()
    TransactionFactory(contact=link.contact)

    with pytest.raises(ProtectedError):
        contact_delete(contact=link.contact, user=accountant)

    assert ContactLink.objects.filter(pk=link.pk).exists()
    assert not LinkEvent.objects.exists()
