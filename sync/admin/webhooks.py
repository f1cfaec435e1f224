"""Admin for Xero's webhook deliveries and the events they carried (read only)."""

from django.contrib import admin
from django.http import HttpRequest

from sync.models import WebhookDelivery, WebhookEvent

from .base import ReadOnlyAdmin


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin[WebhookDelivery]):
    """Each POST Xero made to the webhook URL, and whether its signature was right."""

    list_display = ["received_at", "signed", "events", "sample"]
    list_filter = ["signed", "sample"]
    date_hierarchy = "received_at"

    def has_delete_permission(
        self, request: HttpRequest, obj: WebhookDelivery | None = None
    ) -> bool:
        return request.user.is_superuser  # a log, not an audit trail


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin[WebhookEvent]):
    """Each event Xero sent (once, however often delivered) and what omni-xero did with it."""

    list_display = [
        "received_at",
        "connection",
        "category",
        "event_type",
        "resource_id",
        "event_date",
        "processed_at",
        "outcome",
    ]
    list_filter = ["category", "event_type", "connection"]
    list_select_related = ["connection"]
    search_fields = ["resource_id"]
    date_hierarchy = "received_at"

    def has_delete_permission(self, request: HttpRequest, obj: WebhookEvent | None = None) -> bool:
        return request.user.is_superuser
