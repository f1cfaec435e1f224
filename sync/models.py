"""Xero connections, the links joining Omni contacts to Xero contacts, and their audit trail."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from contacts.models import Contact


class XeroConnection(models.Model):
    """One Xero organisation (tenant) that omni-xero is connected to."""

    organisation_name = models.CharField(max_length=255)
    tenant_id = models.UUIDField("Xero tenant ID", unique=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["organisation_name"]

    def __str__(self) -> str:
        return self.organisation_name


class LinkMethod(models.TextChoices):
    UPLOAD = "upload", "Uploaded to Xero"
    EXISTING = "existing", "Existing Xero contact"
    IMPORT = "import", "Imported from a spreadsheet"


class LinkStatus(models.TextChoices):
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"


class InvalidReason(models.TextChoices):
    ARCHIVED = "archived", "Archived in Xero"
    MERGED = "merged", "Merged into another Xero contact"
    DELETED = "deleted", "Deleted from Xero"
    GDPR = "gdpr", "GDPR request in Xero"


class ContactLinkQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(status=LinkStatus.VALID)

    def invalid(self):
        return self.filter(status=LinkStatus.INVALID)


class ContactLink(models.Model):
    """Joins one Omni contact to one Xero contact within one connection.

    Made and changed only through the services in sync/services.py, which audit every change.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="links")
    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="links")
    xero_contact_id = models.UUIDField("Xero contact ID")
    xero_name = models.CharField(
        "Xero name", max_length=255, help_text="The Xero contact's name when last seen."
    )
    method = models.CharField("linked by", max_length=16, choices=LinkMethod)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("linked at", auto_now_add=True)
    status = models.CharField(max_length=16, choices=LinkStatus, default=LinkStatus.VALID)
    invalid_reason = models.CharField(max_length=16, choices=InvalidReason, blank=True)
    merged_into_xero_contact_id = models.UUIDField(
        "merged into Xero contact ID",
        null=True,
        blank=True,
        help_text="The surviving Xero contact, when this one was merged into it.",
    )
    status_checked_at = models.DateTimeField(null=True, blank=True)

    objects = ContactLinkQuerySet.as_manager()

    class Meta:
        ordering = ["contact__name", "pk"]
        permissions = [
            ("use_dashboard", "Can link, unlink, upload and sync from the Xero dashboard"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "connection"],
                name="one_link_per_contact_per_connection",
                violation_error_message="This contact is already linked in this Xero organisation.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=LinkStatus.VALID, invalid_reason="")
                    | (Q(status=LinkStatus.INVALID) & ~Q(invalid_reason=""))
                ),
                name="link_invalid_iff_reason",
                violation_error_message="An invalid link needs a reason; a valid one has none.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(merged_into_xero_contact_id__isnull=True)
                    | Q(invalid_reason=InvalidReason.MERGED)
                ),
                name="link_survivor_only_when_merged",
                violation_error_message="Only a merged link has a surviving Xero contact.",
            ),
        ]
        indexes = [models.Index(fields=["connection", "xero_contact_id"])]

    def __str__(self) -> str:
        return f"{self.contact} → {self.xero_name}"

    @property
    def is_valid(self) -> bool:
        return self.status == LinkStatus.VALID

    @property
    def invalid_message(self) -> str:
        """Why the link cannot be used, in words for an accountant; empty when it is valid."""
        if self.is_valid:
            return ""
        messages = {
            InvalidReason.ARCHIVED: "{name} is archived in Xero. Restore it in Xero, or unlink "
            "and link another contact.",
            InvalidReason.MERGED: "{name} was merged into another Xero contact. Relink to the "
            "surviving contact, or unlink and link another contact.",
            InvalidReason.DELETED: "{name} no longer exists in Xero. Unlink and link another "
            "contact.",
            InvalidReason.GDPR: "{name} is under a GDPR request in Xero and cannot be used. "
            "Unlink and link another contact.",
        }
        return messages[InvalidReason(self.invalid_reason)].format(name=self.xero_name)


class LinkEventQuerySet(models.QuerySet):
    """Refuses bulk changes: the audit trail is append-only."""

    def update(self, **kwargs):
        raise ValidationError("Audit events are append-only and cannot be changed.")

    def delete(self):
        raise ValidationError("Audit events are append-only and cannot be deleted.")


class LinkEvent(models.Model):
    """An append-only audit row: who linked, unlinked, relinked or uploaded which contact."""

    class Action(models.TextChoices):
        LINK = "link", "Linked"
        UNLINK = "unlink", "Unlinked"
        RELINK = "relink", "Relinked"
        UPLOAD = "upload", "Uploaded"
        INVALIDATE = "invalidate", "Marked invalid"
        REVALIDATE = "revalidate", "Marked valid again"

    action = models.CharField(max_length=16, choices=Action)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when omni-xero itself acted (e.g. a health check).",
    )
    # The audit row outlives the contact and the connection: their names are kept as text.
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="link_events"
    )
    contact_name = models.CharField(max_length=255)
    connection = models.ForeignKey(
        XeroConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    organisation_name = models.CharField(max_length=255)
    xero_contact_id_before = models.UUIDField("Xero ID before", null=True, blank=True)
    xero_contact_id_after = models.UUIDField("Xero ID after", null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    objects = LinkEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.contact_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Audit events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events are append-only and cannot be deleted.")
