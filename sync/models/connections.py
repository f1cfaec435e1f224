"""Xero connections (one per organisation) and the record of every call made to Xero."""

from typing import Self

from django.conf import settings
from django.db import models
from django.utils import timezone


class ConnectionStatus(models.TextChoices):
    PENDING = "pending", "Not ready"  # tokens stored, first call to Xero not yet through
    ACTIVE = "active", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"
    DISCONNECTED = "disconnected", "Disconnected"


class ConnectionKind(models.TextChoices):
    OAUTH = "oauth", "OAuth2 (an accountant's consent)"
    CUSTOM = "custom", "Custom connection (client credentials)"


class XeroConnectionQuerySet(models.QuerySet["XeroConnection"]):
    def usable(self) -> Self:
        """Connections that are not disconnected (one needing a reconnect still shows)."""
        return self.exclude(status=ConnectionStatus.DISCONNECTED)

    def current(self) -> "XeroConnection | None":
        """The organisation the dashboard works with: the one connected most recently."""
        return self.usable().order_by("-connected_at", "-pk").first()

    def disconnected_last(self) -> "XeroConnection | None":
        """With none connected, the one disconnected most recently: its links are kept."""
        found = self.filter(status=ConnectionStatus.DISCONNECTED)
        return found.order_by("-connected_at", "-pk").first()


class XeroConnection(models.Model):
    """One Xero organisation (tenant) that omni-xero is connected to, with its tokens.

    Tokens are stored encrypted (sync.connections.crypto) and change only through
    sync.connections.services, which refreshes them. Disconnecting keeps the row and its
    links: reconnecting the same organisation finds them again.
    """

    organisation_name = models.CharField(max_length=255)
    tenant_id = models.UUIDField("Xero tenant ID", unique=True)
    kind = models.CharField(max_length=16, choices=ConnectionKind, default=ConnectionKind.OAUTH)
    xero_connection_id = models.UUIDField(
        "Xero connection ID", null=True, blank=True, help_text="The ID of /Connections."
    )
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=ConnectionStatus, default=ConnectionStatus.ACTIVE
    )
    status_detail = models.CharField(max_length=500, blank=True)
    # The organisation's BaseCurrency (GET /Organisation), read when it is connected and
    # when its accounts are fetched while unknown: Xero's never changes once it is used.
    base_currency = models.CharField(max_length=3, blank=True)

    # Tokens: encrypted, never shown. token_version counts refreshes; the refresh lease
    # lets exactly one process refresh at a time without holding a transaction open.
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    scopes = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField("access token expires", null=True, blank=True)
    token_refreshed_at = models.DateTimeField("tokens refreshed", null=True, blank=True)
    token_version = models.PositiveIntegerField(default=0, editable=False)
    refresh_lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    # Xero's quota headers, as the last response carried them.
    minute_remaining = models.IntegerField("calls left this minute", null=True, blank=True)
    day_remaining = models.IntegerField("calls left today", null=True, blank=True)
    app_minute_remaining = models.IntegerField("app calls left this minute", null=True, blank=True)
    quota_seen_at = models.DateTimeField(null=True, blank=True)

    # The local mirror of this organisation's Xero contacts.
    contacts_modified_since = models.DateTimeField(
        null=True, blank=True, help_text="High-water mark of the last contact refresh."
    )
    contacts_refreshed_at = models.DateTimeField(null=True, blank=True)
    # The last refresh that failed, and why in Xero's (or omni-xero's) words; cleared by the
    # next refresh that works.
    contacts_refresh_failed_at = models.DateTimeField(null=True, blank=True)
    contacts_refresh_error = models.CharField(max_length=500, blank=True)
    # Held by the refresh running now and renewed after every page (sync.links.mirror): one that
    # runs out was left by a killed worker, and the scheduler queues a new refresh.
    contacts_refresh_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When a refresh was queued and has not started yet: the scheduler queues none beside it
    # (for a lease's length: a task never started by then was lost).
    contacts_refresh_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the last check of the links against the mirror began (sync.links.health): the
    # next one judges only the links to contacts mirrored since.
    links_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # How many of the changes the last incremental refresh found no webhook event announced
    # (sync.webhooks.health): any, and the organisation falls back to polling.
    webhook_missed = models.PositiveIntegerField(default=0, editable=False)
    webhook_missed_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = XeroConnectionQuerySet.as_manager()

    class Meta:
        ordering = ["organisation_name"]

    def __str__(self) -> str:
        return self.organisation_name

    @property
    def needs_reconnect(self) -> bool:
        return self.status == ConnectionStatus.NEEDS_RECONNECT

    @property
    def is_pending(self) -> bool:
        return self.status == ConnectionStatus.PENDING


class XeroApiCall(models.Model):
    """One HTTP request omni-xero made to Xero: what an admin reads to see what we asked."""

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="api_calls"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    method = models.CharField(max_length=8)
    endpoint = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty when no response came back."
    )
    duration_ms = models.PositiveIntegerField()
    attempt = models.PositiveSmallIntegerField(default=1)
    minute_remaining = models.IntegerField(null=True, blank=True)
    day_remaining = models.IntegerField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=128, blank=True)
    error = models.CharField(max_length=500, blank=True)
    request_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The request, or the job it started, that made the call (X-Request-ID).",
    )

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "Xero API call"

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} → {self.status or 'no response'}"
