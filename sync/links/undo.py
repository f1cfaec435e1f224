"""Undo of a link change or a dismissed suggestion: whether an event can still be undone
(`undo_refusal`, the one rule every page and the undo itself ask), and the undo, which is a
new audited event naming the one it undoes (never the old event removed).

What each undo does, through the services every other change goes through:
- a link (a Link, an Accept, one of an Accept all) is unlinked; an unlinked row shows its
  suggestions again;
- an unlink links the contact again to the same Xero contact, if it may still be linked
  (active in Xero, not linked to another Omni contact: sync.links.same_contact);
- a relink to a merge's survivor points the link back at the merged contact, as it was:
  invalid, merged into its survivor;
- a dismissal brings the suggestion back; bringing one back dismisses it again.
An undo is an event like the others, so undoing it does the change again (a redo).

Only the latest change of a contact's link can be undone: a later link event (an unlink, a
relink, an upload, a health check's verdict) means the link has changed since. Likewise only
the latest dismissal or bringing back of one suggestion. The confirmation message offers its
Undo for WINDOW; the contact's page offers it for as long as nothing changed since.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from contacts.models import Contact
from sync.exceptions import LinkError
from sync.links import same_contact, suggestions
from sync.links.health import link_verdict
from sync.links.services import contact_link, contact_relink, contact_unlink
from sync.models import (
    Actor,
    ContactLink,
    DismissedSuggestion,
    LinkEvent,
    LinkMethod,
    UploadRow,
    XeroConnection,
    XeroContact,
)
from sync.models.connections import ConnectionStatus

WINDOW = timedelta(minutes=10)  # how long a confirmation message offers its Undo

Action = LinkEvent.Action
UNDOABLE = {Action.LINK, Action.UNLINK, Action.RELINK, Action.DISMISS, Action.RESTORE}
SUGGESTION_ACTIONS = {Action.DISMISS, Action.RESTORE}


@dataclass(frozen=True)
class _State:
    """What the refusals of a batch of events are judged against, read in a few queries."""

    latest_link_event: dict[tuple[int, int], LinkEvent]  # by (contact, connection)
    latest_suggestion_event: dict[tuple[int, int, uuid.UUID], int]  # by (.., Xero contact)
    links: dict[tuple[int, int], ContactLink]
    mirrored: dict[tuple[int, uuid.UUID], XeroContact]  # by (connection, Xero contact)
    holders: dict[tuple[int, uuid.UUID], list[Contact]]
    dismissed: set[tuple[int, int, uuid.UUID]]
    uploading: set[tuple[int, int]]


def _state(events: list[LinkEvent]) -> _State:
    contacts = {e.contact_id for e in events}
    connections = {e.connection_id for e in events}
    ours = LinkEvent.objects.filter(contact__in=contacts, connection__in=connections)
    latest_pks = (
        ours.exclude(action__in=SUGGESTION_ACTIONS)
        .values("contact", "connection")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    latest_link_event = {
        (e.contact_id, e.connection_id): e
        for e in LinkEvent.objects.filter(pk__in=list(latest_pks))
        if e.contact_id is not None and e.connection_id is not None
    }
    latest_suggestion_event: dict[tuple[int, int, uuid.UUID], int] = {
        (contact, connection, xero): last
        for contact, connection, xero, last in ours.filter(action__in=SUGGESTION_ACTIONS)
        .values("contact", "connection", "xero_contact_id_after")
        .annotate(last=Max("pk"))
        .values_list("contact", "connection", "xero_contact_id_after", "last")
        if xero is not None  # every suggestion event names its Xero contact
    }
    links = {
        (link.contact_id, link.connection_id): link
        for link in ContactLink.objects.filter(contact__in=contacts, connection__in=connections)
    }
    # The Xero contacts an undo would link again (an unlink's, a relink's "before").
    wanted = {
        e.xero_contact_id_before
        for e in events
        if e.action in (Action.UNLINK, Action.RELINK) and e.xero_contact_id_before
    }
    mirrored: dict[tuple[int, uuid.UUID], XeroContact] = {}
    holders: dict[tuple[int, uuid.UUID], list[Contact]] = {}
    if wanted:
        for row in XeroContact.objects.filter(connection__in=connections, contact_id__in=wanted):
            mirrored[(row.connection_id, row.contact_id)] = row
        for link in ContactLink.objects.filter(
            connection__in=connections, xero_contact_id__in=wanted
        ).select_related("contact"):
            holders.setdefault((link.connection_id, link.xero_contact_id), []).append(link.contact)
    dismissed = set(
        DismissedSuggestion.objects.filter(
            contact__in=contacts, connection__in=connections
        ).values_list("contact", "connection", "xero_contact_id")
    )
    uploading = set(
        UploadRow.objects.filter(
            contact__in=contacts, connection__in=connections, state__in=UploadRow.PENDING
        ).values_list("contact", "connection")
    )
    return _State(
        latest_link_event,
        latest_suggestion_event,
        links,
        mirrored,
        holders,
        dismissed,
        uploading,
    )


def _refusal(event: LinkEvent, state: _State, now: datetime, from_message: bool) -> str | None:
    if event.action not in UNDOABLE:
        return f"“{event.get_action_display()}” cannot be undone."
    contact, connection = event.contact, event.connection
    if contact is None:
        return f"{event.contact_name} is no longer in Omni."
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
        return f"{event.organisation_name} is not connected: connect it again to undo this."
    if from_message and now - event.at > WINDOW:
        return (
            f"That Undo has expired (after {WINDOW.seconds // 60} minutes): undo it from "
            f"{contact.name}'s page, in its link history."
        )
    pair = (contact.pk, connection.pk)
    if event.action in SUGGESTION_ACTIONS:
        xero_id = event.xero_contact_id_after
        assert xero_id is not None  # every suggestion event names its Xero contact
        if state.latest_suggestion_event.get((*pair, xero_id)) != event.pk:
            return "That suggestion has been dismissed or brought back since."
        is_dismissed = (*pair, xero_id) in state.dismissed
        if event.action == Action.DISMISS and not is_dismissed:
            return "That suggestion is not dismissed any more."
        if event.action == Action.RESTORE and is_dismissed:
            return "That suggestion is dismissed already."
        return None
    latest = state.latest_link_event.get(pair)
    if latest is not None and latest.pk != event.pk:
        return (
            f"{contact.name}'s link has changed since (“{latest.get_action_display()}”): only "
            "its latest change can be undone."
        )
    link = state.links.get(pair)
    moved = link is None or link.xero_contact_id != event.xero_contact_id_after
    if event.action in (Action.LINK, Action.RELINK) and moved:
        return f"{contact.name} is not linked to that Xero contact any more."
    if event.action == Action.LINK:
        return None
    if event.action == Action.UNLINK:
        if link is not None:
            return f"{contact.name} is linked to {link.xero_name} now: unlink it first."
        if pair in state.uploading:
            return f"{contact.name} is being uploaded right now: wait for it to finish."
    before = event.xero_contact_id_before
    row = state.mirrored.get((connection.pk, before)) if before else None
    if row is None:
        return (
            "The Xero contact it was linked to is not in omni-xero's copy of Xero's "
            "contacts: it cannot be linked again."
        )
    if event.action == Action.UNLINK and not same_contact.is_linkable(row):
        reason, _ = link_verdict(row)
        assert reason is not None  # not linkable: archived, merged or GDPR
        return f"{row.name} cannot be linked again: {reason.label[0].lower()}{reason.label[1:]}."
    others = same_contact.blocking(contact, state.holders.get((connection.pk, row.contact_id), []))
    if others:
        names = " and ".join(other.name for other in others)
        return f"{row.name} in Xero is linked to {names} now: it cannot be linked again."
    return None


def undo_refusals(
    events: list[LinkEvent], now: datetime, *, from_message: bool = False
) -> dict[int, str | None]:
    """Why each event cannot be undone now, by its pk; None for those that can. With
    `from_message`, as the event's confirmation message offers it (for WINDOW only). Six
    queries however many events (eight when one is an unlink or a relink)."""
    if not events:
        return {}
    state = _state(events)
    return {event.pk: _refusal(event, state, now, from_message) for event in events}


def undo_refusal(event: LinkEvent, now: datetime, *, from_message: bool = False) -> str | None:
    """Why the event cannot be undone now (a reason fit to show), or None if it can."""
    return undo_refusals([event], now, from_message=from_message)[event.pk]


def link_undo(*, event: LinkEvent, user: Actor, from_message: bool = False) -> LinkEvent:
    """Undo the event: do its inverse, audited as a new event that names it. A LinkError says
    why when it cannot be undone (undo_refusal)."""
    with transaction.atomic():
        # Serialises undos of one contact: a second click finds the first one's event and
        # is refused as "changed since".
        if event.contact_id is not None:
            Contact.objects.select_for_update().filter(pk=event.contact_id).first()
        refusal = undo_refusal(event, timezone.now(), from_message=from_message)
        if refusal is not None:
            raise LinkError(refusal)
        contact, connection = event.contact, event.connection
        assert contact is not None and connection is not None  # else refused above
        return _inverse(event, contact, connection, user)


def _inverse(
    event: LinkEvent, contact: Contact, connection: XeroConnection, user: Actor
) -> LinkEvent:
    if event.action == Action.LINK:
        return contact_unlink(contact=contact, connection=connection, user=user, undoes=event)
    if event.action in SUGGESTION_ACTIONS:
        redo = (
            suggestions.suggestion_restore
            if event.action == Action.DISMISS
            else suggestions.suggestion_dismiss
        )
        done = redo(
            connection=connection,
            contact=contact,
            xero_contact_id=str(event.xero_contact_id_after),
            user=user,
            undoes=event,
        )
        assert done is not None  # refused above when there is nothing to change
        return done
    before = event.xero_contact_id_before
    assert before is not None  # an unlink's or relink's; else refused above
    row = XeroContact.objects.get(connection=connection, contact_id=before)
    if event.action == Action.UNLINK:
        contact_link(
            contact=contact,
            connection=connection,
            xero_contact_id=row.contact_id,
            xero_name=row.name,
            method=LinkMethod.EXISTING,
            user=user,
            undoes=event,
        )
    else:
        reason, survivor = link_verdict(row)
        contact_relink(
            contact=contact,
            connection=connection,
            xero_contact_id=row.contact_id,
            xero_name=row.name,
            user=user,
            invalid=reason,
            merged_into=survivor,
            undoes=event,
        )
    return LinkEvent.objects.filter(undoes=event).latest("pk")


@dataclass(frozen=True)
class UndoResult:
    undone: list[tuple[LinkEvent, LinkEvent]]  # each event undone, and its undo
    refused: list[tuple[LinkEvent, str]]


def links_undo(*, events: list[LinkEvent], user: Actor, from_message: bool = False) -> UndoResult:
    """Undo a batch of events (an Accept all's): each on its own, so that one refused (its
    link changed since) neither stops nor hides the others."""
    undone, refused = [], []
    for event in events:
        try:
            undone.append((event, link_undo(event=event, user=user, from_message=from_message)))
        except LinkError as error:
            refused.append((event, str(error)))
    return UndoResult(undone, refused)


def latest_events(
    *, connection: XeroConnection, contacts: list[Contact], user: Actor
) -> dict[int, int]:
    """The pk of the latest link event each contact had from this user, by contact pk: what
    the confirmation message of the user's change just made offers to undo. One query."""
    if not user.is_authenticated:
        return {}
    return dict(
        LinkEvent.objects.filter(
            connection=connection, contact__in=[c.pk for c in contacts], actor=user
        )
        .values("contact")
        .annotate(last=Max("pk"))
        .values_list("contact", "last")
    )


def events(pks: Iterable[int]) -> list[LinkEvent]:
    """The link events of these pks, oldest first, with what undo_refusals reads of them."""
    wanted = list(pks)
    if not wanted:
        return []
    return list(
        LinkEvent.objects.filter(pk__in=wanted)
        .select_related("contact", "connection")
        .order_by("pk")
    )
