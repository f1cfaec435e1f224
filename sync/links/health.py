"""Link health and linking from the mirror: which links still point at a usable Xero contact,
relinking a merged contact to its survivor, and linking an existing Xero contact.

Everything here reads the local mirror of Xero contacts, never Xero itself: the mirror's
incremental refresh already brings back every contact that changed, archived and merged ones
included, so checking the links costs no call beyond that refresh, and judges only the links
to the contacts it brought back (links_check).
"""

import uuid
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from contacts.models import Contact
from sync.exceptions import LinkError
from sync.links import same_contact
from sync.links.services import LinkVerdict, contact_link, contact_relink, links_judge
from sync.models import (
    Actor,
    ContactLink,
    InvalidReason,
    LinkMethod,
    UploadRow,
    XeroConnection,
    XeroContact,
    XeroContactQuerySet,
)


@dataclass(frozen=True)
class CheckResult:
    checked: int
    invalidated: int
    revalidated: int
    renamed: int
    skipped: bool = False  # the mirror has never been filled: nothing could be judged


def link_verdict(row: XeroContact | None) -> tuple[InvalidReason | None, uuid.UUID | None]:
    """Why a linked Xero contact cannot be used (None: it can), and its survivor if merged."""
    if row is None:
        return InvalidReason.DELETED, None
    if row.merged_into_xero_contact_id is not None:
        return InvalidReason.MERGED, row.merged_into_xero_contact_id
    if row.status == XeroContact.Status.ARCHIVED:
        return InvalidReason.ARCHIVED, None
    if row.status == XeroContact.Status.GDPRREQUEST:
        return InvalidReason.GDPR, None
    return None, None


# Links judged per round trip: memory stays bounded however many links an organisation has.
CHUNK = 500
# A contact mirrored while a check was starting may be committed just after that check read
# the mirror: the next check also looks this far back before the last one began, judging a
# few links again rather than missing one.
OVERLAP = timedelta(minutes=1)


def links_check(
    *,
    connection: XeroConnection,
    xero_contact_ids: Collection[uuid.UUID] | None = None,
    full: bool = False,
) -> CheckResult:
    """Judge the organisation's links against the mirror; mark what changed.

    A link whose Xero contact is archived, merged, under a GDPR request, or no longer there
    at all (deleted) becomes invalid with that reason; one whose contact is usable again
    (restored in Xero) becomes valid; a renamed one takes the new name. Each change is
    audited; a link judged unchanged is not touched but for its check time.

    A verdict depends only on the link's Xero contact in the mirror, so a link need be judged
    again only when that contact changed there. Which links are judged:

    - with `xero_contact_ids`: the links to those Xero contacts (the ones a webhook says
      changed);
    - with `full`, or when no check ever ran for the organisation: every link, CHUNK at a
      time;
    - otherwise (after an incremental refresh): the links to the contacts stored in the
      mirror since the last such check began (their `mirrored_at`, omni-xero's own clock,
      so a contact brought in by a webhook or an upload's answer counts as well as the
      refresh's; from OVERLAP before, for a row committed while that check ran), and every
      link never judged (`status_checked_at` empty): one made or linked again since, which
      may point at a contact archived long ago, or at none in the mirror (deleted). A
      relink sets its own verdict and check time.

    Work and memory follow the number of links judged, never the number of links, and the
    queries are a few per CHUNK judged: the links are read in one query, judged here, and
    their verdicts written at once (links_judge). The incremental check of 5 changed
    contacts among 50,000 links is about ten indexed queries (bench/link_check.py).
    """
    started = timezone.now()
    connection.refresh_from_db(
        fields=["contacts_refreshed_at", "links_checked_at", "organisation_name"]
    )
    if connection.contacts_refreshed_at is None:
        # An empty mirror would make every link look deleted.
        return CheckResult(0, 0, 0, 0, skipped=True)
    links = (
        ContactLink.objects.filter(connection=connection)
        .select_related("contact")
        .only(*JUDGED_FIELDS)
    )
    if xero_contact_ids is not None:
        with transaction.atomic():  # one commit: a webhook's few contacts, as below
            return _judged_to(connection, links, _chunks_of_ids(list(xero_contact_ids)))
    if full or connection.links_checked_at is None:
        result = _judged_all(connection, links)  # a transaction per CHUNK
        _mark_checked(connection, started)
        return result
    # One transaction, so one commit (its fsync is most of a handful of links' check): the
    # links to the contacts changed since the last check, those never judged, and the mark.
    with transaction.atomic():
        since = connection.links_checked_at - OVERLAP
        changed = XeroContact.objects.filter(connection=connection, mirrored_at__gte=since)
        result = _sum(
            _judged_to(connection, links, _chunks_of_rows(changed)),
            _judged_all(connection, links.filter(status_checked_at__isnull=True)),
        )
        _mark_checked(connection, started)
    return result


def _mark_checked(connection: XeroConnection, started: datetime) -> None:
    """Note that the links were judged against the mirror as it was at `started`."""
    # Conditional: a check that began earlier and ends later never moves the mark back.
    XeroConnection.objects.filter(pk=connection.pk).filter(
        Q(links_checked_at__isnull=True) | Q(links_checked_at__lt=started)
    ).update(links_checked_at=started)


# What judging a link reads of it and of its Xero contact (memory stays small per link).
JUDGED_FIELDS = [
    "contact__name",
    "xero_contact_id",
    "xero_name",
    "status",
    "invalid_reason",
    "merged_into_xero_contact_id",
]
MIRRORED_FIELDS = [
    "contact_id",
    "name",
    "status",
    "merged_into_xero_contact_id",
    "mirrored_at",
]

# Xero contacts by ID, as the mirror has them (None: not there, deleted in Xero), CHUNK at
# a time; None for the rows of a chunk not read yet.
type Mirrored = dict[uuid.UUID, XeroContact | None]


def _chunks_of_ids(xero_ids: list[uuid.UUID]) -> Iterator[tuple[list[uuid.UUID], Mirrored | None]]:
    """These Xero contacts, CHUNK at a time; their rows are read with their links."""
    for start in range(0, len(xero_ids), CHUNK):
        yield xero_ids[start : start + CHUNK], None


def _chunks_of_rows(rows: XeroContactQuerySet) -> Iterator[tuple[list[uuid.UUID], Mirrored]]:
    """These Xero contacts (the ones stored since a time) with their rows, CHUNK a query,
    in the order of the index on when they were stored (`mirrored_at`, then pk, no open
    cursor): the query reads only the rows it returns, however many contacts there are."""
    page = list(rows.order_by("mirrored_at", "pk").only(*MIRRORED_FIELDS)[:CHUNK])
    while page:
        found: Mirrored = {row.contact_id: row for row in page}
        yield list(found), found
        if len(page) < CHUNK:
            return
        at, last = page[-1].mirrored_at, page[-1].pk
        after = rows.filter(mirrored_at__gte=at).exclude(mirrored_at=at, pk__lte=last)
        page = list(after.order_by("mirrored_at", "pk").only(*MIRRORED_FIELDS)[:CHUNK])


def _judged_to(
    connection: XeroConnection,
    links: QuerySet[ContactLink],
    chunks: Iterator[tuple[list[uuid.UUID], Mirrored | None]],
) -> CheckResult:
    """Judge the links to these Xero contacts, a chunk of contacts at a time."""
    result = CheckResult(0, 0, 0, 0)
    for xero_ids, rows in chunks:
        if xero_ids:
            # Unordered: in pk order, a database may scan every link of the connection
            # rather than look these up by their Xero contact (links_judge orders its locks).
            found = list(links.filter(xero_contact_id__in=xero_ids).order_by())
            result = _sum(result, _judged(connection, found, rows))
    return result


def _judged_all(connection: XeroConnection, links: QuerySet[ContactLink]) -> CheckResult:
    """Judge all of these links, CHUNK at a time in primary-key order."""
    result = CheckResult(0, 0, 0, 0)
    last = 0
    while page := list(links.filter(pk__gt=last).order_by("pk")[:CHUNK]):
        result = _sum(result, _judged(connection, page, None))
        last = page[-1].pk
    return result


def _judged(
    connection: XeroConnection, links: list[ContactLink], rows: Mirrored | None
) -> CheckResult:
    """Judge these links against their contacts in the mirror (`rows`, else read in one
    query), and write the verdicts (links_judge)."""
    if not links:
        return CheckResult(0, 0, 0, 0)
    if rows is None:
        rows = {
            row.contact_id: row
            for row in XeroContact.objects.filter(
                connection=connection, contact_id__in={link.xero_contact_id for link in links}
            ).only(*MIRRORED_FIELDS)
        }
    verdicts = []
    for link in links:
        row = rows.get(link.xero_contact_id)
        reason, survivor = link_verdict(row)
        verdicts.append(LinkVerdict(link, reason, survivor, row.name if row else ""))
    written = links_judge(connection=connection, verdicts=verdicts)
    return CheckResult(len(links), written.invalidated, written.revalidated, written.renamed)


def _sum(*results: CheckResult) -> CheckResult:
    return CheckResult(
        checked=sum(r.checked for r in results),
        invalidated=sum(r.invalidated for r in results),
        revalidated=sum(r.revalidated for r in results),
        renamed=sum(r.renamed for r in results),
    )


def _usable(connection: XeroConnection, xero_contact_id: uuid.UUID) -> XeroContact:
    """The mirrored Xero contact, if it can be linked; else a LinkError saying why not."""
    row = XeroContact.objects.filter(connection=connection, contact_id=xero_contact_id).first()
    if row is None:
        raise LinkError(
            "That Xero contact is not in omni-xero's copy of Xero's contacts. Refresh Xero "
            "contacts, then try again."
        )
    if same_contact.is_linkable(row):
        return row
    reason, _ = link_verdict(row)
    if reason == InvalidReason.MERGED:
        raise LinkError(f"{row.name} was merged into another Xero contact: pick that one.")
    assert reason is not None  # not linkable: archived, merged or GDPR
    raise LinkError(f"{row.name} cannot be linked: {reason.label.lower()}.")


def contact_link_existing(
    *, contact: Contact, connection: XeroConnection, xero_contact_id: uuid.UUID | str, user: Actor
) -> ContactLink:
    """Link an Omni contact to an existing, active Xero contact picked from the mirror."""
    try:
        wanted = uuid.UUID(str(xero_contact_id))
    except ValueError:
        raise LinkError("That is not a Xero contact: pick one from the list.") from None
    if UploadRow.objects.filter(
        connection=connection, contact=contact, state__in=UploadRow.PENDING
    ).exists():
        # The upload links it to what it creates; a second link now would strand that.
        raise LinkError(f"{contact.name} is being uploaded right now: wait for it to finish.")
    row = _usable(connection, wanted)
    return contact_link(
        contact=contact,
        connection=connection,
        xero_contact_id=row.contact_id,
        xero_name=row.name,
        method=LinkMethod.EXISTING,
        user=user,
    )


def link_relink_to_survivor(*, link: ContactLink, user: Actor) -> ContactLink:
    """Point a link whose Xero contact was merged at the contact it was merged into.

    Merges can chain (A into B, later B into C): the link goes to the last survivor.
    """
    if link.invalid_reason != InvalidReason.MERGED or link.merged_into_xero_contact_id is None:
        raise LinkError(f"{link.contact.name} is not linked to a merged Xero contact.")
    survivor_id = link.merged_into_xero_contact_id
    seen = {link.xero_contact_id}
    while True:
        row = XeroContact.objects.filter(connection=link.connection, contact_id=survivor_id).first()
        if row is None or row.merged_into_xero_contact_id is None or survivor_id in seen:
            break
        seen.add(survivor_id)
        survivor_id = row.merged_into_xero_contact_id
    if row is None:
        raise LinkError(
            f"The Xero contact {link.xero_name} was merged into is not in omni-xero's copy of "
            "Xero's contacts yet: Check links fetches it, then relink."
        )
    survivor = _usable(link.connection, survivor_id)
    return contact_relink(
        contact=link.contact,
        connection=link.connection,
        xero_contact_id=survivor.contact_id,
        xero_name=survivor.name,
        user=user,
    )


@dataclass(frozen=True)
class RelinkResult:
    relinked: list[tuple[Contact, ContactLink]]  # each contact with its new link
    skipped: list[tuple[Contact, str]]  # each contact left as it was, and why (no full stop)


def links_relink_to_survivors(
    *, connection: XeroConnection, contacts: Iterable[Contact], user: Actor
) -> RelinkResult:
    """Relink each of the contacts whose Xero contact was merged to its survivor, each on its
    own (one refused never stops the others); say why each other one was skipped."""
    contacts = list(contacts)
    links = {
        link.contact_id: link
        for link in ContactLink.objects.filter(
            connection=connection, contact__in=contacts
        ).select_related("contact", "connection")
    }
    relinked: list[tuple[Contact, ContactLink]] = []
    skipped: list[tuple[Contact, str]] = []
    for contact in contacts:
        link = links.get(contact.pk)
        if link is None:
            skipped.append((contact, "it has no linked contact"))
        elif link.merged_into_xero_contact_id is None:
            skipped.append((contact, f"{link.xero_name} was not merged in Xero"))
        else:
            try:
                relinked.append((contact, link_relink_to_survivor(link=link, user=user)))
            except LinkError as error:
                skipped.append((contact, str(error).rstrip(".")))
    return RelinkResult(relinked, skipped)


def suggestion(*, connection: XeroConnection, xero_contact_id: str) -> XeroContact | None:
    """One mirrored Xero contact by its ID (None for an unknown or malformed ID)."""
    try:
        wanted = uuid.UUID(str(xero_contact_id))
    except ValueError:
        return None
    return XeroContact.objects.filter(connection=connection, contact_id=wanted).first()


def suggestions(
    *, connection: XeroConnection, text: str, contact: Contact, limit: int = 8
) -> list[XeroContact]:
    """Active Xero contacts matching the text, best matches first, for the Search column of
    `contact` (archived, merged and GDPR contacts are never offered). Each carries
    `search_match` (why it matched), `linked_to` (the Omni contacts already linked to it)
    and `blocked_by` (those of them that keep `contact` from being linked to it:
    same_contact.blocking). Two queries however many rows."""
    rows = list(
        same_contact.linkable_xero_contacts(connection, include_linked=True).ranked_search(text)[
            :limit
        ]
    )
    linked: dict[uuid.UUID, list[Contact]] = {}
    for link in ContactLink.objects.filter(
        connection=connection, xero_contact_id__in=[r.contact_id for r in rows]
    ).select_related("contact"):
        linked.setdefault(link.xero_contact_id, []).append(link.contact)
    for row in rows:
        row.search_match = XeroContactQuerySet.SEARCH_MATCHES[row.search_rank]  # type: ignore[attr-defined]
        row.linked_to = linked.get(row.contact_id, [])  # type: ignore[attr-defined]
        row.blocked_by = same_contact.blocking(contact, row.linked_to)  # type: ignore[attr-defined]
    return rows
