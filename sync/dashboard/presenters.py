"""What the pages make of what the domain returns: where each problem is fixed, as a link
and in words. Domain modules return codes and objects; only views, templates and template
tags (through this module) turn them into URLs and place names."""

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from contacts.models import Contact
from sync import xero
from sync.dashboard.tabs import TABS
from sync.models import PAYMENTS, ContactLink, InvalidReason, Notification, SyncItem
from sync.syncing.errors import Fix, TransactionProblem
from sync.syncing.log import DayOutcomes
from sync.syncing.refusals import DOCUMENT_TYPES
from transactions.models import Transaction

ANGLE = "\N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}"


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def _contacts_tab(sales: bool) -> str:
    return "sales" if sales else "purchases"


def contacts_place(*, sales: bool) -> str:
    """A contacts subtab's name as the tabs show it: Sales, then Customers."""
    tab = _contacts_tab(sales)
    label, subtabs = TABS[tab]
    return f"{label} {ANGLE} {subtabs[0].label}"


def xero_contact_url(xero_contact_id: object) -> str:
    """The Xero contact's own page in Xero, where an archived contact is restored."""
    return xero_deep_link(XeroObject.CONTACT, str(xero_contact_id))


def contact_row_url(contact: Contact, *, sales: bool | None = None) -> str:
    """The contact's row on its Customers (or else Suppliers) subtab, among all contacts (the
    default list leaves out those whose transactions are all refused)."""
    tab = _contacts_tab(contact.is_customer if sales is None else sales)
    base = reverse("sync:subtab", kwargs={"tab": tab, "subtab": TABS[tab][1][0].slug})
    return f"{base}?{urlencode({'show': 'all', 'q': contact.name})}#contact-{contact.pk}"


def transaction_row_url(transaction: Transaction) -> str:
    """The transaction's row on its subtab."""
    for tab, (_, subtabs) in TABS.items():
        for subtab in subtabs:
            if subtab.transaction_type == transaction.type:
                base = reverse("sync:subtab", kwargs={"tab": tab, "subtab": subtab.slug})
                query = urlencode({"q": transaction.number})
                return f"{base}?{query}#transaction-{transaction.pk}"
    return reverse("sync:dashboard")


def refusal_fix(transaction: Transaction, refusal: str) -> Link | None:
    """The way out of a link refusal, next to its message: the contact's row, named by the
    subtab it is on ("Link Kea Outfitters on" the subtab); None for other refusals."""
    url = contact_row_url(transaction.contact, sales=transaction.is_sales)
    if refusal == SyncItem.Refusal.UNLINKED:
        place = contacts_place(sales=transaction.is_sales)
        return Link(f"Link {transaction.contact.name} on {place}", url)
    if refusal == SyncItem.Refusal.INVALID_LINK:
        return Link("Fix the link", url)
    return None


def problem_fix(problem: TransactionProblem) -> Link:
    """Where the Errors view sends someone to fix a failed or refused transaction."""
    transaction = problem.transaction
    if problem.fix == Fix.LINK:
        place = contacts_place(sales=transaction.is_sales)
        url = contact_row_url(transaction.contact, sales=transaction.is_sales)
        return Link(f"Fix the link on {place}", url)
    if problem.fix == Fix.MAPPING:
        return Link("Check the account mapping", reverse("sync:admin_tab") + "#mapping")
    if problem.fix == Fix.SETTINGS:
        return Link("Check the settings", reverse("sync:admin_tab"))
    return Link("See the transaction", transaction_row_url(transaction))


# --- Jobs' summaries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSummary:
    """How a job ended, in words: "Upload finished", a line of counts per kind of item, and
    the link to its details."""

    title: str
    lines: list[str]
    link: Link


def _type_place(transaction_type: str) -> str:
    """A transaction type as its subtab names it ("Bills"), with the tab where two subtabs
    share a name ("Sales credit notes")."""
    if transaction_type == PAYMENTS:
        return "Payments"
    labels = [sub.label for _, subs in TABS.values() for sub in subs]
    for tab_label, subs in TABS.values():
        for sub in subs:
            if sub.transaction_type == transaction_type:
                if labels.count(sub.label) > 1:
                    return f"{tab_label} {sub.label.lower()}"
                return sub.label
    return transaction_type


def job_summary(*, kind: str, job_id: int, state: str, counts: dict[str, Any]) -> JobSummary:
    """The words and the link for a job that ended, from its counts (a notification's, or the
    job's own as it ends under a progress bar)."""
    ended = "stopped" if state == "stopped" else "finished"
    if kind == Notification.Kind.SYNC:
        lines = []
        for transaction_type, n in sorted(counts.items(), key=lambda kv: _type_place(kv[0])):
            said = f"{n.get('synced', 0)} synced, {n.get('refused', 0)} refused, "
            said += f"{n.get('failed', 0)} failed"
            if n.get("skipped"):
                said += f", {n['skipped']} not sent"
            lines.append(f"{_type_place(transaction_type)}: {said}")
        url = reverse("sync:sync_run", kwargs={"pk": job_id})
        return JobSummary(f"Sync {ended}", lines, Link("See the sync's transactions", url))
    said = f"{counts.get('done', 0)} uploaded, {counts.get('failed', 0)} failed"
    if counts.get("duplicate"):
        said += f", {counts['duplicate']} likely in Xero already"
    if counts.get("skipped"):
        said += f", {counts['skipped']} with nothing to upload"
    url = reverse("sync:upload_detail", kwargs={"pk": job_id})
    return JobSummary(f"Upload {ended}", [f"Contacts: {said}"], Link("See each contact", url))


def notification_summary(notification: Notification) -> JobSummary:
    return job_summary(
        kind=notification.kind,
        job_id=notification.job_id,
        state=notification.state,
        counts=notification.counts,
    )


# --- Link health and the sync chart ------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    label: str
    n: int
    url: str


@dataclass(frozen=True)
class Bar:
    """One outcome's part of a day's bar, in the chart's units (SVG user units)."""

    outcome: str
    n: int
    y: float
    height: float


@dataclass(frozen=True)
class DayBar:
    day: date
    x: float
    total: int
    parts: list[Bar]


CHART_HEIGHT, BAR_WIDTH, BAR_GAP = 100.0, 10.0, 4.0


def link_health_counts(base: str, counts: dict[str, int]) -> list[Count]:
    """The counts above a contacts subtab, each a link to the list filtered to exactly those
    contacts (the link filters of SyncContactQuerySet; all contacts but for the unlinked
    ones, counted among those with a transaction ready to sync, the list's default)."""
    wanted = [
        ("linked", "Linked", {"show": "all", "linked": "linked"}),
        ("unlinked_ready", "Unlinked, with transactions ready", {"linked": "unlinked"}),
        ("changed", "Changed since upload", {"show": "all", "linked": "changed"}),
        ("archived", "Invalid: archived", {"show": "all", "linked": "archived"}),
        ("deleted", "Invalid: deleted", {"show": "all", "linked": "deleted"}),
        ("merged", "Invalid: merged", {"show": "all", "linked": "merged"}),
        ("gdpr", "Invalid: GDPR request", {"show": "all", "linked": "gdpr"}),
    ]
    return [
        Count(label, counts.get(key, 0), f"{base}?{urlencode(query)}")
        for key, label, query in wanted
        if key in counts
    ]


def sync_chart(days: list[DayOutcomes]) -> list[DayBar]:
    """Each day's stacked bar (synced at the bottom, then refused, then failed), scaled so
    that the busiest day fills the chart's height."""
    tallest = max((day.total for day in days), default=0) or 1
    bars = []
    for index, day in enumerate(days):
        top = CHART_HEIGHT
        parts = []
        for outcome in ("synced", "refused", "failed"):
            n = getattr(day, outcome)
            height = CHART_HEIGHT * n / tallest
            top -= height
            if n:
                parts.append(Bar(outcome, n, round(top, 2), round(height, 2)))
        bars.append(DayBar(day.day, index * (BAR_WIDTH + BAR_GAP), day.total, parts))
    return bars


# --- Open in Xero ------------------------------------------------------------------------------


class XeroObject(StrEnum):
    """What a deep link opens in Xero: a contact, or one of the documents omni-xero sends."""

    CONTACT = "contact"
    INVOICE = "invoice"  # ACCREC
    BILL = "bill"  # ACCPAY
    CREDIT_NOTE = "credit_note"  # ACCRECCREDIT and ACCPAYCREDIT alike
    PURCHASE_ORDER = "purchase_order"


XERO_APP = "https://go.xero.com"
# Xero's documented deep links (https://developer.xero.com/documentation/api-guides/deep-link-xero),
# each the page that shows one object by its Xero ID.
XERO_PAGES = {
    XeroObject.CONTACT: "/Contacts/View/{id}",
    XeroObject.INVOICE: "/AccountsReceivable/View.aspx?InvoiceID={id}",
    XeroObject.BILL: "/AccountsPayable/Edit.aspx?InvoiceID={id}",
    XeroObject.CREDIT_NOTE: "/AccountsPayable/ViewCreditNote.aspx?creditNoteID={id}",
    XeroObject.PURCHASE_ORDER: "/Accounts/Payable/PurchaseOrders/View/{id}/",
}


def xero_deep_link(kind: XeroObject, xero_id: uuid.UUID | str, *, short_code: str = "") -> str:
    """The page in Xero that shows the object. With the organisation's ShortCode (from GET
    /Organisation) the link first switches to that organisation; without it, Xero opens the
    object in the organisation the person has open."""
    page = XERO_PAGES[kind].format(id=uuid.UUID(str(xero_id)))
    if not short_code:
        return f"{XERO_APP}{page}"
    query = urlencode({"shortcode": short_code, "redirecturl": page})
    return f"{XERO_APP}/organisationlogin/default.aspx?{query}"


def document_kind(transaction_type: str) -> XeroObject:
    """The Xero object a transaction type becomes (sync.syncing.refusals.DOCUMENT_TYPES)."""
    kind, document_type = DOCUMENT_TYPES[transaction_type]
    if kind == xero.DocumentKind.INVOICE:
        return XeroObject.BILL if document_type == "ACCPAY" else XeroObject.INVOICE
    if kind == xero.DocumentKind.CREDIT_NOTE:
        return XeroObject.CREDIT_NOTE
    return XeroObject.PURCHASE_ORDER


@dataclass(frozen=True)
class XeroLink:
    url: str
    name: str  # the object, as the link's accessible name says it: "Sales invoice INV-1"


def open_in_xero(thing: object) -> XeroLink | None:
    """Where a linked Xero contact, a synced transaction or a sync log line with its Xero ID
    opens in Xero; None when it has no Xero object (yet)."""
    if isinstance(thing, ContactLink):
        if thing.invalid_reason == InvalidReason.DELETED:
            return None  # Xero has no page for it any more
        return XeroLink(xero_deep_link(XeroObject.CONTACT, thing.xero_contact_id), thing.xero_name)
    if isinstance(thing, SyncItem):
        transaction, xero_id = thing.transaction, thing.xero_id
        number = thing.xero_number or transaction.number
    elif isinstance(thing, Transaction):
        transaction, xero_id, number = thing, thing.xero_id, thing.xero_number or thing.number
    else:
        raise TypeError(f"No Xero page for {type(thing).__name__}")
    if xero_id is None:
        return None
    url = xero_deep_link(document_kind(transaction.type), xero_id)
    return XeroLink(url, f"{transaction.get_type_display()} {number}")


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    total: Any  # Decimal
    count: int


def totals_by_currency(transactions: Any) -> list[CurrencyTotal]:
    """The totals of the transactions shown, one per currency (never added across
    currencies), from the lines the page has loaded already: no query more."""
    sums: dict[str, tuple[Any, int]] = {}
    for txn in transactions:
        total, count = sums.get(txn.currency, (0, 0))
        sums[txn.currency] = (total + txn.totals.total, count + 1)
    return [CurrencyTotal(c, total, n) for c, (total, n) in sorted(sums.items())]
