"""The dashboard's shell: its tabs and subtabs, the organisation shown, where an action
returns to. A leaf: every page's view imports it; it imports no view."""

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.core.paginator import Page, Paginator
from django.db.models import Max
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

from contacts.models import Contact
from sync import filters
from sync.models import LinkEvent, SyncContact, XeroConnection
from sync.notifications.services import notifications_shown
from sync.syncing.organisations import (
    other_organisations_known,
)
from transactions.models import TransactionType

# The organisation picked in the switcher, and when: {"pk": ..., "at": ISO time}.
ORGANISATION_CHOICE = "xero_organisation"
VIEWER_REASON = "Viewers can look but not change anything. Ask an admin to add you to Accountants."
NOT_CONNECTED_REASON = "Connect to Xero first: nothing can be linked or uploaded until then."


class DashboardRequest(HttpRequest):
    """A request as the dashboard sees it: with django-htmx's details (its middleware sets
    them on every request) and, once current_connection() has looked it up, the connection."""

    htmx: HtmxDetails
    _xero_connection: XeroConnection | None


@dataclass(frozen=True)
class Subtab:
    slug: str
    label: str
    transaction_type: str | None = None  # None: the tab's contact list (or its payments)
    payments: bool = False  # the list of the tab's payments


TABS: dict[str, tuple[str, list[Subtab]]] = {
    "sales": (
        "Sales",
        [
            Subtab("customers", "Customers"),
            Subtab("invoices", "Invoices", TransactionType.SALES_INVOICE),
            Subtab("credit-notes", "Credit notes", TransactionType.SALES_CREDIT_NOTE),
            Subtab("payments", "Payments", payments=True),
        ],
    ),
    "purchases": (
        "Purchases",
        [
            Subtab("suppliers", "Suppliers"),
            Subtab("orders", "Purchase orders", TransactionType.PURCHASE_ORDER),
            Subtab("bills", "Bills", TransactionType.SUPPLIER_INVOICE),
            Subtab("credit-notes", "Credit notes", TransactionType.SUPPLIER_CREDIT_NOTE),
            Subtab("payments", "Payments", payments=True),
        ],
    ),
}


def current_connection(request: DashboardRequest) -> XeroConnection | None:
    """The organisation the dashboard shows, looked up once per request."""
    if not hasattr(request, "_xero_connection"):
        request._xero_connection = chosen_connection(request)
    return request._xero_connection


def chosen_connection(request: DashboardRequest) -> XeroConnection | None:
    """The organisation picked in the switcher (or connected last in this session) while it
    is connected; otherwise XeroConnection.objects.current().

    A colleague connecting or reconnecting another organisation does not change it.
    """
    choice = getattr(request, "session", {}).get(ORGANISATION_CHOICE)
    if choice:
        chosen = XeroConnection.objects.usable().filter(pk=choice["pk"]).first()
        if chosen is not None:
            return chosen
    return XeroConnection.objects.current()


def subtab_of(tab: str, slug: str) -> Subtab:
    if tab not in TABS:
        raise Http404("No such tab")
    for subtab in TABS[tab][1]:
        if subtab.slug == slug:
            return subtab
    raise Http404("No such subtab")


def contacts_subtab(tab: str) -> Subtab:
    if tab not in TABS:
        raise Http404("No such tab")
    return TABS[tab][1][0]


def contact_in_tab(tab: str, pk: int) -> SyncContact:
    """The contact of a row action, if it is on this tab (404 otherwise)."""
    if tab not in TABS:
        raise Http404("No such tab")
    return get_object_or_404(SyncContact.objects.for_tab(tab), pk=pk)


def list_url(tab: str) -> str:
    return reverse("sync:subtab", kwargs={"tab": tab, "subtab": contacts_subtab(tab).slug})


def next_url(request: HttpRequest, fallback: str) -> str:
    """Where an action returns to: the page it was given as `next` (the list as it was:
    filters, sort, page), if that is a page of this site, else `fallback`. Every view that
    honours a `next` asks this: an off-site one (another host, `//host`, `\\host`, another
    scheme, http from an https page) is never followed."""
    url = request.POST.get("next") or request.GET.get("next", "")
    # A page, never a bare word: redirect() would take "-1" for the name of a URL pattern.
    page = url.startswith("/") or urlsplit(url).scheme in ("http", "https")
    if page and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback


def return_url(request: HttpRequest, tab: str) -> str:
    return next_url(request, list_url(tab))


def row_return(request: DashboardRequest, tab: str, contact: Contact) -> str:
    """Where one row's own action returns: for htmx, the row alone (swapped in place of the
    old one, with the action's messages in it), so the page, its scroll and its other rows
    stay; without JavaScript, the list it was on."""
    back = return_url(request, tab)
    if not request.htmx:
        return back
    row = reverse("sync:contact_row", kwargs={"tab": tab, "pk": contact.pk})
    return f"{row}?{urlencode({'next': back})}"


def why_disabled(request: HttpRequest, connection: XeroConnection | None) -> str:
    """Why the action buttons are disabled, in words for the user; empty when they are not."""
    if not request.user.has_perm("sync.use_dashboard"):
        return VIEWER_REASON
    return "" if connection else NOT_CONNECTED_REASON


def shell_context(
    request: DashboardRequest, tab: str, subtab: Subtab, *, notices: bool = True
) -> dict[str, Any]:
    """What the dashboard's shell shows: tabs, the organisation, and the person's unread
    notifications (marked read as they are shown; not on an htmx fragment, which shows
    none, nor with `notices=False`, on the page that lists them all)."""
    connection = current_connection(request)
    organisations = list(XeroConnection.objects.usable())
    if connection is not None:
        other_organisations_known(connection, organisations)
    return {
        "tabs": [(slug, label, subs[0].slug) for slug, (label, subs) in TABS.items()],
        "tab": tab,
        "tab_label": TABS[tab][0],
        "subtabs": TABS[tab][1],
        "subtab": subtab,
        "connection": connection,
        "organisations": organisations,
        "can_act": request.user.has_perm("sync.use_dashboard"),
        "mirrored": connection.xero_contacts.count() if connection else 0,
        "query": filters.one(filters.Search(label="Search"), request.GET, "q"),
        "notices": notifications_shown(user=request.user) if notices and not request.htmx else None,
    }


class PagePaginator(Paginator[Any]):
    """The pager of every list: its count reads no further than a few pages past the page
    asked for, so that a page costs what it shows however long the history (a count is as
    dear as the rows it counts). Below that bound it is exact; at it, `exact` is False and
    the pages say "more than" (`count` rows at least exist)."""

    LOOKAHEAD = 2  # pages counted beyond the one shown

    def __init__(self, object_list: Any, per_page: int, number: Any) -> None:
        super().__init__(object_list, per_page)
        asked = number if isinstance(number, int) and number > 0 else 1
        self.bound = (asked + self.LOOKAHEAD) * per_page + 1
        self.number_asked = number

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list
        if hasattr(rows, "query"):  # a queryset: COUNT(*) over at most `bound` rows, in no
            # order (sorting every row to count the first few would cost the whole history)
            return int(rows.order_by()[: self.bound].count())
        return min(len(rows), self.bound)

    @property
    def exact(self) -> bool:
        return self.count < self.bound

    @property
    def known(self) -> int:
        """How many rows there are at least: all of them when exact."""
        return self.count if self.exact else self.count - 1

    def page_asked(self) -> Page[Any]:
        return self.get_page(self.number_asked)


def page_of(rows: Any, per_page: int, number: Any) -> Page[Any]:
    """The page asked for of `rows` (a queryset, in its order), by the one pager."""
    return PagePaginator(rows, per_page, number).page_asked()


@dataclass(frozen=True)
class LiveCursor:
    """Where an open page's poller (sync.dashboard.live) starts from: what it has seen."""

    event: int  # the highest LinkEvent id of all: the page shows every link change up to it
    since: int  # when the page was made, in ms since the epoch: later notifications are news


def live_cursor() -> LiveCursor:
    """The cursor of a page made now (one query on the primary key), read before its rows
    are: a link that changes while they are read is sent again by the first poll."""
    last = LinkEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    return LiveCursor(event=last, since=int(timezone.now().timestamp() * 1000))


def row_tag(contact: Contact, *undo: int | None) -> str:
    """The extra tags that show a message on its contact's row rather than above the table,
    and offer Undo of the link events given (by pk) in it."""
    return " ".join([f"contact-{contact.pk}", undo_tag(*undo)]).strip()


def undo_tag(*undo: int | None) -> str:
    """The extra tags of a message that offers Undo of these link events (one click undoes
    them all: an Accept all's; None is no event); sync/_message.html shows the button while
    it may."""
    return " ".join(f"undo-{pk}" for pk in undo if pk is not None)


def message_row(message: Message) -> str:
    """The row tag of a message (row_tag without its Undo); empty for a general message."""
    tags = (message.extra_tags or "").split()
    return next((tag for tag in tags if tag.startswith("contact-")), "")


def message_undo(message: Message) -> list[int]:
    """The link events a message offers to undo (undo_tag), by pk."""
    tags = (message.extra_tags or "").split()
    return [int(tag[5:]) for tag in tags if tag.startswith("undo-") and tag[5:].isdigit()]


def messages_by_row[C: Contact](
    request: HttpRequest, contacts: list[C]
) -> tuple[list[tuple[C, list[Message]]], list[Message]]:
    """Each row with its own messages, and the rest (general, or for rows not on this page)."""
    by_tag: dict[str, list[Message]] = defaultdict(list)
    for message in messages.get_messages(request):
        by_tag[message_row(message)].append(message)
    rows = [(contact, by_tag.pop(row_tag(contact), [])) for contact in contacts]
    return rows, [message for group in by_tag.values() for message in group]
