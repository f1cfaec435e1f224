"""What the link check writes, and what it costs: its verdicts and audit rows, a constant
number of queries however many links the organisation has, and a link changed by someone
else while the check runs left as they made it."""

from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sync.links import health
from sync.links.services import contact_relink, contact_unlink
from sync.models import ContactLink, InvalidReason, LinkEvent, LinkStatus, XeroContact
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)

pytestmark = pytest.mark.django_db

ARCHIVED = XeroContact.Status.ARCHIVED
ACTIVE = XeroContact.Status.ACTIVE
GDPR = XeroContact.Status.GDPRREQUEST


@pytest.fixture
def organisation():
    return XeroConnectionFactory(
        organisation_name="Harbour Group (NZ)", contacts_refreshed_at=timezone.now()
    )


def linked(organisation, name: str, **mirrored):
    """A link to a Xero contact of the mirror of the same name (with `mirrored`'s details)."""
    row = XeroContactFactory(connection=organisation, name=name, **mirrored)
    return ContactLinkFactory(
        connection=organisation,
        contact=ContactFactory(name=name),
        xero_contact_id=row.contact_id,
        xero_name=name,
    )


def judged_an_hour_ago(organisation) -> None:
    """Every link judged once, and the mirror as it was well before that check began: the
    next check judges only what is changed in the mirror after this."""
    health.links_check(connection=organisation)
    XeroContact.objects.update(mirrored_at=timezone.now() - timedelta(hours=1))


def changed_in_xero(link: ContactLink, **details) -> None:
    """The link's Xero contact as a refresh brings it back, changed."""
    XeroContact.objects.filter(contact_id=link.xero_contact_id).update(
        mirrored_at=timezone.now(), **details
    )


def last_event() -> int:
    return LinkEvent.objects.order_by("pk").values_list("pk", flat=True).last() or 0


def events_since(pk: int) -> list[tuple]:
    return [
        (
            e.contact_name,
            e.action,
            e.xero_contact_id_before,
            e.xero_contact_id_after,
            e.detail,
            e.actor_id,
            e.organisation_name,
        )
        for e in LinkEvent.objects.filter(pk__gt=pk).order_by("pk")
    ]


def state(link: ContactLink) -> tuple:
    link.refresh_from_db()
    return (link.status, link.invalid_reason, link.merged_into_xero_contact_id, link.xero_name)


def test_each_verdict_and_its_audit_row(organisation):
    archived = linked(organisation, "Tui Books")
    merged = linked(organisation, "Bayview Cafe")
    survivor = XeroContactFactory(connection=organisation, name="Bayview Cafe Ltd")
    forgotten = linked(organisation, "Forget Me")
    vanished = linked(organisation, "Gone Ltd")
    restored = linked(organisation, "Kauri Coast", status=ARCHIVED)
    renamed = linked(organisation, "Moana Fish")
    renamed_and_archived = linked(organisation, "Summit Cycles")
    still_archived = linked(organisation, "Old Shop", status=ARCHIVED)
    untouched = linked(organisation, "Pacific Packaging")
    judged_an_hour_ago(organisation)
    assert state(restored)[:2] == (LinkStatus.INVALID, InvalidReason.ARCHIVED)
    last = last_event()
    checked_before = ContactLink.objects.get(pk=untouched.pk).status_checked_at

    changed_in_xero(archived, status=ARCHIVED)
    changed_in_xero(merged, merged_into_xero_contact_id=survivor.contact_id)
    changed_in_xero(forgotten, status=GDPR)
    XeroContact.objects.filter(contact_id=vanished.xero_contact_id).delete()
    ContactLink.objects.filter(pk=vanished.pk).update(status_checked_at=None)  # as relinked
    changed_in_xero(restored, status=ACTIVE)
    changed_in_xero(renamed, name="Moana Fish Market")
    changed_in_xero(renamed_and_archived, name="Summit Cycles NZ", status=ARCHIVED)
    changed_in_xero(still_archived, email="shop@old.nz")
    result = health.links_check(connection=organisation)

    assert (result.checked, result.invalidated, result.revalidated, result.renamed) == (8, 5, 1, 2)
    invalid, valid = LinkStatus.INVALID, LinkStatus.VALID
    assert state(archived) == (invalid, InvalidReason.ARCHIVED, None, "Tui Books")
    assert state(merged) == (invalid, InvalidReason.MERGED, survivor.contact_id, "Bayview Cafe")
    assert state(forgotten) == (invalid, InvalidReason.GDPR, None, "Forget Me")
    assert state(vanished) == (invalid, InvalidReason.DELETED, None, "Gone Ltd")
    assert state(restored) == (valid, "", None, "Kauri Coast")
    assert state(renamed) == (valid, "", None, "Moana Fish Market")
    assert state(renamed_and_archived) == (
        invalid,
        InvalidReason.ARCHIVED,
        None,
        "Summit Cycles NZ",
    )
    assert state(still_archived) == (invalid, InvalidReason.ARCHIVED, None, "Old Shop")
    assert state(untouched) == (valid, "", None, "Pacific Packaging")
    untouched.refresh_from_db()
    assert untouched.status_checked_at == checked_before  # its contact did not change
    judged = [
        archived,
        merged,
        forgotten,
        vanished,
        restored,
        renamed,
        renamed_and_archived,
        still_archived,
    ]
    for link in judged:
        link.refresh_from_db()
        assert link.status_checked_at > checked_before

    org = "Harbour Group (NZ)"
    invalidate, revalidate, rename = "invalidate", "revalidate", "rename"
    expected = {
        ("Tui Books", invalidate, archived.xero_contact_id, None, "Archived in Xero", None, org),
        (
            "Bayview Cafe",
            invalidate,
            merged.xero_contact_id,
            survivor.contact_id,
            "Merged into another Xero contact",
            None,
            org,
        ),
        (
            "Forget Me",
            invalidate,
            forgotten.xero_contact_id,
            None,
            "GDPR request in Xero",
            None,
            org,
        ),
        ("Gone Ltd", invalidate, vanished.xero_contact_id, None, "Deleted from Xero", None, org),
        (
            "Kauri Coast",
            revalidate,
            restored.xero_contact_id,
            restored.xero_contact_id,
            "",
            None,
            org,
        ),
        (
            "Moana Fish",
            rename,
            renamed.xero_contact_id,
            renamed.xero_contact_id,
            "Xero name Moana Fish → Moana Fish Market",
            None,
            org,
        ),
        (
            "Summit Cycles",
            invalidate,
            renamed_and_archived.xero_contact_id,
            None,
            "Archived in Xero",
            None,
            org,
        ),
        (
            "Summit Cycles",
            rename,
            renamed_and_archived.xero_contact_id,
            renamed_and_archived.xero_contact_id,
            "Xero name Summit Cycles → Summit Cycles NZ",
            None,
            org,
        ),
    }
    events = events_since(last)
    assert set(events) == expected and len(events) == len(expected)
    # A link's verdict comes before its new name, as when each was marked on its own.
    summit = [e[1] for e in events if e[0] == "Summit Cycles"]
    assert summit == [invalidate, rename]


def many_links(organisation, n: int):
    return [linked(organisation, f"Shop {i}") for i in range(n)]


def queries_of_a_check(organisation, links: list[ContactLink]) -> int:
    """The queries of the check that follows a refresh bringing these links' contacts back
    changed: archived when they were active, restored when they were archived."""
    for link in links:
        link.refresh_from_db()
        changed_in_xero(link, status=ACTIVE if link.invalid_reason else ARCHIVED)
    with CaptureQueriesContext(db_connection) as queries:
        result = health.links_check(connection=organisation)
    assert result.invalidated + result.revalidated == len(links)
    XeroContact.objects.update(mirrored_at=timezone.now() - timedelta(hours=1))
    return len(queries)


def test_an_incremental_check_costs_the_same_queries_with_10_times_the_links(organisation):
    links = many_links(organisation, 20)
    judged_an_hour_ago(organisation)
    one_of_20 = queries_of_a_check(organisation, links[:1])
    five_of_20 = queries_of_a_check(organisation, links[1:6])
    restored_of_20 = queries_of_a_check(organisation, links[1:6])
    links += many_links(organisation, 180)
    judged_an_hour_ago(organisation)
    five_of_200 = queries_of_a_check(organisation, links[100:105])
    assert one_of_20 == five_of_20 == restored_of_20 == five_of_200
    # The connection's marks, the changed contacts of the mirror, the links to them, the
    # links never judged, the mark moved on; and, in one transaction, the judged links
    # locked, their verdicts, their audit rows (with BEGIN and COMMIT where they count).
    assert five_of_200 <= 11


def test_a_link_unlinked_or_relinked_while_it_is_judged_is_left_as_it_was_made(
    organisation, monkeypatch
):
    unlinked, relinked, judged = many_links(organisation, 3)
    elsewhere = XeroContactFactory(connection=organisation, name="Elsewhere Ltd")
    judged_an_hour_ago(organisation)
    for link in (unlinked, relinked, judged):
        changed_in_xero(link, status=ARCHIVED)
    last = last_event()
    write = health.links_judge

    def meanwhile(**kwargs):
        # Someone unlinks one and relinks another between the check's read and its write.
        contact_unlink(contact=unlinked.contact, connection=organisation, user=None)
        contact_relink(
            contact=relinked.contact,
            connection=organisation,
            xero_contact_id=elsewhere.contact_id,
            xero_name="Elsewhere Ltd",
            user=None,
        )
        return write(**kwargs)

    monkeypatch.setattr(health, "links_judge", meanwhile)
    result = health.links_check(connection=organisation)

    assert result.invalidated == 1
    assert not ContactLink.objects.filter(pk=unlinked.pk).exists()
    assert state(relinked) == (LinkStatus.VALID, "", None, "Elsewhere Ltd")
    assert state(judged)[:2] == (LinkStatus.INVALID, InvalidReason.ARCHIVED)
    assert [(e[0], e[1]) for e in events_since(last)] == [
        ("Shop 0", "unlink"),
        ("Shop 1", "relink"),
        ("Shop 2", "invalidate"),
    ]


def test_a_full_check_writes_in_chunks_whatever_the_links(organisation, monkeypatch):
    monkeypatch.setattr(health, "CHUNK", 3)
    links = many_links(organisation, 8)
    for link in links:
        XeroContact.objects.filter(contact_id=link.xero_contact_id).update(status=ARCHIVED)
    result = health.links_check(connection=organisation, full=True)
    assert (result.checked, result.invalidated) == (8, 8)
    assert ContactLink.objects.invalid().count() == 8
    assert LinkEvent.objects.filter(action="invalidate").count() == 8
