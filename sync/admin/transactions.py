"""The Omni transaction admin, extended with the organisation each transaction is for, an
audited Move, branch mappings and the transactions' audit trail."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from sync.filters import as_id
from sync.models import (
    BranchOrganisation,
    BranchTracking,
    TrackingOption,
    TransactionEvent,
    XeroConnection,
)
from sync.syncing.mapping import branch_tracking_errors
from sync.syncing.organisations import (
    MoveRefused,
    for_organisation,
    transaction_move,
    with_organisation,
    without_organisation,
)
from transactions.admin import TransactionAdmin
from transactions.models import Transaction

from .base import ReadOnlyAdmin

admin.site.unregister(Transaction)


class OrganisationFilter(admin.SimpleListFilter):
    """The organisation each transaction is for (sync.syncing.organisations' rule), or none yet."""

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
        if value:
            # "²" is a digit to str.isdigit() but no id: as_id takes 1 to 18 digits 0-9.
            pk = as_id(value)
            connection = XeroConnection.objects.filter(pk=pk).first() if pk else None
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


class BranchTrackingForm(forms.ModelForm[BranchTracking]):
    """A branch's tracking, offered from the categories fetched from Xero and checked
    against them (an archived or unknown option is refused, as a sync would refuse it)."""

    class Meta:
        model = BranchTracking
        fields = ["branch", "category", "option"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        active = TrackingOption.objects.filter(status="ACTIVE", category__status="ACTIVE")
        known = sorted({(o.category.name, o.name) for o in active.select_related("category")})
        if known:
            listed = ", ".join(f"{category}: {option}" for category, option in known)
            self.fields["option"].help_text = f"Active in Xero: {listed}."

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        category, option = str(cleaned.get("category") or ""), str(cleaned.get("option") or "")
        if category and option:
            for message in branch_tracking_errors(
                branch=str(cleaned.get("branch") or ""), category=category, option=option
            ):
                self.add_error("option", message)
        return cleaned


@admin.register(BranchTracking)
class BranchTrackingAdmin(admin.ModelAdmin[BranchTracking]):
    """The tracking a branch's transactions' lines go to Xero with."""

    form = BranchTrackingForm
    list_display = ["branch", "category", "option"]
    search_fields = ["branch", "category", "option"]


@admin.register(TransactionEvent)
class TransactionEventAdmin(ReadOnlyAdmin[TransactionEvent]):
    """Who skipped, reset, moved or marked resolved which transaction: readable by admins,
    never changed."""

    list_display = ["at", "action", "transaction_label", "organisation_name", "actor", "detail"]
    list_filter = ["action", "organisation_name", ("actor", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["actor"]
    search_fields = ["transaction_label", "detail"]
    date_hierarchy = "at"
