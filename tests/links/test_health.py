"""Links that went bad in Xero, relinking to a merge's survivor, and linking existing Xero
contacts from the mirror: against the sandbox, through the real SDK."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sync import xero
from sync.connections.services import session
from sync.exceptions import LinkError
from sync.links import health as links
from sync.links import mirror
from sync.links.services import contact_link
from sync.models import (
    ContactLink,
    InvalidReason,
    LinkEvent,
    LinkMethod,
    LinkStatus,
    XeroContact,
)
from tests.factories import ContactFactory, ContactLinkFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def seeded(sandbox, connection, *names: str) -> list[str]:
    """Xero contacts made in the sandbox and mirrored; their IDs."""
    ids = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": n} for n in names])
    mirror.xero_contacts_refresh(connection=connection)
    return ids


def linked(contact, connection, xero_id: str, name: str, accountant=None) -> ContactLink:
    return contact_link(
        contact=contact,
        connection=connection,
        xero_contact_id=xero_id,
        xero_name=name,
        method=LinkMethod.EXISTING,
        user=accountant,
    )


def test_archiving_in_xero_invalidates_the_link_and_restoring_revalidates_it(connection, sandbox):
    (xero_id,) = seeded(sandbox, connection, "Tui Books Ltd")
    link = linked(ContactFactory(name="Tui Books"), connection, xero_id, "Tui Books Ltd")
    sandbox.archive(xero_id)
    mirror.xero_contacts_refresh(connection=connection)  # checks the links after it
    link.refresh_from_db()
    assert (link.status, link.invalid_reason) == (LinkStatus.INVALID, InvalidReason.ARCHIVED)
    assert "archived in Xero. Restore it in Xero" in link.invalid_message
    sandbox.restore(xero_id)
    mirror.xero_contacts_refresh(connection=connection)
    link.refresh_from_db()
    assert link.is_valid
    actions = list(LinkEvent.objects.filter(contact=link.contact).order_by("pk"))
    assert [e.action for e in actions] == ["link", "invalidate", "revalidate"]
    assert actions[1].actor is None  # omni-xero itself noticed


def test_a_merged_contact_is_relinked_to_its_survivor_in_one_step(connection, sandbox, accountant):
    old, survivor = seeded(sandbox, connection, "Bayview Cafe", "Bayview Cafe Ltd")
    link = linked(ContactFactory(name="Bayview Cafe"), connection, old, "Bayview Cafe")
    sandbox.merge(old, into=survivor)
    mirror.xero_contacts_refresh(connection=connection)
    link.refresh_from_db()
    assert link.invalid_reason == InvalidReason.MERGED
    assert str(link.merged_into_xero_contact_id) == survivor
    relinked = links.link_relink_to_survivor(link=link, user=accountant)
    assert (str(relinked.xero_contact_id), relinked.xero_name) == (survivor, "Bayview Cafe Ltd")
    assert relinked.is_valid
    event = LinkEvent.objects.filter(action="relink").get()
    assert event.actor == accountant and str(event.xero_contact_id_before) == old


def test_relinking_to_a_survivor_linked_to_another_contact_says_which(connection, sandbox):
    old, survivor = seeded(sandbox, connection, "Harbour Deli", "Harbourside Deli")
    link = linked(ContactFactory(name="Harbour Deli"), connection, old, "Harbour Deli")
    linked(ContactFactory(name="Harbourside Deli"), connection, survivor, "Harbourside Deli")
    sandbox.merge(old, into=survivor)
    mirror.xero_contacts_refresh(connection=connection)
    link.refresh_from_db()
    with pytest.raises(LinkError, match="already linked to Harbourside Deli"):
        links.link_relink_to_survivor(link=link, user=None)
    link.refresh_from_db()
    assert str(link.xero_contact_id) == old  # unchanged


def test_a_gdpr_request_and_a_vanished_contact_invalidate_their_links(connection, sandbox):
    (gone,) = seeded(sandbox, connection, "Forget Me Ltd")
    gdpr_link = linked(ContactFactory(), connection, gone, "Forget Me Ltd")
    vanished = linked(ContactFactory(), connection, str(uuid.uuid4()), "Never In Xero")
    sandbox.gdpr(gone)
    mirror.xero_contacts_refresh(connection=connection)
    gdpr_link.refresh_from_db()
    vanished.refresh_from_db()
    assert gdpr_link.invalid_reason == InvalidReason.GDPR
    assert vanished.invalid_reason == InvalidReason.DELETED


def test_a_check_before_the_mirror_was_ever_filled_marks_nothing(connection):
    link = linked(ContactFactory(), connection, str(uuid.uuid4()), "Somebody")
    result = links.links_check(connection=connection)
    assert result.skipped
    link.refresh_from_db()
    assert link.is_valid


def test_a_name_changed_in_xero_shows_after_the_next_refresh(connection, sandbox):
    (xero_id,) = seeded(sandbox, connection, "Kauri Coast")
    link = linked(ContactFactory(), connection, xero_id, "Kauri Coast")
    renamed = xero.ContactUpload(name="Kauri Coast Outfitters", contact_id=uuid.UUID(xero_id))
    (outcome,) = xero.contacts_save(
        session(connection), contacts=[renamed], idempotency_key=uuid.uuid4().hex
    )
    assert outcome.errors == []
    mirror.xero_contacts_refresh(connection=connection)
    link.refresh_from_db()
    assert link.xero_name == "Kauri Coast Outfitters"
    assert LinkEvent.objects.filter(action="rename", contact=link.contact).exists()


def test_linking_an_existing_contact_refuses_archived_ones(connection, sandbox, accountant):
    (xero_id,) = seeded(sandbox, connection, "Old Shop")
    sandbox.archive(xero_id)
    mirror.xero_contacts_refresh(connection=connection)
    with pytest.raises(LinkError, match="Old Shop cannot be linked: archived in xero"):
        links.contact_link_existing(
            contact=ContactFactory(), connection=connection, xero_contact_id=xero_id,
            user=accountant,
        )  # fmt: skip
    assert not ContactLink.objects.exists()


def test_one_xero_contact_is_linked_to_one_omni_contact_naming_the_other(
    connection, sandbox, accountant
):
    (xero_id,) = seeded(sandbox, connection, "Summit Cycles")
    first = ContactFactory(name="Summit Cycles")
    links.contact_link_existing(
        contact=first, connection=connection, xero_contact_id=xero_id, user=accountant
    )
    with pytest.raises(LinkError, match="already linked to Summit Cycles"):
        links.contact_link_existing(
            contact=ContactFactory(name="Summit Cycles (old)"),
            connection=connection, xero_contact_id=xero_id, user=accountant,
        )  # fmt: skip
    assert ContactLink.objects.count() == 1


def test_a_business_customer_and_supplier_records_may_share_a_xero_contact(
    connection, sandbox, accountant
):
    (xero_id,) = seeded(sandbox, connection, "Pacific Packaging")
    customer = ContactFactory(name="Pacific Packaging")
    supplier = SupplierFactory(name="Pacific Packaging")
    for contact in (customer, supplier):
        links.contact_link_existing(
            contact=contact, connection=connection, xero_contact_id=xero_id, user=accountant
        )
    assert ContactLink.objects.filter(xero_contact_id=xero_id).count() == 2
    with pytest.raises(LinkError, match="Pacific Packaging and Pacific Packaging"):
        links.contact_link_existing(
            contact=ContactFactory(), connection=connection, xero_contact_id=xero_id,
            user=accountant,
        )  # fmt: skip


def test_suggestions_offer_only_usable_contacts_with_their_evidence(connection, sandbox):
    ids = sandbox.seed_contacts(
        sandbox.demo_tenant_id,
        [
            {"Name": "Smith Ltd", "EmailAddress": "a@smith.nz", "AccountNumber": "S-1"},
            {"Name": "Smith Ltd (Wellington)", "EmailAddress": "b@smith.nz"},
            {"Name": "Smith Archived"},
            {"Name": "Smith Merged"},
            {"Name": "Smith Forgotten"},
        ],
    )
    sandbox.archive(ids[2])
    sandbox.merge(ids[3], into=ids[0])
    sandbox.gdpr(ids[4])
    mirror.xero_contacts_refresh(connection=connection)
    found = links.suggestions(connection=connection, text="smith", contact=ContactFactory())
    assert [(r.name, r.email, r.account_number) for r in found] == [
        ("Smith Ltd", "a@smith.nz", "S-1"),
        ("Smith Ltd (Wellington)", "b@smith.nz", ""),
    ]


def test_a_verdict_on_a_link_changed_meanwhile_changes_nothing(connection, sandbox):
    from sync.links.services import LinkChanged, link_mark_invalid

    (first, second) = seeded(sandbox, connection, "First Ltd", "Second Ltd")
    link = linked(ContactFactory(), connection, first, "First Ltd")
    ContactLink.objects.filter(pk=link.pk).update(xero_contact_id=second)  # relinked meanwhile
    with pytest.raises(LinkChanged):
        link_mark_invalid(link=link, reason=InvalidReason.ARCHIVED)
    link.refresh_from_db()
    assert link.is_valid


def test_no_link_is_picked_for_a_contact_being_uploaded(connection, sandbox, accountant):
    from sync.models import UploadJob, UploadRow

    (xero_id,) = seeded(sandbox, connection, "Busy Ltd")
    contact = ContactFactory(name="Busy")
    UploadRow.objects.create(
        job=UploadJob.objects.create(connection=connection), connection=connection,
        contact=contact, kind=UploadRow.Kind.CREATE,
    )  # fmt: skip
    with pytest.raises(LinkError, match="being uploaded right now"):
        links.contact_link_existing(
            contact=contact, connection=connection, xero_contact_id=xero_id, user=accountant
        )


def test_a_customer_and_a_supplier_of_different_businesses_may_not_share(
    connection, sandbox, accountant
):
    (xero_id,) = seeded(sandbox, connection, "Moana Fish Market")
    links.contact_link_existing(
        contact=ContactFactory(name="Moana Fish Market"), connection=connection,
        xero_contact_id=xero_id, user=accountant,
    )  # fmt: skip
    with pytest.raises(LinkError, match="already linked to Moana Fish Market"):
        links.contact_link_existing(
            contact=SupplierFactory(name="Ocean Freight", email="x@ocean.nz"),
            connection=connection, xero_contact_id=xero_id, user=accountant,
        )  # fmt: skip


# --- Only the links whose Xero contact changed are judged ------------------------------------


def seeded_many(sandbox, connection, n: int) -> list[str]:
    """n Xero contacts mirrored, then one a moment later: Xero's If-Modified-Since includes
    its mark, so the newest contact (alone in its second) is all an unchanged pull brings."""
    ids = sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": f"Shop {i}"} for i in range(n)])
    sandbox.advance_clock(2)
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Newest Shop"}])
    mirror.xero_contacts_refresh(connection=connection)
    return ids


def links_to(connection, xero_ids: list[str]) -> list:
    made = [
        ContactLinkFactory(connection=connection, xero_contact_id=x, xero_name=f"Shop {i}")
        for i, x in enumerate(xero_ids)
    ]
    links.links_check(connection=connection)  # their first verdict: they were never judged
    # As an hour later: the contacts were mirrored well before that check began.
    XeroContact.objects.update(mirrored_at=timezone.now() - timedelta(hours=1))
    return made


def queries_of_a_refresh_archiving(sandbox, connection, xero_ids: list[str]) -> int:
    sandbox.advance_clock(2)
    for xero_id in xero_ids:
        sandbox.archive(xero_id)
    with CaptureQueriesContext(db_connection) as queries:
        mirror.xero_contacts_refresh(connection=connection)
    return len(queries)


def test_a_refresh_that_finds_5_changed_contacts_costs_the_same_queries_with_10_times_the_links(
    connection, sandbox
):
    ids = seeded_many(sandbox, connection, 210)
    links_to(connection, ids[:20])
    with_20 = queries_of_a_refresh_archiving(sandbox, connection, ids[:5])
    links_to(connection, ids[20:200])
    before = timezone.now()
    with_200 = queries_of_a_refresh_archiving(sandbox, connection, ids[5:10])
    assert with_200 == with_20
    # Judged: the 5 links to contacts changed now, and those whose change made the mark
    # (Xero's If-Modified-Since includes it, so the refresh brought them again); no other.
    judged = ContactLink.objects.filter(status_checked_at__gte=before)
    judged_ids = set(map(str, judged.values_list("xero_contact_id", flat=True)))
    assert set(ids[5:10]) <= judged_ids <= set(ids[:10])
    archived = ContactLink.objects.filter(invalid_reason=InvalidReason.ARCHIVED)
    assert set(map(str, archived.values_list("xero_contact_id", flat=True))) == set(ids[:10])


def test_a_changed_contacts_link_is_judged_and_an_unchanged_one_is_not_touched(connection, sandbox):
    changed_id, unchanged_id = seeded_many(sandbox, connection, 2)
    changed, unchanged = links_to(connection, [changed_id, unchanged_id])
    unchanged.refresh_from_db()
    checked_before = unchanged.status_checked_at
    queries_of_a_refresh_archiving(sandbox, connection, [changed_id])
    changed.refresh_from_db()
    assert (changed.status, changed.invalid_reason) == (LinkStatus.INVALID, InvalidReason.ARCHIVED)
    assert "archived in Xero" in changed.invalid_message
    unchanged.refresh_from_db()
    assert unchanged.is_valid
    assert unchanged.status_checked_at == checked_before  # not judged again: nothing changed


def test_a_link_made_since_the_last_check_is_judged_though_its_contact_did_not_change(
    connection, sandbox
):
    (old,) = seeded_many(sandbox, connection, 1)
    sandbox.archive(old)
    mirror.xero_contacts_refresh(connection=connection)  # archived before anyone linked it
    sandbox.advance_clock(2)
    sandbox.seed_contacts(sandbox.demo_tenant_id, [{"Name": "Another Shop"}])
    mirror.xero_contacts_refresh(connection=connection)  # the archive is behind the mark now
    XeroContact.objects.update(mirrored_at=timezone.now() - timedelta(hours=1))  # an hour on
    made = ContactLinkFactory(connection=connection, xero_contact_id=old, xero_name="Shop 0")
    mirror.xero_contacts_refresh(connection=connection)
    made.refresh_from_db()
    assert made.invalid_reason == InvalidReason.ARCHIVED


def test_a_full_refresh_judges_every_link_in_chunks(connection, sandbox, monkeypatch):
    monkeypatch.setattr(links, "CHUNK", 3)
    ids = seeded_many(sandbox, connection, 8)
    made = links_to(connection, ids)
    ContactLink.objects.filter(pk__in=[m.pk for m in made]).update(
        status=LinkStatus.INVALID, invalid_reason=InvalidReason.DELETED
    )  # a verdict a full refresh must undo, though no contact changed
    mirror.xero_contacts_refresh(connection=connection, full=True)
    assert ContactLink.objects.valid().count() == 8
