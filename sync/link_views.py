"""The dashboard's link actions: Upload, Check links and Relink to survivor on the selected
contacts (the contacts tab dispatches its action bar here), the Search column's suggestions
from the Xero contact mirror, Link to an existing contact, and an upload's progress.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from . import links, mirror, uploads, views
from .exceptions import UserFacingError
from .models import ContactLink, InvalidReason, SyncContact, UploadJob, UploadRow, XeroConnection
from .templatetags.sync_tags import upload_jobs

act = permission_required("sync.use_dashboard", raise_exception=True)
see = permission_required("contacts.view_contact", raise_exception=True)


# --- The action bar ----------------------------------------------------------------------------


def upload_selected(
    request: HttpRequest, *, connection: XeroConnection, contacts: QuerySet[SyncContact]
) -> None:
    """Upload the selected contacts: create the unlinked ones in Xero, update the changed."""
    job = uploads.contacts_upload(connection=connection, contacts=list(contacts), user=request.user)
    counts: dict[str, int] = {}
    for state in job.rows.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    done = counts.get(UploadRow.State.DONE, 0)
    if done:
        messages.success(request, f"Uploaded {_contacts(done)} to Xero.")
    attention = counts.get(UploadRow.State.FAILED, 0) + counts.get(UploadRow.State.DUPLICATE, 0)
    if attention:
        verb = "needs" if attention == 1 else "need"
        messages.warning(
            request, f"{_contacts(attention).capitalize()} {verb} attention: see their rows."
        )
    busy = job.rows.filter(state=UploadRow.State.SKIPPED, message=uploads.ALREADY_UPLOADING).count()
    if busy:
        messages.info(
            request,
            f"{_contacts(busy).capitalize()} {'was' if busy == 1 else 'were'} being uploaded "
            "already (by another click or a colleague); that upload goes on.",
        )
    skipped = counts.get(UploadRow.State.SKIPPED, 0) - busy
    if skipped:
        messages.info(request, f"{_contacts(skipped).capitalize()} had nothing to upload.")
    waiting = counts.get(UploadRow.State.QUEUED, 0)
    if job.state == UploadJob.State.WAITING and job.resume_at:
        messages.info(
            request,
            f"{job.detail} The upload of the other {_contacts(waiting)} goes on by itself at "
            f"{timezone.localtime(job.resume_at):%H:%M:%S}; you may leave this page.",
        )
    elif waiting:
        messages.info(
            request,
            f"The other {_contacts(waiting)} {'is' if waiting == 1 else 'are'} being uploaded "
            "in the background; "
            "you may leave this page.",
        )
    if job.state == UploadJob.State.STOPPED:
        messages.error(request, f"The upload stopped: {job.detail}")


def _contacts(n: int) -> str:
    return f"{n} contact" if n == 1 else f"{n} contacts"


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
    """Relink the selected merged contacts to the Xero contacts they were merged into."""
    merged = ContactLink.objects.filter(
        connection=connection, contact__in=contacts, invalid_reason=InvalidReason.MERGED
    ).select_related("contact", "connection")
    relinked = 0
    for link in merged:
        try:
            new = links.link_relink_to_survivor(link=link, user=request.user)
        except UserFacingError as error:
            messages.error(request, str(error), extra_tags=views.row_tag(link.contact))
        else:
            relinked += 1
            messages.success(
                request, f"Now linked to {new.xero_name}.", extra_tags=views.row_tag(link.contact)
            )
    if not relinked and not merged:
        messages.info(request, "None of the selected contacts is linked to a merged Xero contact.")


# --- The Search column -------------------------------------------------------------------------


@login_required
@see
@require_GET
def xero_suggest(request: "views.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """Active Xero contacts matching what is typed, with their evidence; a partial for htmx,
    a page of its own without JavaScript."""
    contact = views.contact_in_tab(tab, pk)
    connection = views.current_connection(request)
    text = request.GET.get("q", "").strip()
    found = links.suggestions(connection=connection, text=text) if connection and text else []
    context = {
        "contact": contact,
        "tab": tab,
        "query": text,
        "suggestions": found,
        "connection": connection,
        "can_act": request.user.has_perm("sync.use_dashboard"),
        "next": views._next_url(request, tab),
    }
    template = "sync/_suggestions.html" if request.htmx else "sync/link_search.html"
    return render(request, template, context)


@login_required
@act
@require_http_methods(["GET", "POST"])
def link_existing(request: "views.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """POST links the contact to the Xero contact picked; GET (no JavaScript) asks first."""
    contact = views.contact_in_tab(tab, pk)
    connection = views.current_connection(request)
    back = views._next_url(request, tab)
    xero_contact_id = request.POST.get("xero_contact_id") or request.GET.get("xero_contact_id")
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
        messages.error(request, str(error), extra_tags=views.row_tag(contact))
    else:
        messages.success(
            request, f"Linked to {link.xero_name} in Xero.", extra_tags=views.row_tag(contact)
        )
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(back)


@login_required
@act
@require_POST
def create_anyway(request: "views.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """Create the contact in Xero though Xero has a likely match: this upload only."""
    contact = views.contact_in_tab(tab, pk)
    connection = views.current_connection(request)
    if connection is None:
        messages.error(request, "Connect to Xero first.")
        return redirect(views._next_url(request, tab))
    try:
        job = uploads.contact_create_anyway(
            connection=connection, contact=contact, user=request.user
        )
    except UserFacingError as error:
        messages.error(request, str(error), extra_tags=views.row_tag(contact))
    else:
        row = job.rows.get()
        if row.state == UploadRow.State.DONE:
            messages.success(
                request, "Created in Xero and linked.", extra_tags=views.row_tag(contact)
            )
    return redirect(views._next_url(request, tab))


@login_required
@see
@require_GET
def upload_progress(request: "views.DashboardRequest") -> HttpResponse:
    """The progress of the organisation's uploads (polled while one is under way). When a
    poll finds none left, the page reloads to show each row's outcome."""
    connection = views.current_connection(request)
    if request.htmx and request.GET.get("poll") and not upload_jobs(connection):
        return HttpResponseClientRefresh()
    return render(request, "sync/_upload_progress.html", {"connection": connection})
