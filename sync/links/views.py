"""The dashboard's link actions: Relink to survivor on the selected contacts (the contacts
tab dispatches its action bar here; Check links is in sync.webhooks.views), the Search
column's suggestions from the Xero contact mirror, Link to an existing contact, and Undo.
"""

from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from sync import filters
from sync.dashboard import tabs
from sync.exceptions import UserFacingError
from sync.links import health as links
from sync.links import undo
from sync.models import ContactLink, LinkEvent, SyncContact, XeroConnection

act = permission_required("sync.use_dashboard", raise_exception=True)
see = permission_required("contacts.view_contact", raise_exception=True)


# --- The action bar ----------------------------------------------------------------------------


def relink_selected(
    request: HttpRequest, *, connection: XeroConnection, contacts: QuerySet[SyncContact]
) -> None:
    """Relink the selected merged contacts to the Xero contacts they were merged into, and
    name each selected one that was skipped, and why."""
    result = _relink(request, connection, contacts)
    if result.relinked:
        n = len(result.relinked)
        messages.success(request, f"Relinked {n} contact{'s' if n != 1 else ''} to survivors.")
    if result.skipped:
        why = "; ".join(f"{contact.name} ({reason})" for contact, reason in result.skipped)
        messages.info(request, f"Skipped {len(result.skipped)}: {why}.")


def _relink(
    request: HttpRequest, connection: XeroConnection, contacts: Iterable[SyncContact]
) -> links.RelinkResult:
    """Relink the contacts, each row told its own outcome."""
    result = links.links_relink_to_survivors(
        connection=connection, contacts=contacts, user=request.user
    )
    # Each relinked row offers the Undo of its relink.
    events = undo.latest_events(
        connection=connection, contacts=[c for c, _ in result.relinked], user=request.user
    )
    for contact, link in result.relinked:
        tags = tabs.row_tag(contact, events.get(contact.pk))
        messages.success(request, f"Now linked to {link.xero_name}.", extra_tags=tags)
    for contact, reason in result.skipped:
        messages.error(request, f"Not relinked: {reason}.", extra_tags=tabs.row_tag(contact))
    return result


@login_required
@act
@require_POST
def relink(request: "tabs.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """A merged row's own Relink to its survivor."""
    contact = tabs.contact_in_tab(tab, pk)
    connection = tabs.current_connection(request)
    if connection is None:
        messages.error(request, tabs.NOT_CONNECTED_REASON, extra_tags=tabs.row_tag(contact))
    else:
        _relink(request, connection, [contact])
    return redirect(tabs.row_return(request, tab, contact))


# --- The Search column -------------------------------------------------------------------------


@login_required
@see
@require_GET
def xero_suggest(request: "tabs.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """Active Xero contacts matching what is typed, with their evidence; a partial for htmx,
    a page of its own without JavaScript."""
    contact = tabs.contact_in_tab(tab, pk)
    connection = tabs.current_connection(request)
    text = filters.one(filters.Search(label="Search"), request.GET, "q")
    found = (
        links.suggestions(connection=connection, text=text, contact=contact)
        if connection and text
        else []
    )
    context = {
        "contact": contact,
        "tab": tab,
        "query": text,
        "suggestions": found,
        "connection": connection,
        "can_act": request.user.has_perm("sync.use_dashboard"),
        "next": tabs.return_url(request, tab),
    }
    template = "sync/_suggestions.html" if request.htmx else "sync/link_search.html"
    return render(request, template, context)


@login_required
@act
@require_http_methods(["GET", "POST"])
def link_existing(request: "tabs.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """POST links the contact to the Xero contact picked; GET (no JavaScript) asks first."""
    contact = tabs.contact_in_tab(tab, pk)
    connection = tabs.current_connection(request)
    back = tabs.return_url(request, tab)
    given = request.POST if "xero_contact_id" in request.POST else request.GET
    picked = filters.one(filters.XeroId(label="Xero contact"), given, "xero_contact_id")
    xero_contact_id = str(picked) if picked else ""
    if connection is None or not xero_contact_id:
        messages.error(request, "Pick a Xero contact to link.")
        return redirect(back)
    if request.method == "GET":
        return render(
            request,
            "sync/link_confirm.html",
            {
                "contact": contact,
                "tab": tab,
                "next": back,
                "xero_contact": links.suggestion(
                    connection=connection, xero_contact_id=xero_contact_id
                ),
            },
        )
    try:
        link = links.contact_link_existing(
            contact=contact,
            connection=connection,
            xero_contact_id=xero_contact_id,
            user=request.user,
        )
    except (UserFacingError, ValueError) as error:
        messages.error(request, str(error), extra_tags=tabs.row_tag(contact))
    else:
        event = undo.latest_events(connection=connection, contacts=[contact], user=request.user)
        messages.success(
            request,
            f"Linked to {link.xero_name} in Xero.",
            extra_tags=tabs.row_tag(contact, event.get(contact.pk)),
        )
    return redirect(tabs.row_return(request, tab, contact))


# --- Undo --------------------------------------------------------------------------------------

# What a message says once an event is undone, by the action undone.
UNDONE = {
    LinkEvent.Action.LINK: "Undone: {contact} has no linked contact again.",
    LinkEvent.Action.UNLINK: "Undone: {contact} is linked to {xero} again.",
    LinkEvent.Action.RELINK: "Undone: {contact} is linked to {xero} again, as before the relink.",
    LinkEvent.Action.DISMISS: "Undone: {xero} is suggested for {contact} again.",
    LinkEvent.Action.RESTORE: "Undone: {xero} is dismissed for {contact} again.",
}


@login_required
@act
@require_POST
def link_undo(request: "tabs.DashboardRequest", tab: str, event: int) -> HttpResponse:
    """Undo a link change or a dismissal (with the others of its batch, posted as `event`),
    from its confirmation message or the contact's link history."""
    back = tabs.return_url(request, tab)
    found = undo.events([event, *filters.ids_posted(request.POST, "event")])
    if not any(e.pk == event for e in found):
        raise Http404("No such link event")
    result = undo.links_undo(
        events=found, user=request.user, from_message=request.POST.get("from") == "message"
    )
    for old, new in result.undone:
        assert old.contact is not None  # else refused
        said = UNDONE[LinkEvent.Action(old.action)].format(
            contact=old.contact_name, xero=_xero_name(new)
        )
        messages.success(request, said, extra_tags=tabs.row_tag(old.contact, new.pk))
    for old, reason in result.refused:
        tags = tabs.row_tag(old.contact) if old.contact else ""
        messages.error(request, reason, extra_tags=tags)
    if len(found) > 1 and result.undone:
        count = len(result.undone)
        messages.info(
            request,
            f"Undid {count} change{'s' if count != 1 else ''}.",
            extra_tags=tabs.undo_tag(*(new.pk for _, new in result.undone)),
        )
    contacts = {e.contact for e in found if e.contact is not None}
    if request.htmx and len(contacts) == 1 and all(e.contact for e in found):
        # Undone from its row: the row alone comes back, as after the action itself.
        (contact,) = contacts
        return redirect(tabs.row_return(request, tab, contact))
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(back)


def _xero_name(event: LinkEvent) -> str:
    """The Xero contact an undo's event is about, by name: a link's from its detail, a
    suggestion's from the detail it keeps (the name as the mirror knew it)."""
    if event.action in (LinkEvent.Action.DISMISS, LinkEvent.Action.RESTORE):
        return event.detail or "The suggestion"
    link = ContactLink.objects.filter(contact=event.contact, connection=event.connection).first()
    return link.xero_name if link else "the Xero contact"
