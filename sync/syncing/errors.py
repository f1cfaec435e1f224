"""What needs fixing before everything can go to Xero, in one place: transactions that failed
or were refused, links gone invalid, contact uploads that failed, grouped by contact; and the
Xero contacts the mirror could not store."""

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils import timezone

from contacts.models import Contact
from sync.models import (
    RECENT_UPLOAD,
    ContactLink,
    SyncItem,
    UnmirroredContact,
    UploadRow,
    XeroConnection,
)
from sync.syncing.organisations import for_organisation
from transactions.models import SyncState, Transaction

PROBLEM_STATES = [SyncState.FAILED, SyncState.REFUSED]
LINK_REFUSALS = {SyncItem.Refusal.UNLINKED, SyncItem.Refusal.INVALID_LINK}


class Fix(StrEnum):
    """Where a transaction's problem is fixed (the pages turn it into words and a link)."""

    LINK = "link"  # its contact's link, on the contact's row
    MAPPING = "mapping"  # the account mapping, on the Admin tab
    TRANSACTION = "transaction"  # the transaction itself, on its subtab


@dataclass(frozen=True)
class TransactionProblem:
    transaction: Transaction
    message: str
    reason: str  # the refusal's label; empty for a failure
    fix: Fix


@dataclass
class ContactProblems:
    contact: Contact
    transactions: list[TransactionProblem] = field(default_factory=list)
    link: ContactLink | None = None  # set when the link is invalid
    upload: UploadRow | None = None  # set when its latest upload failed

    @property
    def refused(self) -> list[Transaction]:
        return [
            p.transaction
            for p in self.transactions
            if p.transaction.sync_state == SyncState.REFUSED
        ]


def _fix(item: SyncItem | None) -> Fix:
    refusal = item.refusal if item else ""
    if refusal in LINK_REFUSALS:
        return Fix.LINK
    if refusal in (SyncItem.Refusal.ACCOUNT, SyncItem.Refusal.TAX):
        return Fix.MAPPING
    return Fix.TRANSACTION


def problem_transactions(connection: XeroConnection | None) -> list[TransactionProblem]:
    """The organisation's failed or refused transactions, each with its latest sync item's
    message and reason there."""
    transactions = list(
        for_organisation(Transaction.objects.filter(sync_state__in=PROBLEM_STATES), connection)
        .select_related("contact")
        .order_by("contact__name", "contact_id", "date", "number")
    )
    latest: dict[int, SyncItem] = {}
    if connection is not None and transactions:
        for found in SyncItem.objects.filter(
            connection=connection,
            transaction_id__in=[t.pk for t in transactions],
            state__in=[SyncItem.State.FAILED, SyncItem.State.REFUSED],
        ).order_by("pk"):
            latest[found.transaction_id] = found
    problems = []
    for txn in transactions:
        item = latest.get(txn.pk)
        problems.append(
            TransactionProblem(
                transaction=txn,
                message=(item.message if item else "") or txn.last_error,
                reason=item.get_refusal_display() if item and item.refusal else "",
                fix=_fix(item),
            )
        )
    return problems


def _failed_uploads(connection: XeroConnection) -> list[UploadRow]:
    """Recent uploads that failed and were not followed by a later upload of the contact."""
    since = timezone.now() - RECENT_UPLOAD
    rows = UploadRow.objects.filter(connection=connection, updated_at__gte=since).order_by("pk")
    last: dict[int, UploadRow] = {}
    for row in rows.select_related("contact"):
        last[row.contact_id] = row
    return [row for row in last.values() if row.state == UploadRow.State.FAILED]


def problems_by_contact(connection: XeroConnection | None) -> list[ContactProblems]:
    """Everything to fix, one entry per contact, in contact name order."""
    groups: dict[int, ContactProblems] = {}

    def group(contact: Contact) -> ContactProblems:
        return groups.setdefault(contact.pk, ContactProblems(contact=contact))

    for problem in problem_transactions(connection):
        group(problem.transaction.contact).transactions.append(problem)
    if connection is not None:
        for link in (
            ContactLink.objects.invalid().filter(connection=connection).select_related("contact")
        ):
            group(link.contact).link = link
        for row in _failed_uploads(connection):
            group(row.contact).upload = row
    return sorted(groups.values(), key=lambda g: (g.contact.name.casefold(), g.contact.pk))


def unmirrored_contacts(connection: XeroConnection | None) -> list[UnmirroredContact]:
    """The organisation's Xero contacts the mirror could not store, and why."""
    if connection is None:
        return []
    return list(UnmirroredContact.objects.filter(connection=connection))


def problems_count(connection: XeroConnection | None) -> int:
    """How many problems the Errors view lists, for the badge on the dashboard: failed or
    refused transactions, invalid links and Xero contacts not mirrored (one query)."""
    transactions = for_organisation(
        Transaction.objects.filter(sync_state__in=PROBLEM_STATES), connection
    ).values("pk")
    links = ContactLink.objects.invalid().filter(connection=connection).values("pk")
    unmirrored = UnmirroredContact.objects.filter(connection=connection).values("pk")
    return transactions.union(links, unmirrored, all=True).count()
