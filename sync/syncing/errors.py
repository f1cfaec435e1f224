"""What needs fixing before everything can go to Xero, in one place: transactions that failed
or were refused, links gone invalid, contact uploads that failed, grouped by contact; and the
Xero contacts the mirror could not store."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import Lower, RowNumber
from django.utils import timezone

from contacts.models import Contact
from sync.exceptions import UserFacingError
from sync.links import health as links
from sync.links.services import contact_unlink
from sync.models import (
    RECENT_UPLOAD,
    Actor,
    ContactLink,
    InvalidReason,
    LinkStatus,
    SyncItem,
    UnmirroredContact,
    UploadRow,
    XeroConnection,
)
from sync.syncing.organisations import for_organisation
from sync.syncing.refusals import Refusal, Rules
from sync.uploads import services as uploads
from transactions.models import SyncState, Transaction

PROBLEM_STATES = [SyncState.FAILED, SyncState.REFUSED]
LINK_REFUSALS = {SyncItem.Refusal.UNLINKED, SyncItem.Refusal.INVALID_LINK}
# The Errors view shows this many contacts a page, and this many transactions of each (the
# others are counted): a page costs what it shows, however long the history.
CONTACTS_PER_PAGE = 20
TRANSACTIONS_SHOWN = 20


class Fix(StrEnum):
    """Where a transaction's problem is fixed (the pages turn it into words and a link)."""

    LINK = "link"  # its contact's link, on the contact's row
    MAPPING = "mapping"  # the account mapping, on the Admin tab
    SETTINGS = "settings"  # multicurrency or a branch's tracking, on the Admin tab
    TRANSACTION = "transaction"  # the transaction itself, on its subtab


@dataclass(frozen=True)
class TransactionProblem:
    transaction: Transaction
    message: str
    reason: str  # the refusal's label; empty for a failure
    fix: Fix
    # For a refused transaction: what still stops it now (None: it can go again).
    still: Refusal | None = None


@dataclass
class ContactProblems:
    contact: Contact
    transactions: list[TransactionProblem] = field(default_factory=list)
    more: int = 0  # its failed or refused transactions not shown
    link: ContactLink | None = None  # set when the link is invalid
    upload: UploadRow | None = None  # set when its latest upload failed

    @property
    def refused(self) -> list[Transaction]:
        return [
            p.transaction
            for p in self.transactions
            if p.transaction.sync_state == SyncState.REFUSED
        ]

    @property
    def resync(self) -> list[Transaction]:
        """Its refused transactions shown whose cause is gone: Re-sync sends these."""
        return [
            p.transaction
            for p in self.transactions
            if p.transaction.sync_state == SyncState.REFUSED and p.still is None
        ]

    @property
    def blocked(self) -> list[TransactionProblem]:
        """Its refused transactions shown that would be refused again, with why."""
        return [p for p in self.transactions if p.still is not None]


def _fix(item: SyncItem | None) -> Fix:
    refusal = item.refusal if item else ""
    if refusal in LINK_REFUSALS:
        return Fix.LINK
    if refusal in (SyncItem.Refusal.ACCOUNT, SyncItem.Refusal.TAX):
        return Fix.MAPPING
    if refusal in (SyncItem.Refusal.CURRENCY, SyncItem.Refusal.TRACKING):
        return Fix.SETTINGS
    return Fix.TRANSACTION


def _problem_transactions(connection: XeroConnection | None) -> QuerySet[Transaction]:
    return for_organisation(Transaction.objects.filter(sync_state__in=PROBLEM_STATES), connection)


def resync_blockers(rules: Rules, transactions: Iterable[Transaction]) -> dict[int, Refusal | None]:
    """For each refused transaction, what would refuse it again now (None: the cause is gone,
    it may be synced again): the sync's own refusal rules, read from the link, the chart and
    the mapping as they are now."""
    return {txn.pk: rules.refusal(txn) for txn in transactions}


def problem_transactions(
    connection: XeroConnection | None, contacts: Iterable[int] | None = None
) -> list[TransactionProblem]:
    """The organisation's failed or refused transactions (of these contacts), each with its
    latest sync item's message and reason there, and for a refused one what still stops it;
    at most TRANSACTIONS_SHOWN of each contact."""
    found = _problem_transactions(connection)
    if contacts is not None:
        found = found.filter(contact_id__in=list(contacts))
    nth = Window(
        RowNumber(), partition_by=[F("contact_id")], order_by=[F("date").asc(), F("number").asc()]
    )
    transactions = list(
        found.annotate(nth=nth)
        .filter(nth__lte=TRANSACTIONS_SHOWN)
        .select_related("contact")
        .prefetch_related("lines")
        .order_by("contact__name", "contact_id", "date", "number")
    )
    latest: dict[int, SyncItem] = {}
    still: dict[int, Refusal | None] = {}
    if connection is not None and transactions:
        for found_item in SyncItem.objects.filter(
            connection=connection,
            transaction_id__in=[t.pk for t in transactions],
            state__in=[SyncItem.State.FAILED, SyncItem.State.REFUSED],
        ).order_by("pk"):
            latest[found_item.transaction_id] = found_item
        rules = Rules(connection)
        refused = [t for t in transactions if t.sync_state == SyncState.REFUSED]
        rules.links_load({t.contact_id for t in refused})
        still = resync_blockers(rules, refused)
    problems = []
    for txn in transactions:
        item = latest.get(txn.pk)
        problems.append(
            TransactionProblem(
                transaction=txn,
                message=(item.message if item else "") or txn.last_error,
                reason=item.get_refusal_display() if item and item.refusal else "",
                fix=_fix(item),
                still=still.get(txn.pk),
            )
        )
    return problems


def _failed_uploads(connection: XeroConnection) -> QuerySet[UploadRow]:
    """Recent uploads that failed and were not followed by a later upload of the contact."""
    since = timezone.now() - RECENT_UPLOAD
    later = UploadRow.objects.filter(
        connection=connection, contact=OuterRef("contact"), pk__gt=OuterRef("pk")
    )
    return UploadRow.objects.filter(
        connection=connection, updated_at__gte=since, state=UploadRow.State.FAILED
    ).exclude(Exists(later))


def contacts_with_problems(connection: XeroConnection | None) -> QuerySet[Contact]:
    """The contacts the Errors view lists, in name order: with a failed or refused
    transaction of the organisation, an invalid link there, or a failed latest upload."""
    has_problem = Q(Exists(_problem_transactions(connection).filter(contact=OuterRef("pk"))))
    if connection is not None:
        invalid = ContactLink.objects.invalid().filter(connection=connection)
        has_problem |= Q(Exists(invalid.filter(contact=OuterRef("pk"))))
        has_problem |= Q(Exists(_failed_uploads(connection).filter(contact=OuterRef("pk"))))
    return Contact.objects.filter(has_problem).order_by(Lower("name"), "pk")


def problems_by_contact(
    connection: XeroConnection | None, contacts: Iterable[Contact] | None = None
) -> list[ContactProblems]:
    """Everything to fix of these contacts (a page of contacts_with_problems; all of them
    when not given), one entry per contact, in contact name order."""
    chosen = list(contacts_with_problems(connection) if contacts is None else contacts)
    groups = {contact.pk: ContactProblems(contact=contact) for contact in chosen}
    for problem in problem_transactions(connection, groups):
        groups[problem.transaction.contact_id].transactions.append(problem)
    if connection is not None and groups:
        counts = (
            _problem_transactions(connection)
            .filter(contact_id__in=list(groups))
            .values("contact_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for count in counts:
            groups[count["contact_id"]].more = count["n"]
        for link in ContactLink.objects.invalid().filter(
            connection=connection, contact_id__in=list(groups)
        ):
            groups[link.contact_id].link = link
        for row in _failed_uploads(connection).filter(contact_id__in=list(groups)):
            groups[row.contact_id].upload = row
    for group in groups.values():
        group.more = max(group.more - len(group.transactions), 0)
    return [groups[contact.pk] for contact in chosen]


def unmirrored_contacts(connection: XeroConnection | None) -> list[UnmirroredContact]:
    """The organisation's Xero contacts the mirror could not store, and why."""
    if connection is None:
        return []
    return list(UnmirroredContact.objects.filter(connection=connection))


def problems_count(connection: XeroConnection | None) -> int:
    """How many problems the Errors view lists, for the badge on the dashboard: failed or
    refused transactions, invalid links and Xero contacts not mirrored (one query)."""
    transactions = _problem_transactions(connection).values("pk")
    links_ = ContactLink.objects.invalid().filter(connection=connection).values("pk")
    unmirrored = UnmirroredContact.objects.filter(connection=connection).values("pk")
    return transactions.union(links_, unmirrored, all=True).count()


# --- Re-sync and the fixes in bulk -------------------------------------------------------------


def resync_ready(*, connection: XeroConnection, contact_id: int) -> tuple[list[int], list[Refusal]]:
    """The contact's refused transactions in the organisation whose cause is gone (their ids),
    and what still stops the others."""
    refused = list(
        _problem_transactions(connection)
        .filter(contact_id=contact_id, sync_state=SyncState.REFUSED)
        .select_related("contact")
        .prefetch_related("lines")
    )
    blockers = resync_blockers(Rules(connection), refused)
    ready = [pk for pk, refusal in blockers.items() if refusal is None]
    return ready, [refusal for refusal in blockers.values() if refusal is not None]


class FixAction(StrEnum):
    """What the Errors view does to the contacts selected there (the contacts tab's own)."""

    RELINK = "relink"  # to the survivor of a merge
    UPLOAD = "upload"
    UNLINK = "unlink"


@dataclass(frozen=True)
class FixOutcome:
    contact: Contact
    done: bool
    message: str  # what was done, or why it was skipped


def errors_fix(
    *,
    connection: XeroConnection,
    contacts: list[Contact],
    action: FixAction,
    user: Actor,
) -> list[FixOutcome]:
    """Relink, upload or unlink each contact through the services the contacts tab uses; one
    that cannot be is skipped with why, and never stops the others."""
    if action == FixAction.UPLOAD:
        return _upload(connection, contacts, user)
    found = {
        link.contact_id: link
        for link in ContactLink.objects.filter(
            connection=connection, contact__in=contacts
        ).select_related("contact", "connection")
    }
    outcomes = []
    for contact in contacts:
        link = found.get(contact.pk)
        try:
            if link is None:
                outcomes.append(FixOutcome(contact, False, "It has no linked contact."))
            elif action == FixAction.UNLINK:
                contact_unlink(contact=contact, connection=connection, user=user)
                outcomes.append(FixOutcome(contact, True, f"Unlinked from {link.xero_name}."))
            elif link.invalid_reason != InvalidReason.MERGED:
                why = (
                    f"its link is valid ({link.xero_name})"
                    if link.status == LinkStatus.VALID
                    else link.invalid_message
                )
                outcomes.append(
                    FixOutcome(contact, False, f"Not linked to a merged Xero contact: {why}")
                )
            else:
                new = links.link_relink_to_survivor(link=link, user=user)
                outcomes.append(FixOutcome(contact, True, f"Now linked to {new.xero_name}."))
        except UserFacingError as error:
            outcomes.append(FixOutcome(contact, False, str(error)))
    return outcomes


UPLOAD_OUTCOMES = {
    UploadRow.State.DONE: (True, "Uploaded to Xero and linked."),
    UploadRow.State.QUEUED: (True, "Being uploaded in the background."),
    UploadRow.State.SENDING: (True, "Being uploaded in the background."),
    UploadRow.State.DUPLICATE: (False, "Xero likely has this contact already."),
    UploadRow.State.FAILED: (False, "Xero did not take it."),
    UploadRow.State.SKIPPED: (False, "Nothing to upload."),
}


def _upload(
    connection: XeroConnection, contacts: list[Contact], user: Actor | None
) -> list[FixOutcome]:
    job = uploads.contacts_upload(connection=connection, contacts=contacts, user=user)
    rows = {row.contact_id: row for row in job.rows.all()}
    outcomes = []
    for contact in contacts:
        row = rows[contact.pk]
        done, said = UPLOAD_OUTCOMES[UploadRow.State(row.state)]
        if row.state == UploadRow.State.DUPLICATE and row.suggested_name:
            said = f"Xero likely has it already as {row.suggested_name}: link that one on its row."
        elif row.message and not done:
            said = row.message
        outcomes.append(FixOutcome(contact, done, said))
    return outcomes
