"""Admin for sync settings, the account mapping, accounts, tax rates, runs and Xero's documents."""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from sync.models import (
    AccountMapping,
    ChartAccount,
    Currency,
    MirroredDocument,
    SyncItem,
    SyncRun,
    SyncSettings,
    TaxRate,
    TrackingCategory,
    TrackingOption,
)
from sync.syncing.log import sync_log_prune
from sync.syncing.mapping import account_mapping_save, mapping_errors

from .base import ReadOnlyAdmin


@admin.register(SyncSettings)
class SyncSettingsAdmin(admin.ModelAdmin[SyncSettings]):
    """How an organisation's documents are created, and its automatic sync (also on the
    dashboard's Admin tab)."""

    list_display = [
        "connection",
        "document_status",
        "autosync",
        "multicurrency",
        "autosync_last_at",
    ]
    list_select_related = ["connection"]
    readonly_fields = ["autosync_last_at", "settings_refreshed_at", "documents_checked_at"]
    fields = [
        "connection",
        "document_status",
        "autosync",
        "autosync_types",
        "autosync_at",
        "autosync_alert_email",
        "multicurrency",
        *readonly_fields,
    ]


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


@admin.register(Currency)
class CurrencyAdmin(ReadOnlyAdmin[Currency]):
    """The currencies the organisations use, as last fetched (with multicurrency on)."""

    list_display = ["code", "description", "connection"]
    list_filter = ["connection"]


class TrackingOptionInline(admin.TabularInline[TrackingOption, TrackingCategory]):
    model = TrackingOption
    extra = 0
    can_delete = False
    readonly_fields = ["name", "status", "option_id"]
    fields = ["name", "status", "option_id"]

    def has_add_permission(self, request: HttpRequest, obj: TrackingCategory | None = None) -> bool:
        return False


@admin.register(TrackingCategory)
class TrackingCategoryAdmin(ReadOnlyAdmin[TrackingCategory]):
    """The tracking categories and their options, as last fetched from Xero."""

    list_display = ["name", "status", "connection"]
    list_filter = ["status", "connection"]
    inlines = [TrackingOptionInline]


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
