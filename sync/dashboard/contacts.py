"""The Accounting → Xero integration dashboard: Sales and Purchases tabs and their subtabs."""

import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.messages.storage.base import Message
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from sync import filters
from sync.dashboard.tabs import (
    NOT_CONNECTED_REASON,
    ORGANISATION_CHOICE,
    DashboardRequest,
    contacts_subtab,
    current_connection,
    list_url,
    messages_by_row,
    next_url,
    return_url,
    row_tag,
    shell_context,
    subtab_of,
    why_disabled,
)
from sync.exceptions import UserFacingError
from sync.links import views as link_views
from sync.links.services import contact_unlink
from sync.models import LinkEvent, SyncContact, SyncContactQuerySet, XeroConnection, XeroContact
from sync.syncing.organisations import (
    for_organisation,
    with_xero_status,
    without_organisation,
)
from sync.syncing.refusals import ready_count, with_contact_link
from sync.uploads import views as upload_views
from transactions.models import SyncState, Transaction

PAGE_SIZE = 50


# Each sortable column and the direction its first click sorts in.
FIRST_DIRECTION = {"name": "", "ready": "-", "linked": ""}


@dataclass(frozen=True)
class SortLink:
    href: str
    aria_sort: str  # "ascending", "descending" or "" (not the sorted column)


@dataclass(frozen=True)
class ContactList:
    """One page of a contacts subtab, and the links that keep its filters, search and sort."""

    base: str
    show: str  # "" lists the contacts with a transaction ready to sync, as Omni does; "all"
    linked: str
    q: str
    sort: str
    page: Page[SyncContact]
    rows: list[tuple[SyncContact, list[Message]]]
    other_messages: list[Message]
    links_of: XeroConnection | None  # whose links the rows show (see _links_of)

    def url(self, **changes: str) -> str:
        params = {"show": self.show, "linked": self.linked, "q": self.q, "sort": self.sort}
        query = urlencode({k: v for k, v in (params | changes).items() if v})
        return f"{self.base}?{query}" if query else self.base

    @property
    def here(self) -> str:
        """This page's address: where an action on it comes back to."""
        number = self.page.number
        return self.url(page=str(number)) if number > 1 else self.url()

    @property
    def previous_url(self) -> str:
        return self.url(page=str(self.page.number - 1)) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url(page=str(self.page.number + 1)) if self.page.has_next() else ""

    @property
    def all_url(self) -> str:
        return self.url(show="all")

    @property
    def sort_links(self) -> dict[str, SortLink]:
        current = self.sort.removeprefix("-") or "name"
        descending = self.sort.startswith("-")
        links = {}
        for key, first in FIRST_DIRECTION.items():
            if key == current:
                toggled = key if descending else f"-{key}"
                aria = "descending" if descending else "ascending"
                links[key] = SortLink(self.url(sort=toggled), aria)
            else:
                links[key] = SortLink(self.url(sort=f"{first}{key}"), "")
        return links


def _to_sync(connection: XeroConnection | None) -> QuerySet[Transaction]:
    """What a contact list counts as ready: the organisation's transactions waiting to be
    synced, and those no organisation is for yet (with several connected, an unlinked
    contact's; linking the contact here makes them this organisation's)."""
    ready = Transaction.objects.ready_to_sync()
    return for_organisation(ready, connection) | without_organisation(ready, connection)


class ContactFilters(filters.Filters):
    show = filters.choice(["all"], "Show")
    linked = filters.choice(SyncContactQuerySet.LINK_FILTERS, "Link")
    q = filters.Search(label="Search")
    sort = filters.choice(
        [f"{d}{key}" for key in SyncContactQuerySet.SORTS for d in ("", "-")], "Sort"
    )


class TransactionFilters(filters.Filters):
    state = filters.choice(SyncState.values, "Sync state")
    q = filters.Search(label="Search")


def _links_of(connection: XeroConnection | None) -> XeroConnection | None:
    """The organisation whose links a row shows: the one shown, or else the one disconnected
    last, whose links are kept for when it is connected again (shown as kept)."""
    if connection is not None:
        return connection
    return XeroConnection.objects.disconnected_last()


def _contacts_page(
    request: HttpRequest, tab: str, connection: XeroConnection | None
) -> ContactList:
    wanted = ContactFilters.read(request.GET)
    show, link_filter, sort, q = (wanted[k] for k in ("show", "linked", "sort", "q"))
    to_sync = _to_sync(connection)
    links_of = _links_of(connection)
    contacts = SyncContact.objects.for_tab(tab)
    if not show:
        contacts = contacts.ready(to_sync)
    contacts = (
        contacts.search(q)
        .link_filter(link_filter, connection)
        .with_ready_count(to_sync)
        .with_link(links_of)
        .sorted_by(sort, connection)
    )
    page = Paginator(contacts, PAGE_SIZE).get_page(wanted["page"])
    rows, other_messages = messages_by_row(request, list(page))
    return ContactList(
        base=list_url(tab),
        show=show,
        linked=link_filter,
        q=q,
        sort=sort,
        page=page,
        rows=rows,
        other_messages=other_messages,
        links_of=links_of,
    )


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    return redirect("sync:subtab", tab="sales", subtab="customers")


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
def subtab_view(request: DashboardRequest, tab: str, subtab: str) -> HttpResponse:
    sub = subtab_of(tab, subtab)
    context = shell_context(request, tab, sub)
    if sub.transaction_type is None:
        context |= {
            "list": _contacts_page(request, tab, context["connection"]),
            "link_filters": SyncContactQuerySet.LINK_FILTERS,
            "why_disabled": why_disabled(request, context["connection"]),
        }
        template = "sync/contacts_tab.html"
        partial = "#table"  # the headers show the sort too, and the action bar the messages
    else:
        wanted = TransactionFilters.read(request.GET)
        state = wanted["state"]
        from sync.models import SyncItem

        connection = context["connection"]
        # A transaction's latest item is its own organisation's (a move makes it ready, so a
        # refusal shown is from a sync there); by the transaction alone, the index serves it.
        latest_item = SyncItem.objects.filter(transaction=OuterRef("pk")).order_by("-pk")
        of_type = for_organisation(Transaction.objects.of_type(sub.transaction_type), connection)
        transactions = (
            of_type.search(wanted["q"])
            .in_state(state)
            .with_lines()
            .annotate(refusal=Subquery(latest_item.values("refusal")[:1]))
        )
        if connection is not None:
            # What each row shows of its contact and of its document in Xero, in this query.
            transactions = with_xero_status(with_contact_link(transactions, connection), connection)
        from sync.dashboard.transactions import active_runs, resync_offer  # they import this module

        page = Paginator(transactions, PAGE_SIZE).get_page(wanted["page"])
        here = request.get_full_path()
        context |= {
            "page": page,
            "state": state,
            "states": SyncState.choices,
            "why_disabled": why_disabled(request, context["connection"]),
            "syncs": active_runs(context["connection"]),
            "resync_count": resync_offer(context["connection"], sub.transaction_type).count(),
            "here": here,
            "ready": ready_count(of_type, connection) if connection is not None else None,
            "blocked_url": f"{list_url(tab)}?{urlencode({'linked': 'blocked'})}",
            "unassigned_count": without_organisation(
                Transaction.objects.of_type(sub.transaction_type), connection
            ).count()
            if connection is not None
            else 0,
        }
        template = "sync/transactions_tab.html"
        partial = "#rows"
    if request.htmx:
        template += partial
    return render(request, template, context)


def _name(names: dict[uuid.UUID, str], xero_id: uuid.UUID | None) -> str:
    """A Xero contact's name as the mirror knows it; empty when it does not."""
    return names.get(xero_id, "") if xero_id is not None else ""


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def contact_detail(request: DashboardRequest, tab: str, pk: int) -> HttpResponse:
    """One contact: its details, its link in the organisation shown, and its link history."""
    context = shell_context(request, tab, contacts_subtab(tab))
    connection = context["connection"]
    links_of = _links_of(connection)
    contact = get_object_or_404(
        SyncContact.objects.for_tab(tab).with_ready_count(_to_sync(connection)).with_link(links_of),
        pk=pk,
    )
    events = list(
        LinkEvent.objects.filter(contact=contact, connection=connection).select_related("actor")
    )
    xero_ids = {
        xero_id
        for event in events
        for xero_id in (event.xero_contact_id_before, event.xero_contact_id_after)
        if xero_id is not None
    }
    names = dict(
        XeroContact.objects.filter(connection=connection, contact_id__in=xero_ids).values_list(
            "contact_id", "name"
        )
    )
    history = [
        (
            event,
            _name(names, event.xero_contact_id_before),
            _name(names, event.xero_contact_id_after),
        )
        for event in events
    ]
    context |= {
        "contact": contact,
        "history": history,
        "back": list_url(tab),
        "links_of": links_of,
    }
    return render(request, "sync/contact_detail.html", context)


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_POST
def switch_organisation(request: HttpRequest) -> HttpResponse:
    """Show another connected organisation; viewers may too, since it changes nothing."""
    pk = filters.one(filters.ObjectId(label="Organisation"), request.POST, "connection")
    connection = XeroConnection.objects.usable().filter(pk=pk).first() if pk else None
    if connection is None:
        messages.error(request, "That organisation is not connected any more.")
    else:
        request.session[ORGANISATION_CHOICE] = {
            "pk": connection.pk,
            "at": timezone.now().isoformat(),
        }
        messages.info(request, f"Showing {connection.organisation_name}.")
    return redirect(next_url(request, reverse("sync:dashboard")))


ACTIONS_ON_SELECTION = {"upload", "unlink", "relink"}


def _selected(request: HttpRequest, tab: str) -> SyncContactQuerySet:
    """The checked contacts, of this tab only: an id from elsewhere is ignored."""
    ids = filters.ids_posted(request.POST, "contact")
    return SyncContact.objects.for_tab(tab).filter(pk__in=ids)


@login_required
@permission_required("sync.use_dashboard", raise_exception=True)
@require_POST
def contacts_action(request: DashboardRequest, tab: str) -> HttpResponse:
    """The action bar: Upload, Unlink, Check links or Relink to survivor on the checked rows."""
    back = return_url(request, tab)
    connection = current_connection(request)
    action = request.POST.get("action", "")
    selected = _selected(request, tab)
    if connection is None:
        messages.error(request, NOT_CONNECTED_REASON)
    elif request.POST.get("connection", str(connection.pk)) != str(connection.pk):
        # The page was for another organisation (switched in another tab, or a colleague
        # connected one meanwhile): acting on the one shown now would surprise.
        messages.error(
            request,
            f"The organisation shown is now {connection.organisation_name}; nothing was done. "
            "Check the list and try again.",
        )
    elif action == "check_links":
        link_views.check_links(request, connection=connection)
    elif action not in ACTIONS_ON_SELECTION:
        messages.error(request, "Choose Upload, Unlink, Check links or Relink to survivor.")
    elif not selected.exists():
        messages.error(request, "Select at least one contact.")
    elif action == "unlink":
        return _unlink_selected(request, tab, connection, selected, back)
    elif action == "upload":
        upload_views.upload_selected(request, connection=connection, contacts=selected)
    else:
        link_views.relink_selected(request, connection=connection, contacts=selected)
    return redirect(back)


def _unlink_selected(
    request: DashboardRequest,
    tab: str,
    connection: XeroConnection,
    selected: SyncContactQuerySet,
    back: str,
) -> HttpResponse:
    """Without `confirmed`, ask; with it, unlink each contact on its own, so that one that
    fails (unlinked meanwhile by someone else) never stops or hides the others."""
    contacts = list(selected.with_link(connection))
    if request.POST.get("confirmed") != "yes":
        linked = [contact for contact in contacts if contact.link]
        if not linked:
            messages.error(request, "None of the selected contacts has a linked contact.")
            return redirect(back)
        return _unlink_confirm(request, tab, linked, len(contacts) - len(linked), back)
    unlinked = 0
    for contact in contacts:
        was = contact.link.xero_name if contact.link else ""
        try:
            contact_unlink(contact=contact, connection=connection, user=request.user)
        except UserFacingError as error:
            messages.error(request, str(error), extra_tags=row_tag(contact))
        else:
            unlinked += 1
            messages.success(request, f"Unlinked from {was}.", extra_tags=row_tag(contact))
    if unlinked:
        noun = "contact" if unlinked == 1 else "contacts"
        messages.success(request, f"Unlinked {unlinked} {noun}. They now have no linked contact.")
    return redirect(back)


def _unlink_confirm(
    request: DashboardRequest, tab: str, contacts: list[SyncContact], skipped: int, back: str
) -> HttpResponse:
    """The confirm dialog (for htmx, into the page's <dialog>) or, without JavaScript, page."""
    context = {"tab": tab, "contacts": contacts, "skipped": skipped, "next": back}
    if request.htmx:
        response = render(request, "sync/unlink_confirm.html#dialog", context)
        return reswap(retarget(response, "#confirm-dialog"), "innerHTML")
    return render(request, "sync/unlink_confirm.html", context)


@login_required
@permission_required("sync.use_dashboard", raise_exception=True)
@require_GET
def contact_unlink_view(request: DashboardRequest, tab: str, pk: int) -> HttpResponse:
    """A row's own Unlink link: the same confirmation as Unlink on a selection of one."""
    connection = current_connection(request)
    contact = get_object_or_404(SyncContact.objects.for_tab(tab).with_link(connection), pk=pk)
    back = return_url(request, tab)
    if contact.link is None:
        messages.info(request, f"{contact.name} has no linked contact.")
        return redirect(back)
    return _unlink_confirm(request, tab, [contact], 0, back)
