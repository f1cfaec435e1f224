"""The dashboard's link actions: Upload, Check links and Relink to survivor on the selected
contacts (the contacts tab dispatches its action bar here), the Search column's suggestions
from the Xero contact mirror, Link to an existing contact, and an upload's progress.
"""

from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sync import filters
from sync.dashboard import tabs
from sync.exceptions import UserFacingError
from sync.links import health as links
from sync.links import mirror
from sync.models import SyncContact, XeroConnection

act = permission_required("sync.use_dashboard", raise_exception=True)
see = permission_required("contacts.view_contact", raise_exception=True)


# --- The action bar ----------------------------------------------------------------------------


def check_links(request: HttpRequest, *, connection: XeroConnection) -> None:
    """Check every link of the organisation against the mirror now, and again after a
    refresh of the mirror from Xero (queued in the background)."""
    result = links.links_check(connection=connection)
    mirror.contacts_refresh_queue(connection=connection)
    if result.skipped:
        messages.info(
            request,
            "Xero's contacts have not been fetched yet: the links will be checked once they "
            "are (in the background).",
        )
        return
    changed = result.invalidated + result.revalidated
    messages.success(
        request,
        f"Checked {result.checked} link{'s' if result.checked != 1 else ''}: "
        + (
            f"{result.invalidated} went bad in Xero, {result.revalidated} are usable again."
            if changed
            else "none changed."
        )
        + " They are checked again when the Xero contacts now being refreshed arrive.",
    )


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
    for contact, link in result.relinked:
        messages.success(
            request, f"Now linked to {link.xero_name}.", extra_tags=tabs.row_tag(contact)
        )
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
        messages.success(
            request, f"Linked to {link.xero_name} in Xero.", extra_tags=tabs.row_tag(contact)
        )
    return redirect(tabs.row_return(request, tab, contact))
