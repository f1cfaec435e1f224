"""Admin for upload jobs and their rows (read-only)."""

from django.contrib import admin
from django.http import HttpRequest

from sync.models import (
    UploadJob,
    UploadRow,
)

from .base import ReadOnlyAdmin


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
