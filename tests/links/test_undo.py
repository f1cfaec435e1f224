"""Undo of Link, Unlink, Accept, Accept all, Dismiss and Relink: each a new audited event
naming the one it undoes, offered by the confirmation message for a few minutes and by the
contact's link history for as long as nothing changed since."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.links import health, suggestions, undo
from sync.links.services import contact_link, contact_unlink
from sync.models import ContactLink, DismissedSuggestion, InvalidReason, LinkEvent, XeroContact
from tests.factories import ContactFactory, XeroConnectionFactory, XeroContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def connection():
    return XeroConnectionFactory()


def undo_url(event, tab="sales") -> str:
    return reverse("sync:link_undo", kwargs={"tab": tab, "event": event.pk})


def subtab(client) -> str:
    url = reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
    return client.get(url, {"show": "all"}).content.decode()


def detail(client, contact) -> str:
    url = reverse("sync:contact_detail", kwargs={"tab": "sales", "pk": contact.pk})
    return client.get(url).content.decode()


def linked(contact, xero, user):
    contact_link(
        contact=contact,
        connection=xero.connection,
        xero_contact_id=xero.contact_id,
        xero_name=xero.name,
        method="existing",
        user=user,
    )
    return LinkEvent.objects.latest("pk")


def only_undo_of(event) -> LinkEvent:
    """The one event that undid `event`, the old one still there."""
    assert LinkEvent.objects.filter(pk=event.pk).exists()
    return LinkEvent.objects.get(undoes=event)


# --- Each action undone ------------------------------------------------------------------------


def test_undo_of_a_link_from_its_message_unlinks(accountant_client, accountant, connection):
    xero = XeroContactFactory(connection=connection, name="Summit Cycles Ltd")
    contact = ContactFactory(name="Summit Cycles")
    link_url = reverse("sync:link_existing", kwargs={"tab": "sales", "pk": contact.pk})
    accountant_client.post(link_url, {"xero_contact_id": str(xero.contact_id)})
    event = LinkEvent.objects.get(action="link")
    page = subtab(accountant_client)
    assert "Linked to Summit Cycles Ltd in Xero." in page
    assert f'action="{undo_url(event)}"' in page  # the message's Undo
    response = accountant_client.post(undo_url(event), {"from": "message", "next": "/x/"})
    assert response.status_code == 302 and response["Location"] == "/x/"
    assert not ContactLink.objects.filter(contact=contact).exists()
    undone = only_undo_of(event)
    assert (undone.action, undone.actor) == ("unlink", accountant)
    assert "Undone: Summit Cycles has no linked contact again." in subtab(accountant_client)


def test_undo_of_an_unlink_links_the_same_xero_contact_again(accountant, connection):
    xero = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    linked(contact, xero, accountant)
    event = contact_unlink(contact=contact, connection=connection, user=accountant)
    new = undo.link_undo(event=event, user=accountant)
    link = ContactLink.objects.get(contact=contact)
    assert (link.xero_contact_id, link.xero_name) == (xero.contact_id, "Tui Books Ltd")
    assert only_undo_of(event) == new and new.action == "link"


def test_undo_of_an_accepted_suggestion_offers_it_again(accountant_client, accountant, connection):
    xero = XeroContactFactory(connection=connection, name="Bayview Cafe Ltd", account_number="C1")
    contact = ContactFactory(name="Bayview Cafe", account_number="C1")
    link_url = reverse("sync:link_existing", kwargs={"tab": "sales", "pk": contact.pk})
    accept = f'aria-label="Accept Bayview Cafe Ltd for {contact.name}"'
    assert accept in subtab(accountant_client)
    accountant_client.post(link_url, {"xero_contact_id": str(xero.contact_id)})  # Accept
    assert accept not in subtab(accountant_client)
    event = LinkEvent.objects.get(action="link")
    accountant_client.post(undo_url(event), {"from": "message"})
    assert not ContactLink.objects.filter(contact=contact).exists()
    only_undo_of(event)
    assert accept in subtab(accountant_client)


def test_undo_of_accept_all_undoes_the_batch_in_one_click(accountant_client, connection):
    for n in (1, 2, 3):
        XeroContactFactory(connection=connection, name=f"Kauri {n} Ltd", account_number=f"K{n}")
    contacts = [ContactFactory(name=f"Kauri {n}", account_number=f"K{n}") for n in (1, 2, 3)]
    accept = reverse("sync:suggestions_accept", kwargs={"tab": "sales"})
    accountant_client.post(accept, {"contact": [c.pk for c in contacts]})
    events = list(LinkEvent.objects.filter(action="link").order_by("pk"))
    assert len(events) == 3 and ContactLink.objects.count() == 3
    page = subtab(accountant_client)
    assert "Accepted 3 suggestions." in page
    others = "".join(f'<input type="hidden" name="event" value="{e.pk}">' for e in events[1:])
    assert others in page  # the general message's Undo posts the whole batch
    accountant_client.post(
        undo_url(events[0]), {"from": "message", "event": [e.pk for e in events[1:]]}
    )
    assert ContactLink.objects.count() == 0
    assert [only_undo_of(e).action for e in events] == ["unlink"] * 3
    assert "Undid 3 changes." in subtab(accountant_client)


def test_undo_of_a_dismissal_brings_the_suggestion_back(accountant_client, accountant, connection):
    xero = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    dismiss = reverse("sync:suggestion_dismiss", kwargs={"tab": "sales", "pk": contact.pk})
    accountant_client.post(dismiss, {"xero_contact_id": str(xero.contact_id)})
    event = LinkEvent.objects.get(action="dismiss")
    assert f'action="{undo_url(event)}"' in subtab(accountant_client)  # "Suggestion dismissed."
    accountant_client.post(undo_url(event), {"from": "message"})
    assert not DismissedSuggestion.objects.exists()
    assert only_undo_of(event).action == "restore"
    assert "Undone: Tui Books Ltd is suggested for Tui Books again." in subtab(accountant_client)
    assert suggestions.suggestions_for(connection=connection, contacts=[contact])[contact.pk]


def test_undo_of_a_relink_points_the_link_back_at_the_merged_contact(accountant, connection):
    survivor = XeroContactFactory(connection=connection, name="Harbourside Deli Ltd")
    merged = XeroContactFactory(
        connection=connection,
        name="Harbourside Deli",
        status=XeroContact.Status.ARCHIVED,
        merged_into_xero_contact_id=survivor.contact_id,
    )
    contact = ContactFactory(name="Harbourside Deli")
    linked(contact, merged, accountant)
    connection.contacts_refreshed_at = timezone.now()
    connection.save()
    health.links_check(connection=connection)
    link = ContactLink.objects.get(contact=contact)
    health.link_relink_to_survivor(link=link, user=accountant)
    event = LinkEvent.objects.get(action="relink")
    undo.link_undo(event=event, user=accountant)
    link.refresh_from_db()
    assert (link.xero_contact_id, link.invalid_reason, link.merged_into_xero_contact_id) == (
        merged.contact_id,
        InvalidReason.MERGED,
        survivor.contact_id,
    )
    assert only_undo_of(event).action == "relink"


# --- Refusals ------------------------------------------------------------------------------------


def test_undo_is_refused_when_the_link_changed_since(accountant_client, accountant, connection):
    xero = XeroContactFactory(connection=connection, name="Summit Cycles Ltd")
    contact = ContactFactory(name="Summit Cycles")
    event = linked(contact, xero, accountant)
    contact_unlink(contact=contact, connection=connection, user=accountant)
    linked(contact, XeroContactFactory(connection=connection, name="Summit Ltd"), accountant)
    accountant_client.post(undo_url(event))
    assert ContactLink.objects.get(contact=contact).xero_name == "Summit Ltd"
    assert not LinkEvent.objects.filter(undoes=event).exists()
    assert (
        "Summit Cycles&#x27;s link has changed since (“Linked”): only its latest change can be "
        "undone." in subtab(accountant_client)
    )


def test_undo_of_an_unlink_is_refused_when_the_xero_contact_was_taken_or_archived(
    accountant, connection
):
    xero = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    linked(contact, xero, accountant)
    event = contact_unlink(contact=contact, connection=connection, user=accountant)
    other = linked(ContactFactory(name="Tui Bookshop"), xero, accountant)
    assert undo.undo_refusal(event, timezone.now()) == (
        "Tui Books Ltd in Xero is linked to Tui Bookshop now: it cannot be linked again."
    )
    undo.link_undo(event=other, user=accountant)  # Tui Bookshop unlinked again
    XeroContact.objects.filter(pk=xero.pk).update(status=XeroContact.Status.ARCHIVED)
    assert undo.undo_refusal(event, timezone.now()) == (
        "Tui Books Ltd cannot be linked again: archived in Xero."
    )
    assert not ContactLink.objects.filter(contact=contact).exists()


def test_an_undo_can_be_undone_as_a_redo(accountant, connection):
    xero = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    event = linked(contact, xero, accountant)
    undone = undo.link_undo(event=event, user=accountant)
    assert undo.undo_refusal(event, timezone.now()) is not None  # the old one: changed since
    redone = undo.link_undo(event=undone, user=accountant)
    assert (redone.action, redone.undoes) == ("link", undone)
    assert ContactLink.objects.get(contact=contact).xero_contact_id == xero.contact_id


def test_the_message_offers_undo_for_ten_minutes_the_history_later(
    accountant_client, connection, monkeypatch
):
    xero = XeroContactFactory(connection=connection, name="Summit Cycles Ltd")
    contact = ContactFactory(name="Summit Cycles")
    link_url = reverse("sync:link_existing", kwargs={"tab": "sales", "pk": contact.pk})
    accountant_client.post(link_url, {"xero_contact_id": str(xero.contact_id)})
    event = LinkEvent.objects.get()
    later = timezone.now() + timedelta(minutes=11)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the page is read 11 minutes on
    page = subtab(accountant_client)
    assert "Linked to Summit Cycles Ltd in Xero." in page
    assert f'action="{undo_url(event)}"' not in page
    assert f'action="{undo_url(event)}"' in detail(accountant_client, contact)  # the history's
    accountant_client.post(undo_url(event), {"from": "message"})  # an old page's message
    assert ContactLink.objects.filter(contact=contact).exists()
    assert "That Undo has expired (after 10 minutes)" in detail(accountant_client, contact)
    accountant_client.post(undo_url(event))  # from the history
    assert not ContactLink.objects.filter(contact=contact).exists()


def test_dismissed_suggestions_can_be_brought_back_from_the_contact_page(
    accountant_client, accountant, connection
):
    xero = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    DismissedSuggestion.objects.create(
        connection=connection, contact=contact, xero_contact_id=xero.contact_id
    )  # dismissed before dismissals were audited
    page = detail(accountant_client, contact)
    assert "Dismissed suggestions" in page and 'aria-label="Bring back Tui Books Ltd"' in page
    restore = reverse("sync:suggestion_restore", kwargs={"tab": "sales", "pk": contact.pk})
    accountant_client.post(restore, {"xero_contact_id": str(xero.contact_id)})
    assert not DismissedSuggestion.objects.exists()
    assert LinkEvent.objects.get().action == "restore"
    assert "Dismissed suggestions" not in detail(accountant_client, contact)


def test_viewers_may_not_undo(viewer_client, accountant, connection):
    xero = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    event = linked(contact, xero, accountant)
    assert viewer_client.post(undo_url(event)).status_code == 403
    assert ContactLink.objects.filter(contact=contact).exists()
    assert undo_url(event) not in detail(viewer_client, contact)


def test_an_htmx_undo_of_one_contact_answers_with_its_row(
    accountant_client, accountant, connection
):
    xero = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    event = linked(contact, xero, accountant)
    response = accountant_client.post(undo_url(event), follow=True, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="contact-{contact.pk}"') and "<table" not in html
    assert "No linked contact" in html and "Undone: Tui Books has no linked contact again." in html
    assert not ContactLink.objects.exists()


def test_an_htmx_undo_of_a_batch_refreshes_the_page(accountant_client, accountant, connection):
    events = []
    for name in ("Tui Books", "Kauri Coast"):
        xero = XeroContactFactory(connection=connection, name=f"{name} Ltd")
        events.append(linked(ContactFactory(name=name), xero, accountant))
    response = accountant_client.post(undo_url(events[0]), {"event": [events[1].pk]}, **HTMX)
    assert response.headers["HX-Refresh"] == "true"
    assert not ContactLink.objects.exists()


@pytest.mark.parametrize("count", [2, 20])
def test_whether_a_batch_may_be_undone_costs_the_same_however_many(
    accountant, connection, django_assert_num_queries, count
):
    found = []
    for n in range(count):
        xero = XeroContactFactory(connection=connection, name=f"Kauri {n} Ltd")
        contact = ContactFactory(name=f"Kauri {n}")
        linked(contact, xero, accountant)
        found.append(contact_unlink(contact=contact, connection=connection, user=accountant))
    events = undo.events(e.pk for e in found)
    # 1 the latest link event of each contact, 2 those events, 3 the latest suggestion
    # events, 4 the links, 5 the Xero contacts to link again, 6 who holds them, 7 the
    # dismissals, 8 the uploads under way.
    with django_assert_num_queries(8):
        refusals = undo.undo_refusals(events, timezone.now(), from_message=True)
    assert list(refusals.values()) == [None] * count
