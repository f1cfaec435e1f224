"""Admin for connections, links and the audit trail. Link changes go through sync.services.

It also extends the Omni contact admin (contacts/admin.py, which knows nothing of Xero) with
each contact's links, an audited Unlink action, and django-import-export's Import of a Xero
contacts export (sync/import_resource.py), which links on import as the dashboard does.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Model, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from import_export.admin import ImportMixin
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import Result

from contacts.admin import ContactAdmin
from contacts.import_format import XeroContactsExport
from contacts.models import Contact
from contacts.xero_import import ImportFileError
from transactions.admin import TransactionAdmin
from transactions.models import Transaction

from . import import_views, views
from .exceptions import UserFacingError
from .import_resource import XeroExportResource
from .models import (
    AccountMapping,
    BranchOrganisation,
    ChartAccount,
    ConnectionEvent,
    ContactImport,
    ContactLink,
    DismissedSuggestion,
    ImportedContact,
    LinkEvent,
    MirroredDocument,
    SyncItem,
    SyncRun,
    SyncSettings,
    TaxRate,
    TransactionEvent,
    UploadJob,
    UploadRow,
    XeroApiCall,
    XeroConnection,
    XeroContact,
    XeroContactQuerySet,
)
from .services import contact_delete, contact_link, contact_relink, contact_unlink, link_rename
from .sync_log import sync_log_prune
from .sync_settings import account_mapping_save, mapping_errors
from .transaction_orgs import (
    MoveRefused,
    for_organisation,
    transaction_move,
    with_organisation,
    without_organisation,
)

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups


class ReadOnlyAdmin[M: Model](admin.ModelAdmin[M]):
    """For audit trails and records: readable by admins, never changed."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(XeroConnection)
class XeroConnectionAdmin(admin.ModelAdmin[XeroConnection]):
    """Connections are made by the Connect flow; here an admin reads their state."""

    list_display = [
        "organisation_name",
        "status",
        "kind",
        "tenant_id",
        "connected_by",
        "connected_at",
        "token_refreshed_at",
        "minute_remaining",
        "day_remaining",
        "contacts_refreshed_at",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["connected_by"]
    search_fields = ["organisation_name", "tenant_id"]
    # Only the organisation's name may be edited here.
    readonly_fields = [
        "tenant_id",
        "kind",
        "xero_connection_id",
        "status",
        "status_detail",
        "connected_by",
        "connected_at",
        "scopes",
        "expires_at",
        "token_refreshed_at",
        "minute_remaining",
        "day_remaining",
        "app_minute_remaining",
        "quota_seen_at",
        "contacts_modified_since",
        "contacts_refreshed_at",
        "contacts_refresh_failed_at",
        "contacts_refresh_error",
    ]
    fields = ["organisation_name", *readonly_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: XeroConnection | None = None
    ) -> bool:
        # Deleting would drop every link of the organisation unaudited: disconnect instead.
        return False


@admin.register(XeroApiCall)
class XeroApiCallAdmin(ReadOnlyAdmin[XeroApiCall]):
    """What omni-xero asked of Xero, one row per HTTP request (retries included)."""

    list_display = [
        "at",
        "method",
        "endpoint",
        "status",
        "duration_ms",
        "attempt",
        "minute_remaining",
        "day_remaining",
        "connection",
        "correlation_id",
        "error",
    ]
    list_filter = ["method", "status", "connection"]
    list_select_related = ["connection"]
    search_fields = ["endpoint", "correlation_id", "idempotency_key", "error"]
    date_hierarchy = "at"

    def has_delete_permission(self, request: HttpRequest, obj: XeroApiCall | None = None) -> bool:
        # Old call records may be pruned; they are a log, not an audit trail.
        return request.user.is_superuser


@admin.register(XeroContact)
class XeroContactAdmin(ReadOnlyAdmin[XeroContact]):
    """The local mirror of Xero contacts; refreshed from Xero, never edited here."""

    list_display = [
        "name",
        "status",
        "email",
        "account_number",
        "contact_number",
        "tax_number",
        "merged_into_xero_contact_id",
        "connection",
        "updated_in_xero",
    ]
    list_filter = ["status", "connection", "is_customer", "is_supplier"]
    list_select_related = ["connection"]
    search_fields = [*XeroContactQuerySet.SEARCHED_FIELDS, "contact_id"]


class ContactLinkForm(forms.ModelForm[ContactLink]):
    class Meta:
        model = ContactLink
        fields = ["contact", "connection", "xero_contact_id", "xero_name", "method"]


@admin.register(ContactLink)
class ContactLinkAdmin(admin.ModelAdmin[ContactLink]):
    """Links are made, changed and removed only through the audited services."""

    form = ContactLinkForm
    list_display = [
        "contact",
        "xero_name",
        "xero_contact_id",
        "connection",
        "status",
        "invalid_reason",
        "method",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "invalid_reason", "method", "connection"]
    list_select_related = ["contact", "connection", "created_by"]
    search_fields = ["contact__name", "xero_name", "xero_contact_id"]
    autocomplete_fields = ["contact"]
    actions = ["export_csv"]

    @admin.action(description="Export selected as CSV")
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[ContactLink]
    ) -> StreamingHttpResponse:
        return import_views.links_csv(queryset.order_by("contact__name", "pk"))

    def get_readonly_fields(
        self, request: HttpRequest, obj: ContactLink | None = None
    ) -> list[str]:
        readonly = [
            "status",
            "invalid_reason",
            "merged_into_xero_contact_id",
            "status_checked_at",
            "created_by",
            "created_at",
        ]
        if obj is not None:
            # A saved link can point at another Xero contact (a relink), not another contact.
            readonly += ["contact", "connection", "method"]
        return readonly

    def get_fields(self, request: HttpRequest, obj: ContactLink | None = None) -> "_FieldGroups":
        fields: _FieldGroups = ["contact", "connection", "xero_contact_id", "xero_name", "method"]
        if obj is not None:
            fields = [
                *fields,
                "status",
                "invalid_reason",
                "merged_into_xero_contact_id",
                "status_checked_at",
                "created_by",
                "created_at",
            ]
        return fields

    def save_model(
        self,
        request: HttpRequest,
        obj: ContactLink,
        form: forms.ModelForm[ContactLink],
        change: bool,
    ) -> None:
        try:
            if not change:
                saved = contact_link(
                    contact=obj.contact,
                    connection=obj.connection,
                    xero_contact_id=obj.xero_contact_id,
                    xero_name=obj.xero_name,
                    method=obj.method,
                    user=request.user,
                )
            elif "xero_contact_id" in form.changed_data:
                saved = contact_relink(
                    contact=obj.contact,
                    connection=obj.connection,
                    xero_contact_id=obj.xero_contact_id,
                    xero_name=obj.xero_name,
                    user=request.user,
                )
            elif "xero_name" in form.changed_data:
                saved = link_rename(link=obj, xero_name=obj.xero_name, user=request.user)
            else:
                return  # nothing changed: an invalid link stays invalid
        except UserFacingError as error:
            # Admin has no hook to fail a save with a message after validation; refusing
            # here shows the reason on a 403 page and changes nothing.
            raise PermissionDenied(str(error)) from error
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: ContactLink) -> None:
        contact_unlink(contact=obj.contact, connection=obj.connection, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ContactLink]) -> None:
        for link in queryset.select_related("contact", "connection"):
            contact_unlink(contact=link.contact, connection=link.connection, user=request.user)


@admin.register(ConnectionEvent)
class ConnectionEventAdmin(ReadOnlyAdmin[ConnectionEvent]):
    """Who connected or disconnected Xero, and when Xero stopped accepting a connection."""

    list_display = ["at", "action", "organisation_name", "actor", "detail"]
    list_filter = ["action", "organisation_name"]
    list_select_related = ["actor"]
    search_fields = ["organisation_name", "detail"]
    date_hierarchy = "at"


@admin.register(LinkEvent)
class LinkEventAdmin(ReadOnlyAdmin[LinkEvent]):
    """The audit trail: readable by admins, never changed."""

    list_display = [
        "at",
        "action",
        "contact_name",
        "organisation_name",
        "actor",
        "xero_contact_id_before",
        "xero_contact_id_after",
        "detail",
    ]
    list_filter = ["action", "organisation_name", ("actor", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["actor"]
    search_fields = ["contact_name", "detail", "xero_contact_id_before", "xero_contact_id_after"]
    date_hierarchy = "at"
    actions = ["export_csv"]

    @admin.action(description="Export selected as CSV")
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[LinkEvent]
    ) -> StreamingHttpResponse:
        return import_views.events_csv(queryset.order_by("-at", "-pk"))


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


class XeroImportForm(ImportForm):  # type: ignore[misc]
    """import-export's upload form, and whether the rows are customers, suppliers or both."""

    role = forms.ChoiceField(
        label="The contacts are",
        choices=ROLE_CHOICES,
        widget=forms.RadioSelect,
        initial="customers",
    )


class XeroConfirmForm(ConfirmImportForm):  # type: ignore[misc]
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.HiddenInput)


@admin.register(Contact)
class ContactWithLinksAdmin(ImportMixin, ContactAdmin):  # type: ignore[misc]
    """The Omni contact admin, with the contact's Xero links, an audited Unlink and
    django-import-export's Import of a Xero contacts export."""

    list_display = [*ContactAdmin.list_display, "linked_to"]
    list_filter = [*ContactAdmin.list_filter, ("links", admin.EmptyFieldListFilter)]
    inlines = [LinkInline]
    actions = ["unlink_selected"]
    change_list_template = "admin/contacts/contact/change_list_with_import.html"
    resource_classes = [XeroExportResource]
    import_formats = [XeroContactsExport]
    import_form_class = XeroImportForm
    confirm_form_class = XeroConfirmForm

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
            "connection": views.current_connection(request),  # type: ignore[arg-type]
        }

    def get_confirm_form_initial(
        self, request: HttpRequest, import_form: XeroImportForm | None
    ) -> dict[str, object]:
        initial: dict[str, object] = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["role"] = import_form.cleaned_data["role"]
        return initial

    def get_import_data_kwargs(self, **kwargs: object) -> dict[str, object]:
        # A row that turned bad between the preview and the confirmation refuses the whole
        # file, as the preview would have.
        data_kwargs: dict[str, object] = super().get_import_data_kwargs(**kwargs)
        return {**data_kwargs, "rollback_on_validation_errors": True}

    def add_data_read_fail_error_to_form(self, form: ImportForm, e: Exception) -> None:
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

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
                "import-xero/<str:token>/",
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


class UploadRowInline(admin.TabularInline[UploadRow, UploadJob]):
    model = UploadRow
    extra = 0
    can_delete = False
    readonly_fields = ["contact", "kind", "state", "message", "suggested_name", "updated_at"]
    fields = [*readonly_fields]

    def has_add_permission(self, request: HttpRequest, obj: UploadJob | None = None) -> bool:
        return False


@admin.register(UploadJob)
class UploadJobAdmin(ReadOnlyAdmin[UploadJob]):
    """Uploads to Xero and what came of each contact in them."""

    list_display = ["created_at", "connection", "created_by", "state", "resume_at", "detail"]
    list_filter = ["state", "connection"]
    list_select_related = ["connection", "created_by"]
    search_fields = ["rows__contact__name", "detail"]
    inlines = [UploadRowInline]


# --- Transaction sync --------------------------------------------------------------------------


admin.site.unregister(Transaction)


class OrganisationFilter(admin.SimpleListFilter):
    """The organisation each transaction is for (sync.transaction_orgs' rule), or none yet."""

    title = "organisation"
    parameter_name = "organisation"
    NONE = "none"

    def lookups(
        self, request: HttpRequest, model_admin: "admin.ModelAdmin[Transaction]"
    ) -> list[tuple[str, str]]:
        return [
            *((str(c.pk), c.organisation_name) for c in XeroConnection.objects.usable()),
            (self.NONE, "No organisation yet"),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Transaction]
    ) -> QuerySet[Transaction]:
        value = self.value()
        if value == self.NONE:
            return without_organisation(queryset)
        if value and value.isdigit():
            connection = XeroConnection.objects.filter(pk=int(value)).first()
            return for_organisation(queryset, connection) if connection else queryset.none()
        return queryset


class MoveForm(forms.Form):
    connection = forms.ModelChoiceField(
        queryset=XeroConnection.objects.usable(), label="Move to", empty_label=None
    )


@admin.register(Transaction)
class TransactionWithOrganisationAdmin(TransactionAdmin):
    """The Omni transaction admin (transactions/admin.py, which knows nothing of Xero), with
    the organisation each transaction is for and an audited Move to another organisation,
    refused once it is synced there."""

    list_display = [*TransactionAdmin.list_display, "organisation"]
    list_filter = [*TransactionAdmin.list_filter, OrganisationFilter]
    readonly_fields = [*TransactionAdmin.readonly_fields, "organisation"]
    fieldsets = [
        *TransactionAdmin.fieldsets[:2],
        ("Xero", {"fields": ["organisation", *TransactionAdmin.fieldsets[2][1]["fields"]]}),
        *TransactionAdmin.fieldsets[3:],
    ]
    actions = ["move_to_organisation"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        found: QuerySet[Transaction] = with_organisation(super().get_queryset(request))
        return found.annotate(
            organisation_name=Subquery(
                XeroConnection.objects.filter(pk=OuterRef("organisation_pk")).values(
                    "organisation_name"
                )[:1]
            )
        )

    @admin.display(description="organisation")
    def organisation(self, obj: Transaction) -> str:
        return getattr(obj, "organisation_name", None) or "No organisation yet"

    @admin.action(description="Move to another organisation", permissions=["change"])
    def move_to_organisation(
        self, request: HttpRequest, queryset: QuerySet[Transaction]
    ) -> HttpResponse | None:
        """Asks which organisation first; each transaction moves on its own, so one that is
        refused (synced) never stops the others."""
        form = MoveForm(request.POST if request.POST.get("confirmed") == "yes" else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": "Move to another organisation",
                "transactions": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/sync/transaction_move.html", context)
        connection = form.cleaned_data["connection"]
        moved = 0
        for txn in queryset:
            try:
                transaction_move(transaction=txn, connection=connection, user=request.user)
            except MoveRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                f"Moved {moved} transaction(s) to {connection.organisation_name}: they are "
                "ready to sync there.",
                messages.SUCCESS,
            )
        return None


@admin.register(BranchOrganisation)
class BranchOrganisationAdmin(admin.ModelAdmin[BranchOrganisation]):
    """The rule, with several organisations connected: which one a branch's transactions go
    to (a branch not listed: the one organisation its contact is linked in)."""

    list_display = ["branch", "connection"]
    list_select_related = ["connection"]
    search_fields = ["branch"]


@admin.register(TransactionEvent)
class TransactionEventAdmin(ReadOnlyAdmin[TransactionEvent]):
    """Who skipped, reset or moved which transaction: readable by admins, never changed."""

    list_display = ["at", "action", "transaction_label", "organisation_name", "actor", "detail"]
    list_filter = ["action", "organisation_name", ("actor", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["actor"]
    search_fields = ["transaction_label", "detail"]
    date_hierarchy = "at"


@admin.register(SyncSettings)
class SyncSettingsAdmin(admin.ModelAdmin[SyncSettings]):
    """How an organisation's documents are created, and its automatic sync (also on the
    dashboard's Admin tab)."""

    list_display = ["connection", "document_status", "autosync", "autosync_last_at"]
    list_select_related = ["connection"]
    readonly_fields = ["autosync_last_at", "settings_refreshed_at", "documents_checked_at"]
    fields = ["connection", "document_status", "autosync", *readonly_fields]


class AccountMappingAdminForm(forms.ModelForm[AccountMapping]):
    class Meta:
        model = AccountMapping
        fields = ["connection", "transaction_type", "account_code", "tax_type"]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        connection = cleaned.get("connection")
        if connection is not None:
            for name, message in mapping_errors(
                connection=connection,
                account_code=str(cleaned.get("account_code") or "").strip(),
                tax_type=str(cleaned.get("tax_type") or "").strip(),
            ).items():
                self.add_error(name, message)
        return cleaned


@admin.register(AccountMapping)
class AccountMappingAdmin(admin.ModelAdmin[AccountMapping]):
    """The account and tax type each transaction type's lines go to; checked against the
    accounts and tax rates fetched from Xero."""

    form = AccountMappingAdminForm
    list_display = ["transaction_type", "account_code", "tax_type", "connection"]
    list_filter = ["connection", "transaction_type"]
    list_select_related = ["connection"]

    def save_model(
        self,
        request: HttpRequest,
        obj: AccountMapping,
        form: forms.ModelForm[AccountMapping],
        change: bool,
    ) -> None:
        account_mapping_save(mapping=obj)


@admin.register(ChartAccount)
class ChartAccountAdmin(ReadOnlyAdmin[ChartAccount]):
    """The chart of accounts as last fetched from Xero."""

    list_display = ["code", "name", "type", "status", "tax_type", "connection"]
    list_filter = ["status", "type", "connection"]
    search_fields = ["code", "name"]


@admin.register(TaxRate)
class TaxRateAdmin(ReadOnlyAdmin[TaxRate]):
    """The tax rates as last fetched from Xero."""

    list_display = ["tax_type", "name", "rate", "status", "connection"]
    list_filter = ["status", "connection"]
    search_fields = ["tax_type", "name"]


@admin.register(MirroredDocument)
class MirroredDocumentAdmin(ReadOnlyAdmin[MirroredDocument]):
    """Xero's documents as last fetched, which the Discrepancies view compares with Omni."""

    list_display = ["number", "kind", "type", "status", "total", "amount_paid", "updated_in_xero"]
    list_filter = ["kind", "status", "connection"]
    search_fields = ["number", "document_id"]


class SyncItemInline(admin.TabularInline[SyncItem, SyncRun]):
    model = SyncItem
    extra = 0
    can_delete = False
    readonly_fields = [
        "transaction",
        "state",
        "refusal",
        "message",
        "xero_id",
        "xero_number",
        "attempts",
        "updated_at",
    ]
    fields = [*readonly_fields]

    def has_add_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SyncRun | None = None) -> bool:
        return False


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin[SyncRun]):
    """The sync log: every run and its items, kept until an admin prunes them."""

    list_display = [
        "created_at",
        "connection",
        "trigger",
        "created_by",
        "state",
        "finished_at",
        "api_calls",
        "rate_limited",
        "detail",
    ]
    list_filter = ["state", "trigger", "connection", "finished_at"]
    list_select_related = ["connection", "created_by"]
    search_fields = ["detail", "items__transaction__number"]
    date_hierarchy = "created_at"
    inlines = [SyncItemInline]
    actions = ["prune"]

    def has_prune_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    @admin.action(
        description="Prune: delete the selected finished runs and their items",
        permissions=["prune"],
    )
    def prune(self, request: HttpRequest, queryset: QuerySet[SyncRun]) -> HttpResponse | None:
        """Asks first (naming how many runs and items go); runs under way are kept."""
        finished = queryset.exclude(state__in=SyncRun.ACTIVE)
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Prune the sync log?",
                "runs": queryset,
                "finished": finished.count(),
                "active": queryset.count() - finished.count(),
                "items": SyncItem.objects.filter(run__in=finished.values("pk")).count(),
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/sync/syncrun/prune_confirm.html", context)
        deleted = sync_log_prune(runs=queryset)
        self.message_user(request, f"Deleted {deleted} sync run(s) and their items.")
        return None


class ImportedContactInline(admin.TabularInline[ImportedContact, ContactImport]):
    model = ImportedContact
    extra = 0
    can_delete = False
    readonly_fields = ["row_number", "contact", "created", "outcome", "message"]
    fields = [*readonly_fields]

    def has_add_permission(self, request: HttpRequest, obj: ContactImport | None = None) -> bool:
        return False


@admin.register(ContactImport)
class ContactImportAdmin(ReadOnlyAdmin[ContactImport]):
    """Imports of Xero exports: who, when, what came of each row."""

    list_display = [
        "file_name",
        "created_by",
        "created_at",
        "confirmed_at",
        "created_count",
        "updated_count",
        "linked_count",
        "review_count",
        "problem_count",
    ]
    list_filter = ["connection"]
    list_select_related = ["created_by"]
    search_fields = ["file_name", "rows__contact_name"]
    exclude = ["file_data", "token"]
    inlines = [ImportedContactInline]


@admin.register(DismissedSuggestion)
class DismissedSuggestionAdmin(ReadOnlyAdmin[DismissedSuggestion]):
    """Suggestions someone said are not the contact; never suggested again."""

    list_display = ["contact", "xero_contact_id", "connection", "dismissed_by", "dismissed_at"]
    list_select_related = ["contact", "connection", "dismissed_by"]
    search_fields = ["contact__name", "xero_contact_id"]

    def has_delete_permission(
        self, request: HttpRequest, obj: DismissedSuggestion | None = None
    ) -> bool:
        # Deleting one offers the suggestion again.
        return request.user.is_superuser
