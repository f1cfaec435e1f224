"""What an Omni transaction becomes in Xero, and what stops it from going.

Each transaction type maps to one Xero document (a sales invoice to an ACCREC invoice, a bill
to an ACCPAY invoice, and so on). Its Omni number goes in the document's number field, by
which the document is found again. Before anything is sent, a transaction is refused, with
the reason and the way out, when its contact has no valid link, or when a line's account is
archived or missing or its tax type does not exist in the organisation.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction as db_transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from sync import xero
from sync.connections import services as connections
from sync.models import (
    AccountMapping,
    ChartAccount,
    ContactLink,
    InvalidReason,
    LinkStatus,
    SyncItem,
    SyncSettings,
    TaxRate,
    XeroConnection,
    XeroContact,
    fitted,
)
from transactions.models import LineItem, Transaction, TransactionQuerySet, TransactionType

# Transaction type → (Xero collection, Xero Type).
DOCUMENT_TYPES: dict[str, tuple[xero.DocumentKind, str]] = {
    TransactionType.SALES_INVOICE: (xero.DocumentKind.INVOICE, "ACCREC"),
    TransactionType.SALES_CREDIT_NOTE: (xero.DocumentKind.CREDIT_NOTE, "ACCRECCREDIT"),
    TransactionType.SUPPLIER_INVOICE: (xero.DocumentKind.INVOICE, "ACCPAY"),
    TransactionType.SUPPLIER_CREDIT_NOTE: (xero.DocumentKind.CREDIT_NOTE, "ACCPAYCREDIT"),
    TransactionType.PURCHASE_ORDER: (xero.DocumentKind.PURCHASE_ORDER, ""),
}

ARCHIVED_IN_XERO = "has been archived"  # in Xero's message for an archived or merged contact


@dataclass(frozen=True)
class Refusal:
    code: str  # a SyncItem.Refusal
    message: str


def link_refusal(link_status: str | None) -> str | None:
    """Whether a transaction can go, as far as its contact decides: None when the contact's
    link in the organisation is valid, else the refusal (UNLINKED: `link_status` None, no
    link). The one rule; `contact_can_go` is the same in SQL, for lists and counts."""
    if link_status is None:
        return SyncItem.Refusal.UNLINKED
    if link_status != LinkStatus.VALID:
        return SyncItem.Refusal.INVALID_LINK
    return None


def contact_can_go(connection: XeroConnection) -> Exists:
    """`link_refusal` in SQL, on transactions: their contact has a valid link there."""
    return Exists(
        ContactLink.objects.filter(
            contact=OuterRef("contact"), connection=connection, status=LinkStatus.VALID
        )
    )


def with_contact_link[T: QuerySet[Transaction]](transactions: T, connection: XeroConnection) -> T:
    """Annotate `link_status` and `link_invalid_reason`: the contact's link in the
    organisation (None: no link), in the list's own query, for `link_refusal`."""
    link = ContactLink.objects.filter(contact=OuterRef("contact"), connection=connection)
    return transactions.annotate(
        link_status=Subquery(link.values("status")[:1]),
        link_invalid_reason=Subquery(link.values("invalid_reason")[:1]),
    )


@dataclass(frozen=True)
class ReadyCount:
    can_go: int
    blocked: int  # by their contact: no valid link


def ready_count(transactions: TransactionQuerySet, connection: XeroConnection) -> ReadyCount:
    """How many of these transactions are ready to sync and can go, and how many their
    contact blocks, in two counts on indexes: all of them, and those whose contact has no
    valid link (the organisation's valid links read once, not once per transaction)."""
    ready = transactions.ready_to_sync()
    valid = ContactLink.objects.filter(connection=connection, status=LinkStatus.VALID)
    total = ready.count()
    blocked = ready.exclude(contact_id__in=valid.values("contact_id")).count()
    return ReadyCount(total - blocked, blocked)


class Rules:
    """What one organisation accepts, read once for a batch: links, accounts, tax rates and
    the admin's mapping."""

    def __init__(self, connection: XeroConnection):
        self.connection = connection
        self.settings = SyncSettings.for_connection(connection)
        self.mappings = {
            m.transaction_type: m for m in AccountMapping.objects.filter(connection=connection)
        }
        self.accounts = {a.code: a for a in ChartAccount.objects.filter(connection=connection)}
        self.tax_rates = {t.tax_type: t for t in TaxRate.objects.filter(connection=connection)}
        self._links: dict[int, ContactLink | None] = {}

    def link(self, transaction: Transaction) -> ContactLink | None:
        if transaction.contact_id not in self._links:
            self._links[transaction.contact_id] = ContactLink.objects.filter(
                contact_id=transaction.contact_id, connection=self.connection
            ).first()
        return self._links[transaction.contact_id]

    def links_load(self, contact_ids: Iterable[int]) -> None:
        """Read these contacts' links in one query (for a page of them)."""
        wanted = set(contact_ids) - set(self._links)
        found = ContactLink.objects.filter(contact_id__in=wanted, connection=self.connection)
        self._links |= dict.fromkeys(wanted) | {link.contact_id: link for link in found}

    def forget(self, contact_id: int) -> None:
        self._links.pop(contact_id, None)

    def codes(self, transaction: Transaction, line: LineItem) -> tuple[str, str]:
        """The account code and tax type a line goes to Xero with."""
        mapping = self.mappings.get(transaction.type)
        account = (mapping.account_code if mapping else "") or line.account_code
        tax = (mapping.tax_type if mapping else "") or line.tax_type
        return account, tax

    def refusal(self, transaction: Transaction) -> Refusal | None:
        """Why the transaction cannot go to Xero now (None: it can)."""
        contact = transaction.contact
        link = self.link(transaction)
        by_contact = link_refusal(link.status if link else None)
        if link is None:
            return Refusal(
                SyncItem.Refusal.UNLINKED,
                # Where to link it is said, and linked to, where the refusal is shown.
                f"{contact.name} isn't linked to a Xero contact.",
            )
        if by_contact is not None:
            return Refusal(by_contact, _invalid(link))
        for line in transaction.lines.all():
            account_code, tax_type = self.codes(transaction, line)
            account = self.accounts.get(account_code)
            if account is None:
                return Refusal(
                    SyncItem.Refusal.ACCOUNT,
                    f"Account code {account_code!r} (line “{line.description[:60]}”) is not "
                    "in the organisation's chart of accounts. Fix the line in Omni or the "
                    "account mapping on the Admin tab.",
                )
            if not account.is_active:
                return Refusal(
                    SyncItem.Refusal.ACCOUNT,
                    f"Account {account} (line “{line.description[:60]}”) is archived in "
                    "Xero. Restore it in Xero, or map this type to another account on the "
                    "Admin tab.",
                )
            rate = self.tax_rates.get(tax_type)
            if rate is None or not rate.is_active:
                return Refusal(
                    SyncItem.Refusal.TAX,
                    f"Tax type {tax_type!r} (line “{line.description[:60]}”) does not exist "
                    "in the organisation's tax rates. Fix the line in Omni or the tax "
                    "mapping on the Admin tab.",
                )
        return None

    def upload(self, transaction: Transaction) -> xero.DocumentUpload:
        """The document Xero is sent for a transaction (an update when it has its Xero ID)."""
        link = self.link(transaction)
        assert link is not None  # refusal() came first
        kind, doc_type = DOCUMENT_TYPES[transaction.type]
        lines = []
        for line in transaction.lines.all():
            account_code, tax_type = self.codes(transaction, line)
            lines.append(
                xero.DocumentLine(
                    description=line.description,
                    quantity=line.quantity,
                    unit_amount=line.unit_price,
                    account_code=account_code,
                    tax_type=tax_type,
                )
            )
        return xero.DocumentUpload(
            kind=kind,
            type=doc_type,
            contact_id=link.xero_contact_id,
            number=transaction.number,
            reference=transaction.reference,
            date=transaction.date,
            due_date=transaction.due_date,
            currency=transaction.currency,
            line_amount_types=transaction.line_amount_type,
            status=self.settings.document_status,
            lines=tuple(lines),
            document_id=transaction.xero_id,
        )


def _invalid(link: ContactLink) -> str:
    """An invalid link's reason, naming the survivor of a merge when the mirror knows it."""
    if link.invalid_reason == InvalidReason.MERGED and link.merged_into_xero_contact_id:
        survivor = (
            XeroContact.objects.filter(
                connection_id=link.connection_id, contact_id=link.merged_into_xero_contact_id
            )
            .values_list("name", flat=True)
            .first()
        )
        if survivor:
            return (
                f"{link.xero_name} was merged into {survivor} in Xero. Relink to {survivor} "
                "in one click on the contact's row, or unlink and link another contact."
            )
    return link.invalid_message


# --- The organisation's accounts and tax rates ---------------------------------------------------


def settings_refresh(
    *, connection: XeroConnection, session: xero.Session | None = None
) -> tuple[int, int]:
    """Fetch the chart of accounts and the tax rates from Xero (2 calls) and keep them.

    Returns how many accounts and tax rates there are.
    """
    session = session or connections.session(connection)
    accounts = xero.accounts_list(session)
    rates = xero.tax_rates_list(session)
    account_fields = ["code", "name", "type", "status", "tax_type", "enable_payments"]
    rate_fields = ["name", "status", "rate", "can_apply_to_revenue", "can_apply_to_expenses"]
    with db_transaction.atomic():
        # One upsert for each list, not a read and a write per account: a run checks these
        # before it sends, for every organisation.
        ChartAccount.objects.bulk_create(
            [
                ChartAccount(
                    connection=connection,
                    account_id=account.account_id,
                    **fitted(ChartAccount, {f: getattr(account, f) for f in account_fields})[0],
                )
                for account in accounts
            ],
            update_conflicts=True,
            unique_fields=["connection", "account_id"],
            update_fields=account_fields,
        )
        ChartAccount.objects.filter(connection=connection).exclude(
            account_id__in=[account.account_id for account in accounts]
        ).delete()
        TaxRate.objects.bulk_create(
            [
                TaxRate(
                    connection=connection,
                    tax_type=rate.tax_type,
                    **fitted(TaxRate, {f: getattr(rate, f) for f in rate_fields})[0],
                )
                for rate in rates
            ],
            update_conflicts=True,
            unique_fields=["connection", "tax_type"],
            update_fields=rate_fields,
        )
        TaxRate.objects.filter(connection=connection).exclude(
            tax_type__in=[rate.tax_type for rate in rates]
        ).delete()
        SyncSettings.objects.update_or_create(
            connection=connection, defaults={"settings_refreshed_at": timezone.now()}
        )
    return len(accounts), len(rates)
