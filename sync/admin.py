"""Admin for connections, links and the audit trail. Link changes go through sync.services.

It also extends the Omni contact admin (contacts/admin.py, which knows nothing of Xero) with
each contact's links and an audited Unlink action.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from contacts.admin import ContactAdmin
from contacts.models import Contact

from .exceptions import UserFacingError
from .models import (
    ConnectionEvent,
    ContactLink,
    LinkEvent,
    XeroApiCall,
    XeroConnection,
    XeroContact,
    XeroContactQuerySet,
)
from .services import contact_link, contact_relink, contact_unlink, link_rename


class ReadOnlyAdmin(admin.ModelAdmin):
    """For audit trails and records: readable by admins, never changed."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(XeroConnection)
class XeroConnectionAdmin(admin.ModelAdmin):
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
    fields = [
        "organisation_name",
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
    readonly_fields = [f for f in fields if f != "organisation_name"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting would drop every link of the organisation unaudited: disconnect instead.
        return False


@admin.register(XeroApiCall)
class XeroApiCallAdmin(ReadOnlyAdmin):
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

    def has_delete_permission(self, request, obj=None):
        # Old call records may be pruned; they are a log, not an audit trail.
        return request.user.is_superuser


@admin.register(XeroContact)
class XeroContactAdmin(ReadOnlyAdmin):
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


class ContactLinkForm(forms.ModelForm):
    class Meta:
        model = ContactLink
        fields = ["contact", "connection", "xero_contact_id", "xero_name", "method"]


@admin.register(ContactLink)
class ContactLinkAdmin(admin.ModelAdmin):
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

    def get_readonly_fields(self, request, obj=None):
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

    def get_fields(self, request, obj=None):
        fields = ["contact", "connection", "xero_contact_id", "xero_name", "method"]
        if obj is not None:
            fields += [
                "status",
                "invalid_reason",
                "merged_into_xero_contact_id",
                "status_checked_at",
                "created_by",
                "created_at",
            ]
        return fields

    def save_model(self, request, obj, form, change):
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

    def delete_model(self, request, obj):
        contact_unlink(contact=obj.contact, connection=obj.connection, user=request.user)

    def delete_queryset(self, request, queryset):
        for link in queryset.select_related("contact", "connection"):
            contact_unlink(contact=link.contact, connection=link.connection, user=request.user)


@admin.register(ConnectionEvent)
class ConnectionEventAdmin(ReadOnlyAdmin):
    """Who connected or disconnected Xero, and when Xero stopped accepting a connection."""

    list_display = ["at", "action", "organisation_name", "actor", "detail"]
    list_filter = ["action", "organisation_name"]
    list_select_related = ["actor"]
    search_fields = ["organisation_name", "detail"]
    date_hierarchy = "at"


@admin.register(LinkEvent)
class LinkEventAdmin(ReadOnlyAdmin):
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


class LinkInline(admin.TabularInline):
    model = ContactLink
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["connection", "xero_name", "xero_contact_id", "status", "invalid_reason", "method"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        # Links are made through the link form, which audits them.
        return False


admin.site.unregister(Contact)


@admin.register(Contact)
class ContactWithLinksAdmin(ContactAdmin):
    """The Omni contact admin, with the contact's Xero links and an audited Unlink."""

    list_display = [*ContactAdmin.list_display, "linked_to"]
    list_filter = [*ContactAdmin.list_filter, ("links", admin.EmptyFieldListFilter)]
    inlines = [LinkInline]
    actions = ["unlink_selected"]

    def get_queryset(self, request):
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

    def _unlink_all(self, request, contacts) -> int:
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
    def unlink_selected(self, request, queryset):
        unlinked = self._unlink_all(request, queryset)
        if unlinked:
            self.message_user(request, f"Unlinked {unlinked} contact(s).", messages.SUCCESS)

    # A deleted contact's links go through the audited unlink first, never a silent cascade.
    def delete_model(self, request, obj):
        self._unlink_all(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self._unlink_all(request, queryset)
        super().delete_queryset(request, queryset)
