"""The append-only audit trail of links and connections."""

from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import models

from contacts.models import Contact
from transactions.models import Transaction

from .connections import XeroConnection


class AppendOnlyQuerySet[M: models.Model](models.QuerySet[M]):
    """Refuses bulk changes: an audit trail is append-only."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise ValidationError("Audit events are append-only and cannot be changed.")

    def delete(self) -> NoReturn:
        raise ValidationError("Audit events are append-only and cannot be deleted.")


# Who asks for a change: request.user, signed in or not; None when omni-xero itself acts.
Actor = User | AnonymousUser


class AuditEvent(models.Model):
    """An audit row: when, by whom, in which organisation. Written once, never changed."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when omni-xero itself acted (a health check, a refused token).",
    )
    # The row outlives the organisation's connection: its name is kept as text.
    organisation_name = models.CharField(max_length=255)
    detail = models.CharField(max_length=500, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-at", "-pk"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Audit events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ValidationError("Audit events are append-only and cannot be deleted.")


class LinkEvent(AuditEvent):
    """An append-only audit row: who linked, unlinked, relinked or uploaded which contact, or
    dismissed or brought back which suggestion (its Xero contact in xero_contact_id_after)."""

    class Action(models.TextChoices):
        LINK = "link", "Linked"
        UNLINK = "unlink", "Unlinked"
        RELINK = "relink", "Relinked"
        UPLOAD = "upload", "Uploaded"
        CREATE_ANYWAY = "create_anyway", "Created despite a likely match"
        RENAME = "rename", "Xero name corrected"
        INVALIDATE = "invalidate", "Marked invalid"
        REVALIDATE = "revalidate", "Marked valid again"
        DISMISS = "dismiss", "Suggestion dismissed"
        RESTORE = "restore", "Suggestion brought back"

    action = models.CharField(max_length=16, choices=Action)
    # The row outlives the contact: its name is kept as text.
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="link_events"
    )
    contact_name = models.CharField(max_length=255)
    connection = models.ForeignKey(
        XeroConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    xero_contact_id_before = models.UUIDField("Xero ID before", null=True, blank=True)
    xero_contact_id_after = models.UUIDField("Xero ID after", null=True, blank=True)
    # An undo is an event of its own (the inverse change), never the old one removed.
    undoes = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="undone_by",
        help_text="The event this one undid.",
    )

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.contact_name}"


class ConnectionEvent(AuditEvent):
    """An append-only audit row: who connected or disconnected Xero, and when it broke."""

    class Action(models.TextChoices):
        CONNECT = "connect", "Connected"
        RECONNECT = "reconnect", "Reconnected"
        DISCONNECT = "disconnect", "Disconnected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"

    action = models.CharField(max_length=16, choices=Action)
    connection = models.ForeignKey(
        XeroConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.organisation_name}"


class TransactionEvent(AuditEvent):
    """An append-only audit row: who skipped, reset or moved which transaction, and where, and
    who marked which of its discrepancies with Xero resolved."""

    class Action(models.TextChoices):
        SKIP = "skip", "Skipped"
        RESET = "reset", "Reset to ready"
        MOVE = "move", "Moved to another organisation"
        RESOLVE = "resolve", "Discrepancy marked resolved"

    action = models.CharField(max_length=16, choices=Action)
    # For RESOLVE: which discrepancy (sync.syncing.discrepancies.Problem) was resolved; one of
    # another kind found later (edited, then voided) is listed again.
    discrepancy = models.CharField(max_length=16, blank=True)
    # The row outlives the transaction: what it was is kept as text.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    transaction_label = models.CharField("transaction", max_length=300)
    connection = models.ForeignKey(
        XeroConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.transaction_label}"
