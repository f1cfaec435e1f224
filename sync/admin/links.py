"""Admin for the contact mirror, links (changed through the link services) and link events."""

from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from sync.exceptions import UserFacingError
from sync.imports import views as import_views
from sync.links.services import contact_link, contact_relink, contact_unlink, link_rename
from sync.models import (
    ContactLink,
    LinkEvent,
    UnmirroredContact,
    XeroContact,
    XeroContactQuerySet,
)

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups
from .base import ReadOnlyAdmin


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
        "cleaned_fields",
    ]
    list_filter = ["status", "connection", "is_customer", "is_supplier"]
    list_select_related = ["connection"]
    search_fields = [*XeroContactQuerySet.SEARCHED_FIELDS, "contact_id"]


@admin.register(UnmirroredContact)
class UnmirroredContactAdmin(ReadOnlyAdmin[UnmirroredContact]):
    """Xero contacts the mirror could not store, and why (also on the Errors view)."""

    list_display = ["name", "contact_id", "reason", "connection", "at"]
    list_filter = ["connection"]
    list_select_related = ["connection"]


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
