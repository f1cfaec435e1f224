"""What the pages make of what the domain returns: where each problem is fixed, as a link
and in words. Domain modules return codes and objects; only views, templates and template
tags (through this module) turn them into URLs and place names."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from contacts.models import Contact
from sync.dashboard.tabs import TABS
from sync.models import SyncItem
from sync.syncing.errors import Fix, TransactionProblem
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
