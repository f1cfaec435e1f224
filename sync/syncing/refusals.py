"""What an Omni transaction becomes in Xero, and what stops it from going.

Each transaction type maps to one Xero document (a sales invoice to an ACCREC invoice, a bill
to an ACCPAY invoice, and so on). Its Omni number goes in the document's number field, by
which the document is found again. Before anything is sent, a transaction is refused, with
the reason and the way out, when its contact has no valid link, when its currency is not
one the organisation takes (another than its base currency with multicurrency off; one it
does not use with it on: never converted), when its branch's tracking is archived or gone
in Xero, or when a line's account (the contact's alternative account, the type's mapping or
the line's own) is archived or missing or its tax type does not exist in the organisation.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction as db_transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from sync import xero
from sync.connections import services as connections
from sync.models import (
    AccountMapping,
    BranchTracking,
    ChartAccount,
    ContactLink,
    Currency,
    InvalidReason,
    LinkStatus,
    SyncItem,
    SyncSettings,
    TaxRate,
    TrackingCategory,
    TrackingOption,
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


@dataclass(frozen=True)
class SettingsFetched:
    """How many of each an organisation's settings refresh brought."""

    accounts: int
    tax_rates: int
    tracking_categories: int | None  # None: not fetched (no branch has tracking)
    currencies: int | None  # None: not fetched (multicurrency off)


@dataclass
class TrackingRules:
    """An organisation's tracking categories by name (casefolded), with their options' status:
    what decides whether lines may go with a tracking."""

    categories: dict[str, TrackingCategory] = field(default_factory=dict)
    options: dict[str, dict[str, str]] = field(default_factory=dict)  # name → option → status

    @classmethod
    def load(cls, connection: XeroConnection) -> "TrackingRules":
        """As last fetched (2 queries)."""
        rules = cls()
        found = TrackingCategory.objects.filter(connection=connection).prefetch_related("options")
        for category in found:
            key = category.name.casefold()
            rules.categories[key] = category
            rules.options[key] = {o.name.casefold(): o.status for o in category.options.all()}
        return rules

    def problem(self, tracking: xero.LineTracking) -> str | None:
        """Why Xero would refuse lines with this tracking (None: it would not): the category
        or the option is archived, or gone from the organisation's tracking."""
        key = tracking.category.casefold()
        category = self.categories.get(key)
        status = self.options.get(key, {}).get(tracking.option.casefold())
        if category is None:
            return (
                f"Tracking category {tracking.category!r} is not among the organisation's "
                "tracking categories (deleted in Xero?)."
            )
        if not category.is_active:
            return f"Tracking category {category.name} is archived in Xero."
        if status is None:
            return (
                f"Tracking option {tracking.option!r} is not an option of {category.name} in Xero."
            )
        if status != "ACTIVE":
            return f"Tracking option {category.name}: {tracking.option} is archived in Xero."
        return None


class Rules:
    """What one organisation accepts, read once for a batch: links, accounts, tax rates,
    currencies, tracking and the admin's mapping."""

    def __init__(self, connection: XeroConnection):
        self.connection = connection
        self.settings = SyncSettings.for_connection(connection)
        self.mappings = {
            m.transaction_type: m for m in AccountMapping.objects.filter(connection=connection)
        }
        self.accounts = {a.code: a for a in ChartAccount.objects.filter(connection=connection)}
        self.tax_rates = {t.tax_type: t for t in TaxRate.objects.filter(connection=connection)}
        self.currencies = set(
            Currency.objects.filter(connection=connection).values_list("code", flat=True)
        )
        self.branch_tracking = {b.branch: b for b in BranchTracking.objects.all()}
        self.tracking = TrackingRules.load(connection)
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
        """The account code and tax type a line goes to Xero with: the contact's alternative
        account (Omni's cost centre) first, then the type's mapping, then the line's own."""
        mapping = self.mappings.get(transaction.type)
        account = (
            transaction.contact.cost_center
            or (mapping.account_code if mapping else "")
            or line.account_code
        )
        tax = (mapping.tax_type if mapping else "") or line.tax_type
        return account, tax

    def _account_fix(self, transaction: Transaction) -> str:
        """Where the account a line goes with is set, to say how to fix it."""
        if transaction.contact.cost_center:
            return (
                f"It is {transaction.contact.name}'s alternative account (cost centre): fix it "
                "on the contact in Omni."
            )
        return "Fix the line in Omni or the account mapping on the Admin tab."

    def currency_refusal(self, transaction: Transaction) -> Refusal | None:
        """Why the organisation does not take the transaction's currency (None: it does, or
        its base currency is not known yet and Xero will say). Never converted."""
        currency, base = transaction.currency, self.connection.base_currency
        if not base or currency == base:
            return None
        if not self.settings.multicurrency:
            return Refusal(
                SyncItem.Refusal.CURRENCY,
                f"{transaction} is in {currency}, and the organisation's base currency is "
                f"{base}: omni-xero does not convert it. Turn on multicurrency on the Admin tab "
                "if the organisation uses Xero's multicurrency, or fix its currency in Omni.",
            )
        if currency not in self.currencies:
            return Refusal(
                SyncItem.Refusal.CURRENCY,
                f"The organisation does not use {currency} in Xero. Add the currency in Xero "
                "(its Currencies settings), then fetch the accounts and tax rates again on the "
                "Admin tab.",
            )
        return None

    def _rate(self, transaction: Transaction) -> Decimal | None:
        """The rate a document goes with: its own, for a foreign currency with multicurrency
        on (a document in the base currency has none: its rate is 1)."""
        foreign = transaction.currency != self.connection.base_currency
        return transaction.currency_rate if self.settings.multicurrency and foreign else None

    def line_tracking(self, transaction: Transaction) -> tuple[xero.LineTracking, ...]:
        """The tracking every line of the transaction goes with: its branch's, if mapped."""
        chosen = self.branch_tracking.get(transaction.branch) if transaction.branch else None
        if chosen is None:
            return ()
        return (xero.LineTracking(category=chosen.category, option=chosen.option),)

    def tracking_refusal(self, transaction: Transaction) -> Refusal | None:
        """Why the branch's tracking cannot go (None: it can, or the branch has none)."""
        for tracking in self.line_tracking(transaction):
            problem = self.tracking.problem(tracking)
            if problem is not None:
                return Refusal(
                    SyncItem.Refusal.TRACKING,
                    f"{problem} Map branch {transaction.branch} to an active option in the "
                    "admin (branches' tracking), or restore it in Xero and fetch the settings "
                    "again.",
                )
        return None

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
        by_setting = self.currency_refusal(transaction) or self.tracking_refusal(transaction)
        if by_setting is not None:
            return by_setting
        for line in transaction.lines.all():
            account_code, tax_type = self.codes(transaction, line)
            account = self.accounts.get(account_code)
            if account is None:
                return Refusal(
                    SyncItem.Refusal.ACCOUNT,
                    f"Account code {account_code!r} (line “{line.description[:60]}”) is not "
                    f"in the organisation's chart of accounts. {self._account_fix(transaction)}",
                )
            if not account.is_active:
                return Refusal(
                    SyncItem.Refusal.ACCOUNT,
                    f"Account {account} (line “{line.description[:60]}”) is archived in "
                    "Xero. Restore it in Xero, or "
                    + (
                        f"change {transaction.contact.name}'s alternative account (cost "
                        "centre) in Omni."
                        if transaction.contact.cost_center
                        else "map this type to another account on the Admin tab."
                    ),
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
        tracking = self.line_tracking(transaction)
        for line in transaction.lines.all():
            account_code, tax_type = self.codes(transaction, line)
            lines.append(
                xero.DocumentLine(
                    description=line.description,
                    quantity=line.quantity,
                    unit_amount=line.unit_price,
                    account_code=account_code,
                    tax_type=tax_type,
                    tracking=tracking,
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
            currency_rate=self._rate(transaction),
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


# --- The organisation's accounts, tax rates, tracking and currencies ---------------------------


def settings_refresh(
    *, connection: XeroConnection, session: xero.Session | None = None, tracking: bool = False
) -> SettingsFetched:
    """Fetch what the lines are checked against from Xero and keep it: the chart of
    accounts and the tax rates; the tracking categories when asked (the Admin tab's Fetch)
    or when a branch has tracking; the currencies with multicurrency on; the organisation's
    base currency while it is not known. 2 calls for an organisation that uses neither, as
    a sync's preparation must stay within a minute's quota; 5 at most. None of these takes
    If-Modified-Since but the accounts, and every one is short.
    """
    session = session or connections.session(connection)
    sync_settings = SyncSettings.for_connection(connection)
    base_currency = connection.base_currency
    if not base_currency:
        base_currency = xero.organisation_get(session).base_currency
    accounts = xero.accounts_list(session)
    rates = xero.tax_rates_list(session)
    categories = (
        xero.tracking_categories_list(session)
        if tracking or BranchTracking.objects.exists()
        else None
    )
    currencies = xero.currencies_list(session) if sync_settings.multicurrency else None
    with db_transaction.atomic():
        if base_currency != connection.base_currency:
            XeroConnection.objects.filter(pk=connection.pk).update(base_currency=base_currency)
            connection.base_currency = base_currency
        _accounts_keep(connection, accounts)
        _tax_rates_keep(connection, rates)
        if categories is not None:
            _tracking_keep(connection, categories)
        if currencies is not None:
            _currencies_keep(connection, currencies)
        SyncSettings.objects.update_or_create(
            connection=connection, defaults={"settings_refreshed_at": timezone.now()}
        )
    return SettingsFetched(
        accounts=len(accounts),
        tax_rates=len(rates),
        tracking_categories=None if categories is None else len(categories),
        currencies=None if currencies is None else len(currencies),
    )


def _accounts_keep(connection: XeroConnection, accounts: list[xero.XeroAccount]) -> None:
    """Keep the chart as Xero has it: one upsert for the list, not a read and a write per
    account (a run checks these before it sends, for every organisation)."""
    fields = ["code", "name", "type", "status", "tax_type", "enable_payments"]
    ChartAccount.objects.bulk_create(
        [
            ChartAccount(
                connection=connection,
                account_id=account.account_id,
                **fitted(ChartAccount, {f: getattr(account, f) for f in fields})[0],
            )
            for account in accounts
        ],
        update_conflicts=True,
        unique_fields=["connection", "account_id"],
        update_fields=fields,
    )
    ChartAccount.objects.filter(connection=connection).exclude(
        account_id__in=[account.account_id for account in accounts]
    ).delete()


def _tax_rates_keep(connection: XeroConnection, rates: list[xero.XeroTaxRate]) -> None:
    """Keep the tax rates as Xero has them, in one upsert."""
    fields = ["name", "status", "rate", "can_apply_to_revenue", "can_apply_to_expenses"]
    TaxRate.objects.bulk_create(
        [
            TaxRate(
                connection=connection,
                tax_type=rate.tax_type,
                **fitted(TaxRate, {f: getattr(rate, f) for f in fields})[0],
            )
            for rate in rates
        ],
        update_conflicts=True,
        unique_fields=["connection", "tax_type"],
        update_fields=fields,
    )
    TaxRate.objects.filter(connection=connection).exclude(
        tax_type__in=[rate.tax_type for rate in rates]
    ).delete()


def _tracking_keep(connection: XeroConnection, categories: list[xero.XeroTrackingCategory]) -> None:
    """Keep the categories and options as Xero has them; those it no longer returns were
    deleted there, and go here too."""
    seen = []
    for found in categories:
        category, _ = TrackingCategory.objects.update_or_create(
            connection=connection,
            category_id=found.category_id,
            defaults=fitted(TrackingCategory, {"name": found.name, "status": found.status})[0],
        )
        for option in found.options:
            category.options.update_or_create(
                option_id=option.option_id,
                defaults=fitted(TrackingOption, {"name": option.name, "status": option.status})[0],
            )
        category.options.exclude(option_id__in=[o.option_id for o in found.options]).delete()
        seen.append(found.category_id)
    TrackingCategory.objects.filter(connection=connection).exclude(category_id__in=seen).delete()


def _currencies_keep(connection: XeroConnection, currencies: list[xero.XeroCurrency]) -> None:
    for currency in currencies:
        Currency.objects.update_or_create(
            connection=connection,
            code=currency.code,
            defaults=fitted(Currency, {"description": currency.description})[0],
        )
    Currency.objects.filter(connection=connection).exclude(
        code__in=[c.code for c in currencies]
    ).delete()
