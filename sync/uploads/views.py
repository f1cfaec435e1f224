"""Upload's views: the selected contacts created or updated in Xero, and an upload's progress."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from sync.dashboard import tabs
from sync.exceptions import UserFacingError
from sync.models import (
    SyncContact,
    UploadJob,
    UploadRow,
    XeroConnection,
)
from sync.uploads import services as uploads

act = permission_required("sync.use_dashboard", raise_exception=True)
see = permission_required("contacts.view_contact", raise_exception=True)


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
        messages.success(request, f"Uploaded {n_contacts(done)} to Xero.")
    attention = counts.get(UploadRow.State.FAILED, 0) + counts.get(UploadRow.State.DUPLICATE, 0)
    if attention:
        verb = "needs" if attention == 1 else "need"
        messages.warning(
            request, f"{n_contacts(attention).capitalize()} {verb} attention: see their rows."
        )
    busy = job.rows.filter(state=UploadRow.State.SKIPPED, message=uploads.ALREADY_UPLOADING).count()
    if busy:
        messages.info(
            request,
            f"{n_contacts(busy).capitalize()} {'was' if busy == 1 else 'were'} being uploaded "
            "already (by another click or a colleague); that upload goes on.",
        )
    skipped = counts.get(UploadRow.State.SKIPPED, 0) - busy
    if skipped:
        messages.info(request, f"{n_contacts(skipped).capitalize()} had nothing to upload.")
    waiting = counts.get(UploadRow.State.QUEUED, 0)
    if job.state == UploadJob.State.WAITING and job.resume_at:
        messages.info(
            request,
            f"{job.detail} The upload of the other {n_contacts(waiting)} goes on by itself at "
            f"{timezone.localtime(job.resume_at):%H:%M:%S}; you may leave this page.",
        )
    elif waiting:
        messages.info(
            request,
            f"The other {n_contacts(waiting)} {'is' if waiting == 1 else 'are'} being uploaded "
            "in the background; "
            "you may leave this page.",
        )
    if job.state == UploadJob.State.STOPPED:
        messages.error(request, f"The upload stopped: {job.detail}")


@login_required
@act
@require_POST
def upload_one(request: "tabs.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """A row's own Upload: the contact created in Xero (or its changes sent), its outcome
    said in its row."""
    contact = tabs.contact_in_tab(tab, pk)
    connection = tabs.current_connection(request)
    tag = tabs.row_tag(contact)
    if connection is None:
        messages.error(request, tabs.NOT_CONNECTED_REASON, extra_tags=tag)
        return redirect(tabs.row_return(request, tab, contact))
    job = uploads.contacts_upload(connection=connection, contacts=[contact], user=request.user)
    row = job.rows.get()
    if row.state == UploadRow.State.DONE:
        created = row.kind == UploadRow.Kind.CREATE
        said = "Created in Xero and linked." if created else "Its changes were sent to Xero."
        messages.success(request, said, extra_tags=tag)
    elif row.state in (UploadRow.State.FAILED, UploadRow.State.DUPLICATE):
        messages.warning(request, "Not uploaded: its row says why.", extra_tags=tag)
    elif row.state == UploadRow.State.SKIPPED:
        messages.info(request, row.message, extra_tags=tag)
    else:
        messages.info(request, "It is being uploaded in the background.", extra_tags=tag)
    if job.state == UploadJob.State.STOPPED:
        messages.error(request, f"The upload stopped: {job.detail}", extra_tags=tag)
    return redirect(tabs.row_return(request, tab, contact))


def n_contacts(n: int) -> str:
    return f"{n} contact" if n == 1 else f"{n} contacts"


@login_required
@act
@require_POST
def create_anyway(request: "tabs.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """Create the contact in Xero though Xero has a likely match: this upload only."""
    contact = tabs.contact_in_tab(tab, pk)
    connection = tabs.current_connection(request)
    if connection is None:
        messages.error(request, "Connect to Xero first.", extra_tags=tabs.row_tag(contact))
        return redirect(tabs.row_return(request, tab, contact))
    try:
        job = uploads.contact_create_anyway(
            connection=connection, contact=contact, user=request.user
        )
    except UserFacingError as error:
        messages.error(request, str(error), extra_tags=tabs.row_tag(contact))
    else:
        row = job.rows.get()
        if row.state == UploadRow.State.DONE:
            messages.success(
                request, "Created in Xero and linked.", extra_tags=tabs.row_tag(contact)
            )
    return redirect(tabs.row_return(request, tab, contact))


@login_required
@see
@require_GET
def upload_progress(request: "tabs.DashboardRequest") -> HttpResponse:
    """The progress of the organisation's uploads (polled while one is under way). When a
    poll finds none left, the page reloads to show each row's outcome."""
    connection = tabs.current_connection(request)
    if request.htmx and request.GET.get("poll") and not uploads.uploads_under_way(connection):
        return HttpResponseClientRefresh()
    return render(request, "sync/_upload_progress.html", {"connection": connection})
