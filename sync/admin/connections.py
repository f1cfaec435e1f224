"""Admin for connections, Xero calls and connection events."""

from django.contrib import admin
from django.http import HttpRequest

from sync.models import (
    ConnectionEvent,
    XeroApiCall,
    XeroConnection,
)

from .base import ReadOnlyAdmin


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


@admin.register(ConnectionEvent)
class ConnectionEventAdmin(ReadOnlyAdmin[ConnectionEvent]):
    """Who connected or disconnected Xero, and when Xero stopped accepting a connection."""

    list_display = ["at", "action", "organisation_name", "actor", "detail"]
    list_filter = ["action", "organisation_name"]
    list_select_related = ["actor"]
    search_fields = ["organisation_name", "detail"]
    date_hierarchy = "at"
