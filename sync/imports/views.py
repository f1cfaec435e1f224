"""Import a Xero contacts spreadsheet (upload, preview, confirm, review), act on match
suggestions (dismiss one, accept the unambiguous ones at once), and export links and their
audit trail as CSV."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from sync import filters
from sync.csv_export import Column, csv_lines, text, value
from sync.dashboard import tabs
from sync.exceptions import UserFacingError
from sync.imports import services as imports
from sync.imports.xero_export import DETAILS, upload_size_validator
from sync.links import suggestions as matching
from sync.models import ContactImport, ContactLink, LinkEvent, SyncContact

act = permission_required("sync.use_dashboard", raise_exception=True)
see = permission_required("contacts.view_contact", raise_exception=True)

# Customers of the demo account as the sandbox's Demo Company exports them: some link on
# import, the others are listed for review.
SAMPLE = Path(__file__).resolve().parent / "fixtures" / "xero-customers-export.csv"
ROLES = {"customers": (True, False), "suppliers": (False, True), "both": (True, True)}


class DetailsChoiceForm(forms.Form):
    """Link only (the default) or Update Omni's details, and which: the dashboard's import
    and the admin's both ask it."""

    mode = forms.ChoiceField(
        label="Omni contacts the file matches",
        choices=[
            ("link", "Link only: their details in Omni are not changed"),
            ("update", "Update Omni's details from the file"),
        ],
        widget=forms.RadioSelect,
        initial="link",
        required=False,  # a form posted without it (an older page, a script) links only
    )
    details = forms.MultipleChoiceField(
        label="Details to update",
        choices=[(code, label) for code, (label, _) in DETAILS.items()],
        widget=forms.CheckboxSelectMultiple,
        initial=list(DETAILS),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("mode") != "update":
            cleaned["details"] = []
        elif not cleaned.get("details"):
            self.add_error("details", "Tick the details to update, or choose Link only.")
        return cleaned


class ImportForm(DetailsChoiceForm):
    file = forms.FileField(
        label="Xero contacts export",
        help_text="The CSV or XLSX file Xero's Contacts → Export gives.",
        validators=[upload_size_validator],
    )
    role = forms.ChoiceField(
        label="The contacts are",
        choices=[("customers", "Customers"), ("suppliers", "Suppliers"), ("both", "Both")],
        widget=forms.RadioSelect,
        initial="customers",
    )


def _recent(request: HttpRequest) -> QuerySet[ContactImport]:
    return ContactImport.objects.filter(confirmed_at__isnull=False).select_related(
        "created_by", "connection"
    )[:10]


def import_form(request: HttpRequest) -> ImportForm:
    initial = {
        "role": "suppliers" if request.GET.get("tab") == "purchases" else "customers",
        "mode": "link",
        "details": list(DETAILS),
    }
    return ImportForm(request.POST or None, request.FILES or None, initial=initial)


def import_started(request: "tabs.DashboardRequest", form: ImportForm) -> ContactImport | None:
    """The import a posted form starts; None (the reason on the form) when it cannot."""
    if request.method != "POST" or not form.is_valid():
        return None
    upload = form.cleaned_data["file"]
    customers, suppliers = ROLES[form.cleaned_data["role"]]
    try:
        return imports.contacts_import_start(
            user=request.user,
            connection=tabs.current_connection(request),
            file_name=upload.name or "",
            data=upload.read(),
            customers=customers,
            suppliers=suppliers,
            details=form.cleaned_data["details"],
        )
    except UserFacingError as error:
        form.add_error("file", str(error))
        return None


def import_previewed(request: HttpRequest, token: str) -> imports.Preview | None:
    """The preview of the user's import; None (with a message) for a stale or foreign one."""
    try:
        return imports.contacts_import_preview(token=token, user=request.user)
    except UserFacingError as error:
        messages.error(request, str(error))
        return None


def import_confirmed(request: HttpRequest, token: str) -> ContactImport | None:
    """Confirm the user's import, with a message saying what came of it."""
    try:
        done = imports.contacts_import_confirm(token=token, user=request.user)
    except UserFacingError as error:
        messages.error(request, str(error))
        return None
    messages.success(
        request,
        f"Imported {done.file_name}: {done.created_count} new, {done.updated_count} updated, "
        f"{done.linked_count} linked to Xero, {done.review_count} to review.",
    )
    return done


@login_required
@act
@require_http_methods(["GET", "POST"])
def import_upload(request: "tabs.DashboardRequest") -> HttpResponse:
    """Choose the file and whether its rows are customers, suppliers or both."""
    form = import_form(request)
    started = import_started(request, form)
    if started is not None:
        return redirect("sync:import_preview", token=started.token)
    return render(
        request,
        "sync/import_upload.html",
        {"form": form, "recent": _recent(request), "connection": tabs.current_connection(request)},
    )


@login_required
@see
@require_GET
def import_sample(request: HttpRequest) -> FileResponse:
    """The demo's Xero export, for trying the import without exporting anything by hand."""
    return FileResponse(SAMPLE.open("rb"), as_attachment=True, filename=SAMPLE.name)


@login_required
@act
@require_GET
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """What importing the file would do: nothing is written until Confirm."""
    preview = import_previewed(request, token)
    if preview is None:
        return redirect("sync:import_upload")
    context = {
        "preview": preview,
        "confirm_url": reverse("sync:import_confirm", kwargs={"token": token}),
        "upload_url": reverse("sync:import_upload"),
    }
    return render(request, "sync/import_preview.html", context)


@login_required
@act
@require_POST
def import_confirm(request: HttpRequest, token: str) -> HttpResponse:
    done = import_confirmed(request, token)
    if done is None:
        return redirect("sync:import_upload")
    return redirect("sync:import_result", pk=done.pk)


@login_required
@see
@require_GET
def import_result(request: "tabs.DashboardRequest", pk: int) -> HttpResponse:
    """A confirmed import: its counts and the rows still to review, with suggestions."""
    done = get_object_or_404(
        ContactImport.objects.select_related("connection"), pk=pk, confirmed_at__isnull=False
    )
    review = imports.import_review(done)
    found = matching.suggestions_for(
        connection=done.connection, contacts=[row.contact for row in review if row.contact]
    )
    rows = [(row, found.get(row.contact.pk, [])) for row in review if row.contact]
    return render(
        request,
        "sync/import_result.html",
        {
            "done": done,
            "rows": rows,
            "can_act": request.user.has_perm("sync.use_dashboard"),
            "here": request.get_full_path(),
        },
    )


@login_required
@act
@require_POST
def suggestion_dismiss(request: "tabs.DashboardRequest", tab: str, pk: int) -> HttpResponse:
    """Never suggest that Xero contact for this contact again."""
    contact = tabs.contact_in_tab(tab, pk)
    connection = tabs.current_connection(request)
    if connection is None:
        messages.error(request, tabs.NOT_CONNECTED_REASON, extra_tags=tabs.row_tag(contact))
        return redirect(tabs.row_return(request, tab, contact))
    try:
        matching.suggestion_dismiss(
            connection=connection,
            contact=contact,
            xero_contact_id=request.POST.get("xero_contact_id", ""),
            user=request.user,
        )
    except UserFacingError as error:
        messages.error(request, str(error), extra_tags=tabs.row_tag(contact))
    else:
        messages.info(request, "Suggestion dismissed.", extra_tags=tabs.row_tag(contact))
    return redirect(tabs.row_return(request, tab, contact))


@login_required
@act
@require_POST
def suggestions_accept(request: "tabs.DashboardRequest", tab: str) -> HttpResponse:
    """Link every listed contact to its unambiguous suggestion; ambiguous ones stay."""
    connection = tabs.current_connection(request)
    back = tabs.return_url(request, tab)
    if connection is None:
        messages.error(request, tabs.NOT_CONNECTED_REASON)
        return redirect(back)
    ids = filters.ids_posted(request.POST, "contact")
    contacts = SyncContact.objects.for_tab(tab).filter(pk__in=ids)
    result = matching.suggestions_accept_unambiguous(
        connection=connection, contacts=contacts, user=request.user
    )
    for contact, name in result.linked:
        messages.success(request, f"Linked to {name} in Xero.", extra_tags=tabs.row_tag(contact))
    for contact, reason in result.refused:
        messages.error(request, reason, extra_tags=tabs.row_tag(contact))
    count = len(result.linked)
    messages.info(
        request,
        f"Accepted {count} suggestion{'s' if count != 1 else ''}."
        if count
        else "No suggestion was unambiguous: pick the right Xero contact in each row.",
    )
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(back)


# --- Export ------------------------------------------------------------------------------------


def _csv_response(
    name: str, columns: list[Column], rows: Iterator[list[Any]]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(columns, rows), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


LINK_COLUMNS = [
    text("Omni contact"),
    text("Omni account number"),
    text("Xero contact"),
    value("Xero contact ID"),
    text("Organisation"),
    value("Status"),
    value("Invalid because"),
    value("Linked by (method)"),
    text("Linked by (who)"),
    value("Linked at"),
]
EVENT_COLUMNS = [
    value("At"),
    value("Action"),
    text("Omni contact"),
    text("Organisation"),
    text("Who"),
    value("Xero ID before"),
    value("Xero ID after"),
    text("Detail"),
]


def _who(user: Any) -> str:
    return user.get_username() if user is not None else "omni-xero"


def link_rows(links: QuerySet[ContactLink]) -> Iterator[list[Any]]:
    for link in links.select_related("contact", "connection", "created_by").iterator():
        yield [
            link.contact.name,
            link.contact.account_number,
            link.xero_name,
            link.xero_contact_id,
            link.connection.organisation_name,
            link.get_status_display(),
            link.get_invalid_reason_display(),
            link.get_method_display(),
            _who(link.created_by),
            timezone.localtime(link.created_at).isoformat(timespec="seconds"),
        ]


def event_rows(events: QuerySet[LinkEvent]) -> Iterator[list[Any]]:
    for event in events.select_related("actor").iterator():
        yield [
            timezone.localtime(event.at).isoformat(timespec="seconds"),
            event.get_action_display(),
            event.contact_name,
            event.organisation_name,
            _who(event.actor),
            event.xero_contact_id_before or "",
            event.xero_contact_id_after or "",
            event.detail,
        ]


def links_csv(links: QuerySet[ContactLink]) -> StreamingHttpResponse:
    return _csv_response("omni-xero-links", LINK_COLUMNS, link_rows(links))


def events_csv(events: QuerySet[LinkEvent]) -> StreamingHttpResponse:
    return _csv_response("omni-xero-link-events", EVENT_COLUMNS, event_rows(events))


@staff_member_required
@require_GET
def export_links(request: HttpRequest) -> StreamingHttpResponse:
    """Every link: Omni contact, Xero contact, status, method, who, when (staff only)."""
    return links_csv(ContactLink.objects.order_by("contact__name", "pk"))


@staff_member_required
@require_GET
def export_link_events(request: HttpRequest) -> StreamingHttpResponse:
    """The link audit trail, newest first (staff only)."""
    return events_csv(LinkEvent.objects.order_by("-at", "-pk"))
