"""Admin for contact imports and dismissed suggestions (read-only)."""

from django.contrib import admin
from django.http import HttpRequest

from sync.models import (
    ContactImport,
    DismissedSuggestion,
    ImportedContact,
)

from .base import ReadOnlyAdmin


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
