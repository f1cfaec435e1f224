"""Write-side operations on links. Views, admin actions, tasks and commands all call these.

Each function is one unit of work and writes its audit event in the same transaction as the
change it records.
"""

import uuid
from dataclasses import dataclass
from typing import Required, TypedDict, Unpack

from django.db import IntegrityError, transaction
from django.utils import timezone

from contacts.models import Contact
from sync.exceptions import LinkError
from sync.links import same_contact
from sync.models import (
    Actor,
    ContactLink,
    InvalidReason,
    LinkEvent,
    LinkMethod,
    LinkStatus,
    XeroConnection,
)


class LinkChange(TypedDict, total=False):
    """What the audit row of a link change says (an undo names the event it undoes:
    sync.links.undo)."""

    action: Required[str]
    contact: Required[Contact]
    connection: Required[XeroConnection]
    user: Required[Actor | None]
    before: uuid.UUID | None
    after: uuid.UUID | None
    detail: str
    undoes: LinkEvent | None


def link_event(**change: Unpack[LinkChange]) -> LinkEvent:
    """The audit row of a link change, not saved yet (for bulk_create)."""
    user, contact, connection = change["user"], change["contact"], change["connection"]
    return LinkEvent(
        action=change["action"],
        actor=user if user is not None and user.is_authenticated else None,
        contact=contact,
        contact_name=contact.name,
        connection=connection,
        organisation_name=connection.organisation_name,
        xero_contact_id_before=change.get("before"),
        xero_contact_id_after=change.get("after"),
        detail=change.get("detail", "")[:500],
        undoes=change.get("undoes"),
    )


def link_event_record(**change: Unpack[LinkChange]) -> LinkEvent:
    """Write the audit row of a link change; callers do so in the change's own transaction."""
    event = link_event(**change)
    event.save()
    return event


def _locked_link(*, contact: Contact, connection: XeroConnection) -> ContactLink:
    try:
        return ContactLink.objects.select_for_update().get(contact=contact, connection=connection)
    except ContactLink.DoesNotExist:
        raise LinkError(
            f"{contact.name} is not linked to a Xero contact in {connection.organisation_name}."
        ) from None


def _relocked(link: ContactLink) -> ContactLink:
    """The link read again under a row lock (inside the caller's transaction)."""
    return (
        ContactLink.objects.select_for_update()
        .select_related("contact", "connection")
        .get(pk=link.pk)
    )


def _refuse_taken(
    *, contact: Contact, connection: XeroConnection, xero_contact_id: uuid.UUID, xero_name: str
) -> None:
    """Refuse a Xero contact already linked to another Omni contact (the one exception: a
    customer record and a supplier record). Call under the connection's row lock."""
    others = [
        link.contact
        for link in ContactLink.objects.filter(
            connection=connection, xero_contact_id=xero_contact_id
        )
        .exclude(contact=contact)
        .select_related("contact")
    ]
    refusal = _taken_refusal(contact=contact, others=others, xero_name=xero_name)
    if refusal:
        raise LinkError(refusal)


def _taken_refusal(*, contact: Contact, others: list[Contact], xero_name: str) -> str:
    """Why the Omni contact may not share its Xero contact with the others; empty if it may."""
    others = same_contact.blocking(contact, others)
    if not others:
        return ""
    names = " and ".join(other.name for other in others)
    return (
        f"{xero_name} in Xero is already linked to {names}. A Xero contact belongs to one "
        "Omni contact (only one business's customer and supplier records may share one): "
        f"unlink {names} first, or pick another Xero contact."
    )


def _lock_connection(connection: XeroConnection) -> None:
    # Serialises link changes within one organisation, so two people linking two Omni
    # contacts to one Xero contact at once cannot both pass the check above.
    XeroConnection.objects.select_for_update().filter(pk=connection.pk).first()


def contact_link(
    *,
    contact: Contact,
    connection: XeroConnection,
    xero_contact_id: uuid.UUID | str,
    xero_name: str,
    method: LinkMethod | str,
    user: Actor | None,
    undoes: LinkEvent | None = None,
) -> ContactLink:
    """Link an Omni contact to a Xero contact. A linked contact is never linked again."""
    xero_contact_id = uuid.UUID(str(xero_contact_id))
    try:
        with transaction.atomic():
            # Lock the contact so two people linking it at once are served one after the
            # other; the second then sees the first one's link and gets a clear message.
            Contact.objects.select_for_update().filter(pk=contact.pk).first()
            existing = ContactLink.objects.filter(contact=contact, connection=connection).first()
            if existing is not None:
                raise LinkError(
                    f"{contact.name} is already linked to {existing.xero_name} in Xero. "
                    "Unlink it first to link another contact."
                )
            _lock_connection(connection)
            _refuse_taken(
                contact=contact,
                connection=connection,
                xero_contact_id=xero_contact_id,
                xero_name=xero_name,
            )
            link = ContactLink.objects.create(
                contact=contact,
                connection=connection,
                xero_contact_id=xero_contact_id,
                xero_name=xero_name,
                method=method,
                created_by=user if user is not None and user.is_authenticated else None,
                # What Xero holds now is taken to match Omni; later Omni changes show.
                uploaded_fingerprint=contact.fingerprint(),
            )
            link_event_record(
                action=LinkEvent.Action.LINK,
                contact=contact,
                connection=connection,
                user=user,
                after=xero_contact_id,
                detail=f"{LinkMethod(method).label}: {xero_name}",
                undoes=undoes,
            )
    except IntegrityError:
        # The database's one-link-per-contact constraint caught a race the lock did not
        # (SQLite has no row locks).
        raise LinkError(f"{contact.name} was linked by someone else just now.") from None
    return link


@dataclass(frozen=True)
class LinkWanted:
    contact: Contact
    xero_contact_id: uuid.UUID
    xero_name: str


def contacts_link_many(
    *,
    wanted: list[LinkWanted],
    connection: XeroConnection,
    method: LinkMethod | str,
    user: Actor | None,
) -> dict[int, str]:
    """Link many contacts at once (an import), by the rules of contact_link: a linked contact
    is not linked again, and a Xero contact is not taken from another Omni contact. Returns
    why each contact refused was refused (by contact pk); the others are linked and audited,
    in a few queries however many there are."""
    refused: dict[int, str] = {}
    with transaction.atomic():
        pks = [w.contact.pk for w in wanted]
        # The same locks as contact_link, taken once for all of them.
        list(Contact.objects.select_for_update().filter(pk__in=pks).values_list("pk"))
        _lock_connection(connection)
        already = dict(
            ContactLink.objects.filter(connection=connection, contact__in=pks).values_list(
                "contact_id", "xero_name"
            )
        )
        holders: dict[uuid.UUID, list[Contact]] = {}
        for link in ContactLink.objects.filter(
            connection=connection, xero_contact_id__in={w.xero_contact_id for w in wanted}
        ).select_related("contact"):
            holders.setdefault(link.xero_contact_id, []).append(link.contact)
        links, events = [], []
        actor = user if user is not None and user.is_authenticated else None
        for w in wanted:
            contact = w.contact
            if contact.pk in already:
                refused[contact.pk] = (
                    f"{contact.name} is already linked to {already[contact.pk]} in Xero."
                )
                continue
            reason = _taken_refusal(
                contact=contact, others=holders.get(w.xero_contact_id, []), xero_name=w.xero_name
            )
            if reason:
                refused[contact.pk] = reason
                continue
            holders.setdefault(w.xero_contact_id, []).append(contact)
            already[contact.pk] = w.xero_name
            links.append(
                ContactLink(
                    contact=contact,
                    connection=connection,
                    xero_contact_id=w.xero_contact_id,
                    xero_name=w.xero_name,
                    method=method,
                    created_by=actor,
                    uploaded_fingerprint=contact.fingerprint(),
                )
            )
            events.append(
                link_event(
                    action=LinkEvent.Action.LINK,
                    contact=contact,
                    connection=connection,
                    user=user,
                    after=w.xero_contact_id,
                    detail=f"{LinkMethod(method).label}: {w.xero_name}",
                )
            )
        ContactLink.objects.bulk_create(links, batch_size=500)
        LinkEvent.objects.bulk_create(events, batch_size=500)
    return refused


def contact_unlink(
    *,
    contact: Contact,
    connection: XeroConnection,
    user: Actor | None,
    undoes: LinkEvent | None = None,
) -> LinkEvent:
    """Remove a contact's link so that another Xero contact can be linked."""
    with transaction.atomic():
        link = _locked_link(contact=contact, connection=connection)
        event = link_event_record(
            action=LinkEvent.Action.UNLINK,
            contact=contact,
            connection=connection,
            user=user,
            before=link.xero_contact_id,
            detail=f"Was linked to {link.xero_name}",
            undoes=undoes,
        )
        link.delete()
    return event


def contact_delete(*, contact: Contact, user: Actor | None) -> None:
    """Delete an Omni contact. Each of its links is unlinked first, with its audit event, in
    the same transaction: never a silent cascade, and never an unlink without the delete."""
    with transaction.atomic():
        links = ContactLink.objects.select_for_update().filter(contact=contact)
        for link in links.select_related("connection"):
            link_event_record(
                action=LinkEvent.Action.UNLINK,
                contact=contact,
                connection=link.connection,
                user=user,
                before=link.xero_contact_id,
                detail=f"Was linked to {link.xero_name}; the contact was deleted",
            )
            link.delete()
        contact.delete()


def contact_relink(
    *,
    contact: Contact,
    connection: XeroConnection,
    xero_contact_id: uuid.UUID | str,
    xero_name: str,
    user: Actor | None,
    invalid: InvalidReason | None = None,
    merged_into: uuid.UUID | None = None,
    undoes: LinkEvent | None = None,
) -> ContactLink:
    """Point an existing link at another Xero contact (e.g. a merged contact's survivor).

    The link is valid, unless `invalid` says why that contact cannot be used (an undo
    pointing a link back at the merged contact it was moved away from, `merged_into` its
    survivor)."""
    xero_contact_id = uuid.UUID(str(xero_contact_id))
    if merged_into is not None and invalid != InvalidReason.MERGED:
        raise LinkError("Only a merged Xero contact has a surviving contact.")
    with transaction.atomic():
        link = _locked_link(contact=contact, connection=connection)
        _lock_connection(connection)
        _refuse_taken(
            contact=contact,
            connection=connection,
            xero_contact_id=xero_contact_id,
            xero_name=xero_name,
        )
        before = link.xero_contact_id
        link.xero_contact_id = xero_contact_id
        link.xero_name = xero_name
        link.status = LinkStatus.INVALID if invalid else LinkStatus.VALID
        link.invalid_reason = invalid or ""
        link.merged_into_xero_contact_id = merged_into
        link.status_checked_at = timezone.now()
        link.save()
        link_event_record(
            action=LinkEvent.Action.RELINK,
            contact=contact,
            connection=connection,
            user=user,
            before=before,
            after=xero_contact_id,
            detail=f"Now linked to {xero_name}",
            undoes=undoes,
        )
    return link


class LinkChanged(Exception):
    """The link was unlinked or pointed elsewhere since it was read: a verdict on what it
    was no longer applies."""


def _relocked_unchanged(link: ContactLink) -> ContactLink:
    """The link under its row lock, if it still points where it pointed when read."""
    try:
        current = _relocked(link)
    except ContactLink.DoesNotExist:
        raise LinkChanged from None
    if current.xero_contact_id != link.xero_contact_id:
        raise LinkChanged
    return current


def _renamed(link: ContactLink, xero_name: str, user: Actor | None) -> LinkEvent:
    """Give the link (locked) its Xero contact's name; the audit row saying so, unsaved."""
    before, link.xero_name = link.xero_name, xero_name
    return link_event(
        action=LinkEvent.Action.RENAME,
        contact=link.contact,
        connection=link.connection,
        user=user,
        before=link.xero_contact_id,
        after=link.xero_contact_id,
        detail=f"Xero name {before} → {xero_name}",
    )


def _judged(
    link: ContactLink, reason: InvalidReason | None, survivor: uuid.UUID | None, user: Actor | None
) -> LinkEvent | None:
    """Give the link (locked) a verdict: invalid for `reason` (merged into `survivor`), or
    valid for None; judged now. The audit row, unsaved, when its verdict changed."""
    before = (link.status, link.invalid_reason, link.merged_into_xero_contact_id)
    link.status = LinkStatus.VALID if reason is None else LinkStatus.INVALID
    link.invalid_reason = reason or ""
    link.merged_into_xero_contact_id = survivor
    link.status_checked_at = timezone.now()
    if before == (link.status, link.invalid_reason, link.merged_into_xero_contact_id):
        return None
    return link_event(
        action=LinkEvent.Action.REVALIDATE if reason is None else LinkEvent.Action.INVALIDATE,
        contact=link.contact,
        connection=link.connection,
        user=user,
        before=link.xero_contact_id,
        after=link.xero_contact_id if reason is None else survivor,
        detail=reason.label if reason is not None else "",
    )


def link_rename(*, link: ContactLink, xero_name: str, user: Actor | None) -> ContactLink:
    """Correct the Xero name a link shows (the Xero contact stays the same)."""
    with transaction.atomic():
        link = _relocked_unchanged(link)
        event = _renamed(link, xero_name, user)
        link.save(update_fields=["xero_name"])
        event.save()
    return link


def link_mark_invalid(
    *,
    link: ContactLink,
    reason: InvalidReason | str,
    merged_into: uuid.UUID | str | None = None,
    user: Actor | None = None,
) -> ContactLink:
    """Record that the linked Xero contact can no longer be used, and why."""
    reason = InvalidReason(reason)
    survivor = uuid.UUID(str(merged_into)) if merged_into else None
    if reason != InvalidReason.MERGED and survivor is not None:
        raise LinkError("Only a merged Xero contact has a surviving contact.")
    with transaction.atomic():
        link = _relocked_unchanged(link)
        event = _judged(link, reason, survivor, user)
        link.save()
        if event is not None:
            event.save()
    return link


def link_mark_valid(*, link: ContactLink, user: Actor | None = None) -> ContactLink:
    """Record that the linked Xero contact is usable again (e.g. restored in Xero)."""
    with transaction.atomic():
        link = _relocked_unchanged(link)
        event = _judged(link, None, None, user)
        link.save()
        if event is not None:
            event.save()
    return link


@dataclass(frozen=True)
class LinkVerdict:
    """What the link check found of one link's Xero contact in the mirror."""

    link: ContactLink  # as it was read, with its contact
    reason: InvalidReason | None  # why the contact cannot be used; None: it can
    survivor: uuid.UUID | None  # the contact it was merged into
    xero_name: str  # its name in the mirror; empty (not there) keeps the link's

    def changes(self, link: ContactLink) -> bool:
        """Whether the link, as it is, would change by taking this verdict."""
        state = (link.status, link.invalid_reason, link.merged_into_xero_contact_id)
        wanted = (
            LinkStatus.VALID if self.reason is None else LinkStatus.INVALID,
            self.reason or "",
            self.survivor,
        )
        return state != wanted or self.renames(link)

    def renames(self, link: ContactLink) -> bool:
        return bool(self.xero_name) and self.xero_name != link.xero_name


@dataclass(frozen=True)
class VerdictsWritten:
    invalidated: int
    revalidated: int
    renamed: int


def links_judge(*, connection: XeroConnection, verdicts: list[LinkVerdict]) -> VerdictsWritten:
    """Give many links the link check's verdicts at once, as link_mark_invalid,
    link_mark_valid and link_rename would one at a time (the same states, the same audit
    rows, by omni-xero itself), in one short transaction of a few queries however many
    there are: every link is noted as judged now in one UPDATE; those whose verdict or name
    changes are locked and read again, written with one UPDATE per verdict and one
    bulk_update of the new names, and audited with one bulk_create.

    A link unlinked or pointed at another Xero contact since it was read is left as it is
    now: the verdict was on its old contact (it is judged again with its new one).
    """
    changing = {v.link.pk: v for v in verdicts if v.changes(v.link)}
    kinds: dict[tuple[str, str, uuid.UUID | None], list[int]] = {}
    renamed: list[ContactLink] = []
    events: list[LinkEvent] = []
    # Within the check's own transaction when it has one (no savepoint: nothing is retried).
    with transaction.atomic(savepoint=False):
        ContactLink.objects.filter(pk__in=[v.link.pk for v in verdicts]).update(
            status_checked_at=timezone.now()
        )
        if not changing:
            return VerdictsWritten(0, 0, 0)
        # Read again under their row locks (PostgreSQL; on SQLite the transaction holds the
        # database's one write lock from its start), so that what is written and audited is
        # what changes now: an unlink or a relink meanwhile is not overwritten, and a
        # verdict another check wrote meanwhile is not audited twice. Ordered by pk, as
        # every check takes them, so that two checks never deadlock.
        for link in ContactLink.objects.select_for_update().filter(pk__in=changing).order_by("pk"):
            verdict = changing[link.pk]
            if link.xero_contact_id != verdict.link.xero_contact_id:
                continue  # relinked meanwhile (an unlinked one is not read at all)
            link.contact, link.connection = verdict.link.contact, connection
            judged = _judged(link, verdict.reason, verdict.survivor, None)
            if judged is not None:
                kind = (link.status, link.invalid_reason, link.merged_into_xero_contact_id)
                kinds.setdefault(kind, []).append(link.pk)
                events.append(judged)
            if verdict.renames(link):
                events.append(_renamed(link, verdict.xero_name, None))
                renamed.append(link)
        # One UPDATE per verdict (archived, restored...), one for the new names.
        for (status, reason, survivor), pks in kinds.items():
            ContactLink.objects.filter(pk__in=pks).update(
                status=status, invalid_reason=reason, merged_into_xero_contact_id=survivor
            )
        ContactLink.objects.bulk_update(renamed, ["xero_name"])
        LinkEvent.objects.bulk_create(events)
    actions = [event.action for event in events]
    return VerdictsWritten(
        invalidated=actions.count(LinkEvent.Action.INVALIDATE),
        revalidated=actions.count(LinkEvent.Action.REVALIDATE),
        renamed=actions.count(LinkEvent.Action.RENAME),
    )
