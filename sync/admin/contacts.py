"""The Omni contact admin, extended with each contact's links, an audited Unlink and the
Import of a Xero contacts export (linking on import as the dashboard does)."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import Result

from contacts.admin import ContactAdmin
from contacts.models import Contact
from sync.dashboard import tabs
from sync.exceptions import UserFacingError
from sync.imports import views as import_views
from sync.imports.export_format import XeroContactsExport
from sync.imports.resource import XeroExportResource
from sync.imports.services import ImportRefused
from sync.imports.tmp_storage import DatabaseStorage
from sync.imports.xero_export import ImportFileError, upload_size_validator
from sync.links.services import (
    contact_delete,
    contact_unlink,
)
from sync.models import (
    ContactImport,
    ContactLink,
)
from sync.syncing.mapping import cost_center_errors


class LinkInline(admin.TabularInline[ContactLink, Contact]):
    model = ContactLink
    extra = 0
    can_delete = False
    show_change_link = True
    # Shown, never edited here: links change through the link form, which audits them.
    readonly_fields = [
        "connection",
        "xero_name",
        "xero_contact_id",
        "status",
        "invalid_reason",
        "method",
    ]
    fields = [*readonly_fields]

    def has_add_permission(self, request: HttpRequest, obj: Contact | None = None) -> bool:
        # Links are made through the link form, which audits them.
        return False


admin.site.unregister(Contact)


ROLE_CHOICES = [(role, role.capitalize()) for role in import_views.ROLES]


class XeroImportForm(ImportForm, import_views.DetailsChoiceForm):  # type: ignore[misc]
    """import-export's upload form, whether the rows are customers, suppliers or both, and
    whether the import links only (the default) or updates Omni's details too."""

    role = forms.ChoiceField(
        label="The contacts are",
        choices=ROLE_CHOICES,
        widget=forms.RadioSelect,
        initial="customers",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A file over the limit is refused before import-export reads it into memory.
        self.fields["import_file"].validators.append(upload_size_validator)


class XeroConfirmForm(ConfirmImportForm, import_views.DetailsChoiceForm):  # type: ignore[misc]
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.HiddenInput)
    mode = forms.ChoiceField(
        choices=import_views.DetailsChoiceForm.base_fields["mode"].choices,  # type: ignore[attr-defined]
        widget=forms.HiddenInput,
        required=False,
    )
    details = forms.MultipleChoiceField(
        choices=import_views.DetailsChoiceForm.base_fields["details"].choices,  # type: ignore[attr-defined]
        widget=forms.MultipleHiddenInput,
        required=False,
    )


class ContactForm(forms.ModelForm[Contact]):
    """A contact, its alternative account checked against the fetched charts as the
    account mapping is."""

    class Meta:
        model = Contact
        fields = ["cost_center"]  # the admin adds its fieldsets' fields

    def clean_cost_center(self) -> str:
        code = str(self.cleaned_data.get("cost_center") or "").strip()
        if code:
            for message in cost_center_errors(account_code=code):
                self.add_error("cost_center", message)
        return code


@admin.register(Contact)
class ContactWithLinksAdmin(ImportMixin, ContactAdmin):  # type: ignore[misc]
    """The Omni contact admin, with the contact's Xero links, an audited Unlink and
    django-import-export's Import of a Xero contacts export."""

    form = ContactForm

    list_display = [*ContactAdmin.list_display, "linked_to"]
    list_filter = [*ContactAdmin.list_filter, ("links", admin.EmptyFieldListFilter)]
    inlines = [LinkInline]
    actions = ["unlink_selected"]
    change_list_template = "admin/contacts/contact/change_list_with_import.html"
    resource_classes = [XeroExportResource]
    import_formats = [XeroContactsExport]
    import_form_class = XeroImportForm
    confirm_form_class = XeroConfirmForm
    tmp_storage_class = DatabaseStorage

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request)

    def get_import_resource_kwargs(
        self, request: HttpRequest, **kwargs: object
    ) -> dict[str, object]:
        cleaned = getattr(kwargs.get("form"), "cleaned_data", {})
        customers, suppliers = import_views.ROLES[cleaned.get("role") or "customers"]
        return {
            "customers": customers,
            "suppliers": suppliers,
            "details": cleaned.get("details") or [],
            "connection": tabs.current_connection(request),  # type: ignore[arg-type]
        }

    def get_confirm_form_initial(
        self, request: HttpRequest, import_form: XeroImportForm | None
    ) -> dict[str, object]:
        initial: dict[str, object] = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["role"] = import_form.cleaned_data["role"]
            initial["mode"] = import_form.cleaned_data.get("mode") or "link"
            initial["details"] = import_form.cleaned_data.get("details") or []
        return initial

    def get_import_data_kwargs(self, **kwargs: object) -> dict[str, object]:
        # A row that turned bad between the preview and the confirmation refuses the whole
        # file, as the preview would have.
        data_kwargs: dict[str, object] = super().get_import_data_kwargs(**kwargs)
        return {**data_kwargs, "rollback_on_validation_errors": True}

    def add_data_read_fail_error_to_form(self, form: ImportForm, e: Exception) -> None:
        # A file that cannot be read is never confirmed: its temporary copy goes now, not
        # never (import-export removes it only on a confirmed import).
        kept = getattr(form.cleaned_data.get("import_file"), "tmp_storage_name", None)
        if kept:
            self.get_tmp_storage_class()(name=kept, **self.get_tmp_storage_class_kwargs()).remove()
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = super().process_import(request, **kwargs)
        except ImportRefused as refused:  # its file expired (a day) or was imported already
            self.message_user(request, str(refused), messages.ERROR)
            return redirect("admin:contacts_contact_import")
        return response

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        if getattr(result, "contact_import", None) is None:
            errors = [str(error.error) for error in result.base_errors]
            self.message_user(
                request,
                " ".join(["Nothing was imported.", *errors])
                if errors
                else "Nothing was imported: some rows no longer pass their checks. "
                "Choose the file again to see them.",
                messages.ERROR,
            )
            return redirect("admin:contacts_contact_import")
        response: HttpResponse = super().process_result(result, request)
        return response

    def add_success_message(self, result: Result, request: HttpRequest) -> None:
        done: ContactImport = result.contact_import
        text = (
            f"Imported {done.file_name}: {done.created_count} new, {done.updated_count} "
            f"updated, {done.linked_count} linked to Xero, {done.review_count} to review."
        )
        if done.review_count:
            review = reverse("sync:import_result", kwargs={"pk": done.pk})
            self.message_user(
                request, format_html('{} <a href="{}">Review them</a>.', text, review)
            )
        else:
            self.message_user(request, text)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("import-xero/", wrap(self.import_view), name="contacts_contact_import_xero"),
            path(
                "import-xero/<token:token>/",
                wrap(self.import_preview_view),
                name="contacts_contact_import_xero_preview",
            ),
            *super().get_urls(),
        ]

    def _import_page(self, request: HttpRequest, context: dict[str, object]) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import contacts from a Xero export",
            **context,
        }
        return render(request, "admin/contacts/contact/xero_import.html", context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """The dashboard's import, from admin: the same form, preview and confirmation."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = import_views.import_form(request)
        started = import_views.import_started(request, form)  # type: ignore[arg-type]
        if started is not None:
            return redirect("admin:contacts_contact_import_xero_preview", token=started.token)
        return self._import_page(request, {"form": form})

    def import_preview_view(self, request: HttpRequest, token: str) -> HttpResponse:
        """GET shows the preview; POST imports, then shows the rows to review."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            done = import_views.import_confirmed(request, token)
            if done is None:
                return redirect("admin:contacts_contact_import_xero")
            return redirect("sync:import_result", pk=done.pk)
        preview = import_views.import_previewed(request, token)
        if preview is None:
            return redirect("admin:contacts_contact_import_xero")
        return self._import_page(
            request,
            {
                "preview": preview,
                "confirm_url": request.path,
                "upload_url": reverse("admin:contacts_contact_import_xero"),
            },
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return super().get_queryset(request).prefetch_related("links")

    @admin.display(description="linked contact")
    def linked_to(self, obj: Contact) -> str:
        links = list(obj.links.all())
        if not links:
            return "No linked contact"
        return ", ".join(
            link.xero_name + ("" if link.is_valid else f" ({link.get_invalid_reason_display()})")
            for link in links
        )

    def _unlink_all(self, request: HttpRequest, contacts: Iterable[Contact]) -> int:
        unlinked = 0
        for link in ContactLink.objects.filter(contact__in=contacts).select_related(
            "contact", "connection"
        ):
            try:
                contact_unlink(contact=link.contact, connection=link.connection, user=request.user)
                unlinked += 1
            except UserFacingError as error:
                self.message_user(request, str(error), messages.ERROR)
        return unlinked

    @admin.action(description="Unlink selected contacts from Xero", permissions=["change"])
    def unlink_selected(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        unlinked = self._unlink_all(request, queryset)
        if unlinked:
            self.message_user(request, f"Unlinked {unlinked} contact(s).", messages.SUCCESS)

    # A deleted contact's links go through the audited unlink first, never a silent cascade.
    def delete_model(self, request: HttpRequest, obj: Contact) -> None:
        contact_delete(contact=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        for contact in queryset:
            contact_delete(contact=contact, user=request.user)
