"""What needs fixing before everything can go to Xero, in one place: transactions that failed
or were refused, links gone invalid, contact uploads that failed; grouped by contact."""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from transactions.models import SyncState, Transaction

from .documents import contacts_url
from .models import RECENT_UPLOAD, ContactLink, SyncItem, UploadRow, XeroConnection
from .transaction_orgs import for_organisation
from .views import TABS

PROBLEM_STATES = [SyncState.FAILED, SyncState.REFUSED]
LINK_REFUSALS = {SyncItem.Refusal.UNLINKED, SyncItem.Refusal.INVALID_LINK}


@dataclass(frozen=True)
class TransactionProblem:
    transaction: Transaction
    message: str
    reason: str  # the refusal's label; empty for a failure
    fix_label: str
    fix_url: str


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

    @property
    def contact_url(self) -> str:
        return contact_row_url(self.contact)


def contact_row_url(contact: Contact) -> str:
    """The contact's row on its Customers (or else Suppliers) subtab."""
    tab, subtab = ("sales", "customers") if contact.is_customer else ("purchases", "suppliers")
    base = reverse("sync:subtab", kwargs={"tab": tab, "subtab": subtab})
    return f"{base}?{urlencode({'show': 'all', 'q': contact.name})}#contact-{contact.pk}"


def transactions_url(transaction: Transaction) -> str:
    """The transaction's row on its subtab."""
    for tab, (_, subtabs) in TABS.items():
        for subtab in subtabs:
            if subtab.transaction_type == transaction.type:
                base = reverse("sync:subtab", kwargs={"tab": tab, "subtab": subtab.slug})
                query = urlencode({"q": transaction.number})
                return f"{base}?{query}#transaction-{transaction.pk}"
    return reverse("sync:dashboard")


def _fix(transaction: Transaction, item: SyncItem | None) -> tuple[str, str]:
    refusal = item.refusal if item else ""
    if refusal in LINK_REFUSALS:
        return "Fix the link", contacts_url(transaction)
    if refusal in (SyncItem.Refusal.ACCOUNT, SyncItem.Refusal.TAX):
        return "Check the account mapping", reverse("sync:admin_tab") + "#mapping"
    return "See the transaction", transactions_url(transaction)


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
        label, url = _fix(txn, item)
        problems.append(
            TransactionProblem(
                transaction=txn,
                message=(item.message if item else "") or txn.last_error,
                reason=item.get_refusal_display() if item and item.refusal else "",
                fix_label=label,
                fix_url=url,
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


def problems_count(connection: XeroConnection | None) -> int:
    """How many problems the Errors view lists, for the badge on the dashboard: failed or
    refused transactions, and invalid links (one query)."""
    transactions = for_organisation(
        Transaction.objects.filter(sync_state__in=PROBLEM_STATES), connection
    ).values("pk")
    links = ContactLink.objects.invalid().filter(connection=connection).values("pk")
    return transactions.union(links, all=True).count()
