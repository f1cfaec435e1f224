"""The Accounting → Xero integration dashboard: Sales and Purchases tabs and their subtabs."""

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.messages.storage.base import Message
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from sync import filters
from sync.dashboard import presenters, selection
from sync.dashboard.counts import kept_counts
from sync.dashboard.tabs import (
    NOT_CONNECTED_REASON,
    ORGANISATION_CHOICE,
    DashboardRequest,
    contacts_subtab,
    current_connection,
    list_url,
    live_cursor,
    messages_by_row,
    next_url,
    page_of,
    return_url,
    row_return,
    row_tag,
    shell_context,
    subtab_of,
    undo_tag,
    why_disabled,
)
from sync.exceptions import UserFacingError
from sync.links import suggestions, undo
from sync.links import views as link_views
from sync.links.services import contact_unlink
from sync.links.suggestions import suggestions_for
from sync.models import LinkEvent, SyncContact, SyncContactQuerySet, XeroConnection, XeroContact
from sync.syncing import log as sync_log
from sync.syncing.balances import balances_of
from sync.syncing.mapping import mapping_errors
from sync.syncing.organisations import (
    for_organisation,
    without_organisation,
)
from sync.syncing.refusals import ReadyCount, ready_count
from sync.uploads import views as upload_views
from sync.webhooks import views as webhook_views
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
    matching: list[tuple[str, str]]  # the hidden fields of "Select all N matching"

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


def _links_of(connection: XeroConnection | None) -> XeroConnection | None:
    """The organisation whose links a row shows: the one shown, or else the one disconnected
    last, whose links are kept for when it is connected again (shown as kept)."""
    if connection is not None:
        return connection
    return XeroConnection.objects.disconnected_last()


def _contacts_page(
    request: HttpRequest, tab: str, connection: XeroConnection | None
) -> ContactList:
    wanted = selection.ContactFilters.read(request.GET)
    show, link_filter, sort, q = (wanted[k] for k in ("show", "linked", "sort", "q"))
    selection.filter_keep(request.user, f"{tab}/contacts", selection.ContactFilters, wanted)
    links_of = _links_of(connection)
    to_sync = selection.to_sync(connection)
    contacts = (
        selection.contacts_matching(tab, connection, wanted)
        .with_link(links_of)
        .sorted_by(sort, connection, to_sync)
    )
    # The page first; then what its rows show, counted for its contacts alone.
    page = page_of(contacts, PAGE_SIZE, wanted["page"])
    shown = list(page)
    ready = SyncContact.objects.filter(pk__in=[c.pk for c in shown]).ready_counts(to_sync)
    for contact in shown:
        contact.ready = ready.get(contact.pk, 0)
    _with_balances(tab, connection, shown)
    rows, other_messages = messages_by_row(request, shown)
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
        matching=selection.matching_fields(selection.ContactFilters, wanted),
    )


def _link_counts(tab: str, connection: XeroConnection | None) -> list[Any]:
    """The subtab's link counts (one query), each a link to the list filtered to them."""
    counts = kept_counts(
        connection,
        f"links:{tab}",
        lambda: SyncContact.objects.for_tab(tab).link_counts(
            connection, selection.to_sync(connection)
        ),
    )
    return presenters.link_health_counts(list_url(tab), counts)


def link_counts_out_of_band(request: DashboardRequest, tab: str) -> str:
    """The subtab's link counts as its page shows them, marked for htmx to swap in place of
    the page's (sync.dashboard.live: a link changed by itself changes them)."""
    health = {"counts": _link_counts(tab, current_connection(request))}
    return render_to_string(
        "sync/_link_health.html#counts", {"health": health, "oob": True}, request=request
    )


def _link_health(tab: str, connection: XeroConnection | None) -> dict[str, Any]:
    """The subtab's link counts (one query), each a link to the list filtered to them, and
    the organisation's last 30 days of syncs as a chart and a table (one query)."""
    days = sync_log.daily_outcomes(connection)
    bars = presenters.sync_chart(days)
    width = len(bars) * (presenters.BAR_WIDTH + presenters.BAR_GAP)
    return {
        "counts": _link_counts(tab, connection),
        "days": days,
        "bars": bars,
        "width": width,
        "height": presenters.CHART_HEIGHT,
        "bar_width": presenters.BAR_WIDTH,
        "syncs": sum(day.total for day in days),
    }


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    return redirect("sync:subtab", tab="sales", subtab="customers")


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
def subtab_view(request: DashboardRequest, tab: str, subtab: str) -> HttpResponse:
    sub = subtab_of(tab, subtab)
    if sub.payments:
        from sync.dashboard.payments import payments_tab  # it imports this module

        return payments_tab(request, tab, sub)
    kind = (
        selection.ContactFilters if sub.transaction_type is None else selection.TransactionFilters
    )
    list_key = f"{tab}/contacts" if sub.transaction_type is None else f"{tab}/{sub.slug}"
    if not request.GET and not request.htmx:
        # Opened afresh (from the tabs, a bookmark): with the filter the user chose last.
        kept = selection.filter_kept(request.user, list_key, kind)
        if kept:
            return redirect(f"{request.path}?{kept}")
    context = shell_context(request, tab, sub)
    if not request.htmx:  # a fragment swapped in keeps the page's poller
        context["live"] = live_cursor()
    if sub.transaction_type is None:
        contact_list = _contacts_page(request, tab, context["connection"])
        context |= {
            "list": contact_list,
            "next_page": contact_list.here,  # where a finished upload's rows are fetched
            "link_filters": SyncContactQuerySet.LINK_FILTERS,
            "why_disabled": why_disabled(request, context["connection"]),
        }
        if not request.htmx:  # the fragment htmx swaps in leaves them out
            context["health"] = _link_health(tab, context["connection"])
        template = "sync/contacts_tab.html"
        partial = "#table"  # the headers show the sort too, and the action bar the messages
    else:
        wanted = selection.TransactionFilters.read(request.GET)
        selection.filter_keep(request.user, list_key, kind, wanted)
        state = wanted["state"]
        from sync.dashboard.transactions import (  # they import this module
            active_runs,
            transaction_rows,
        )

        connection = context["connection"]
        transactions = transaction_rows(
            selection.transactions_matching(sub.transaction_type, connection, wanted), connection
        )

        page = page_of(transactions, PAGE_SIZE, wanted["page"])
        here = request.get_full_path()
        context |= {
            "page": page,
            "state": state,
            "states": SyncState.choices,
            "why_disabled": why_disabled(request, context["connection"]),
            "syncs": active_runs(context["connection"]),
            "here": here,
            "matching": selection.matching_fields(selection.TransactionFilters, wanted),
            "next_page": here,  # where a finished sync's rows are fetched
            "blocked_url": f"{list_url(tab)}?{urlencode({'linked': 'blocked'})}",
        }
        context |= _transaction_counts(connection, sub.transaction_type)
        template = "sync/transactions_tab.html"
        partial = "#rows"
    if request.htmx:
        template += partial
    return render(request, template, context)


def _transaction_counts(connection: XeroConnection | None, transaction_type: str) -> dict[str, Any]:
    """A transaction subtab's whole-history counts, kept (sync.dashboard.counts): ready that
    can go and blocked, refused that can go again, and for no organisation."""
    if connection is None:
        return {"ready": None, "resync_count": 0, "unassigned_count": 0}

    def count() -> dict[str, int]:
        from sync.dashboard.transactions import resync_offer  # it imports this module

        of_type = Transaction.objects.of_type(transaction_type)
        ready = ready_count(for_organisation(of_type, connection), connection)
        return {
            "can_go": ready.can_go,
            "blocked": ready.blocked,
            "resync": resync_offer(connection, transaction_type).count(),
            "unassigned": without_organisation(of_type, connection).count(),
        }

    counts = kept_counts(connection, f"transactions:{transaction_type}", count)
    return {
        "ready": ReadyCount(counts["can_go"], counts["blocked"]),
        "resync_count": counts["resync"],
        "unassigned_count": counts["unassigned"],
    }


def _name(names: dict[uuid.UUID, str], xero_id: uuid.UUID | None) -> str:
    """A Xero contact's name as the mirror knows it; empty when it does not."""
    return names.get(xero_id, "") if xero_id is not None else ""


def _contacts_shown(tab: str, connection: XeroConnection | None) -> SyncContactQuerySet:
    """The tab's contacts as their rows and their pages show them: their ready count and
    their link (in the organisation shown, or else the one disconnected last)."""
    contacts = SyncContact.objects.for_tab(tab).with_ready_count(selection.to_sync(connection))
    return contacts.with_link(_links_of(connection))


def _contact_shown(tab: str, pk: int, connection: XeroConnection | None) -> SyncContact:
    return get_object_or_404(_contacts_shown(tab, connection), pk=pk)


@dataclass(frozen=True)
class RowPlace:
    """What one row, rendered alone, needs of the list it is on (as ContactList has it)."""

    here: str
    links_of: XeroConnection | None


def _row_context(
    request: DashboardRequest,
    tab: str,
    contact: SyncContact,
    notes: list[Message],
    back: str,
    *,
    oob: bool = False,
) -> dict[str, Any]:
    """What the row template (contacts_tab.html#row) needs to render one row alone; `oob`
    marks it to be swapped out of band, in place of the row of the same id."""
    connection = current_connection(request)
    return {
        "tab": tab,
        "contact": contact,
        "notes": notes,
        "list": RowPlace(here=back, links_of=_links_of(connection)),
        "connection": connection,
        "can_act": request.user.has_perm("sync.use_dashboard"),
        "why_disabled": why_disabled(request, connection),
        "oob": oob,
    }


def _with_balances(
    tab: str, connection: XeroConnection | None, contacts: list[SyncContact]
) -> None:
    """What each linked one owes, or is owed, in the organisation shown, in place on the
    contacts as `balances` (one grouped query over Xero's documents kept)."""
    shown = getattr(connection, "pk", None)
    links = {c.pk: c.link for c in contacts}
    linked = {pk: link for pk, link in links.items() if link and link.connection_id == shown}
    found = balances_of(
        connection, tab, [link.xero_contact_id for link in linked.values()], timezone.localdate()
    )
    for contact in contacts:
        if contact.pk in linked:
            contact.balances = found.get(linked[contact.pk].xero_contact_id, [])  # type: ignore[attr-defined]


def _with_suggestions(connection: XeroConnection | None, contacts: list[SyncContact]) -> None:
    """The match suggestions an unlinked row shows, in place on the contacts (one lookup)."""
    unlinked = [contact for contact in contacts if contact.link is None]
    if not unlinked:
        return
    found = suggestions_for(connection=connection, contacts=unlinked)
    for contact in unlinked:
        contact.suggested = found.get(contact.pk, [])  # type: ignore[attr-defined]


def rows_out_of_band(
    request: DashboardRequest, tab: str, pks: list[int], back: str
) -> list[tuple[SyncContact, str]]:
    """These contacts of the tab (those that are), each with its row rendered by the one row
    template, marked for htmx to swap in place of the row of the same id (sync.dashboard.live);
    `back` is the list the rows are on. The user's messages are left for their next page."""
    connection = current_connection(request)
    contacts = list(_contacts_shown(tab, connection).filter(pk__in=pks).order_by("pk"))
    _with_suggestions(connection, contacts)
    _with_balances(tab, connection, contacts)
    return [
        (
            contact,
            render_to_string(
                "sync/contacts_tab.html#row",
                _row_context(request, tab, contact, [], back, oob=True),
                request=request,
            ),
        )
        for contact in contacts
    ]


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def contact_row(request: DashboardRequest, tab: str, pk: int) -> HttpResponse:
    """One row of a contacts subtab, alone, for htmx to swap in place of the old one after an
    action on it (tabs.row_return): with the action's messages in it, and announced. Without
    htmx, the list it is on."""
    back = return_url(request, tab)
    if not request.htmx:
        return redirect(back)
    contact = _contact_shown(tab, pk, current_connection(request))
    _with_suggestions(current_connection(request), [contact])
    _with_balances(tab, current_connection(request), [contact])
    # Every message now is this action's: the row's own, and any other it gave.
    [(_, notes)], others = messages_by_row(request, [contact])
    notes += others
    response = render(
        request, "sync/contacts_tab.html#row", _row_context(request, tab, contact, notes, back)
    )
    said = " ".join(str(note) for note in notes)
    return trigger_client_event(
        response,
        "row-done",
        {"row": row_tag(contact), "message": f"{contact.name}: {said}" if said else ""},
        after="settle",
    )


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def contact_detail(request: DashboardRequest, tab: str, pk: int) -> HttpResponse:
    """One contact: its details, its link in the organisation shown, and its link history."""
    context = shell_context(request, tab, contacts_subtab(tab))
    connection = context["connection"]
    links_of = _links_of(connection)
    contact = _contact_shown(tab, pk, connection)
    _with_balances(tab, connection, [contact])
    events = list(
        LinkEvent.objects.filter(contact=contact, connection=connection).select_related(
            "actor", "contact", "connection"
        )
    )
    refusals = undo.undo_refusals(events, timezone.now())
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
            refusals[event.pk] is None,
        )
        for event in events
    ]
    context |= {
        "contact": contact,
        "history": history,
        "dismissed": suggestions.suggestions_dismissed(connection=connection, contact=contact),
        "back": list_url(tab),
        "links_of": links_of,
        # The alternative account checked as the account mapping is (one query, with one).
        "cost_center_problem": mapping_errors(
            connection=connection, account_code=contact.cost_center, tax_type=""
        ).get("account_code", "")
        if connection is not None and contact.cost_center
        else "",
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


@login_required
@permission_required("sync.use_dashboard", raise_exception=True)
@require_POST
def contacts_action(request: DashboardRequest, tab: str) -> HttpResponse:
    """The action bar: Upload, Unlink, Check links or Relink to survivor on the checked rows."""
    back = return_url(request, tab)
    connection = current_connection(request)
    action = request.POST.get("action", "")
    selected = selection.selected_contacts(request.POST, tab, connection)
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
        webhook_views.check_links(request, connection=connection)
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
        return _unlink_confirm(
            request, tab, linked, len(contacts) - len(linked), back, _matching_posted(request)
        )
    # One note per row while they fit on a page; beyond that, the count alone (and errors),
    # and the Undo of them all only while it fits too.
    row_notes = len(contacts) <= PAGE_SIZE
    unlinked = [pk for c in contacts if (pk := _unlink_one(request, connection, c, note=row_notes))]
    if unlinked:
        noun = "contact" if len(unlinked) == 1 else "contacts"
        messages.success(
            request,
            f"Unlinked {len(unlinked)} {noun}. They now have no linked contact.",
            extra_tags=undo_tag(*unlinked) if row_notes else "",
        )
    return redirect(back)


CONFIRM_SHOWN = 20  # names a confirmation lists; the rest are counted


def _matching_posted(request: HttpRequest) -> list[tuple[str, str]]:
    """The filter of "all N matching", to post again with the confirmation ([] if ticked)."""
    if not selection.wants_all_matching(request.POST):
        return []
    wanted = selection.matching_filter(request.POST, selection.ContactFilters)
    return selection.matching_fields(selection.ContactFilters, wanted)


def _unlink_one(
    request: DashboardRequest,
    connection: XeroConnection | None,
    contact: SyncContact,
    *,
    note: bool = True,
) -> int | None:
    """Unlink the contact (read with_link), its outcome said in its row with the Undo of it;
    the unlink's LinkEvent pk, None if it was not unlinked."""
    tag = row_tag(contact)
    if connection is None:
        messages.error(request, NOT_CONNECTED_REASON, extra_tags=tag)
        return None
    was = contact.link.xero_name if contact.link else ""
    try:
        event = contact_unlink(contact=contact, connection=connection, user=request.user)
    except UserFacingError as error:
        messages.error(request, str(error), extra_tags=tag)
        return None
    if note:
        messages.success(request, f"Unlinked from {was}.", extra_tags=row_tag(contact, event.pk))
    return event.pk


def _unlink_confirm(
    request: DashboardRequest,
    tab: str,
    contacts: list[SyncContact],
    skipped: int,
    back: str,
    matching: list[tuple[str, str]] | None = None,
    row: SyncContact | None = None,
) -> HttpResponse:
    """The confirm dialog (for htmx, into the page's <dialog>) or, without JavaScript, page.
    For "all N matching" it posts the filter again, not the ids it found; for a `row`'s own
    Unlink it posts to that row's unlink, which answers with the row."""
    context = {
        "tab": tab,
        "contacts": contacts,
        "count": len(contacts),
        "shown": contacts[:CONFIRM_SHOWN],
        "more": max(0, len(contacts) - CONFIRM_SHOWN),
        "matching": matching or [],
        "skipped": skipped,
        "next": back,
        "row": row,
    }
    if request.htmx:
        response = render(request, "sync/unlink_confirm.html#dialog", context)
        return reswap(retarget(response, "#confirm-dialog"), "innerHTML")
    return render(request, "sync/unlink_confirm.html", context)


@login_required
@permission_required("sync.use_dashboard", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_unlink_view(request: DashboardRequest, tab: str, pk: int) -> HttpResponse:
    """A row's own Unlink: GET asks (the same confirmation as Unlink on a selection of one),
    the confirmation POSTs here, and the row comes back unlinked."""
    connection = current_connection(request)
    contact = get_object_or_404(SyncContact.objects.for_tab(tab).with_link(connection), pk=pk)
    back = return_url(request, tab)
    if request.method == "POST":
        _unlink_one(request, connection, contact)
        return redirect(row_return(request, tab, contact))
    if contact.link is None:  # unlinked meanwhile
        messages.info(
            request, f"{contact.name} has no linked contact.", extra_tags=row_tag(contact)
        )
        return redirect(row_return(request, tab, contact))
    return _unlink_confirm(request, tab, [contact], 0, back, row=contact)
