"""What the pages make of what the domain returns: where each problem is fixed, as a link
and in words. Domain modules return codes and objects; only views, templates and template
tags (through this module) turn them into URLs and place names."""

import uuid
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlencode

from django.urls import reverse

from contacts.models import Contact
from sync import xero
from sync.dashboard.tabs import TABS
from sync.models import ContactLink, InvalidReason, SyncItem
from sync.syncing.errors import Fix, TransactionProblem
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


# Xero's page of one contact, in the organisation the person has open in Xero (a link naming
# the organisation needs its ShortCode, which omni-xero does not keep):
# https://developer.xero.com/documentation/api-guides/deep-link-xero
XERO_CONTACT_PAGE = "https://go.xero.com/Contacts/View/{}"


def xero_contact_url(xero_contact_id: object) -> str:
    """The Xero contact's own page in Xero, where an archived contact is restored."""
    return XERO_CONTACT_PAGE.format(xero_contact_id)


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
    return Link("See the transaction", transaction_row_url(transaction))


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
