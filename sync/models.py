"""Xero connections, the links joining Omni contacts to Xero contacts, and their audit trail."""

import uuid
from collections.abc import Iterable
from dataclasses import fields
from datetime import timedelta
from typing import Any, ClassVar, NoReturn, Self

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from contacts.models import Contact, ContactQuerySet, any_field_contains
from transactions.models import TO_SYNC, Transaction, TransactionType

from .jobs import Job, JobItem
from .xero.data import ContactDetails


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


class XeroConnection(models.Model):
    """One Xero organisation (tenant) that omni-xero is connected to, with its tokens.

    Tokens are stored encrypted (sync.crypto) and change only through sync.connections, which
    refreshes them. Disconnecting keeps the row and its links: reconnecting the same
    organisation finds them again.
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
    # Held by the refresh running now and renewed after every page (sync.mirror): one that
    # runs out was left by a killed worker, and the scheduler queues a new refresh.
    contacts_refresh_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # When a refresh was queued and has not started yet: the scheduler queues none beside it
    # (for a lease's length: a task never started by then was lost).
    contacts_refresh_queued_at = models.DateTimeField(null=True, blank=True, editable=False)

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

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "Xero API call"

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} → {self.status or 'no response'}"


class XeroContactQuerySet(models.QuerySet["XeroContact"]):
    SEARCHED_FIELDS = [f.name for f in fields(ContactDetails)]

    def active(self) -> Self:
        return self.filter(status=XeroContact.Status.ACTIVE)

    def search(self, text: str) -> Self:
        """Match any of the contact's details (name, email, account, contact or tax number)."""
        text = text.strip()
        if not text:
            return self.none()
        return self.filter(any_field_contains(text, self.SEARCHED_FIELDS))

    def bulk_create(
        self, objs: Iterable["XeroContact"], *args: Any, **kwargs: Any
    ) -> list["XeroContact"]:
        # Bulk inserts skip save(): the match keys are set here too, and rewritten with an
        # upsert's other fields.
        rows = list(objs)
        for row in rows:
            row.set_match_keys()
        if kwargs.get("update_fields"):
            kwargs["update_fields"] = [*kwargs["update_fields"], *MATCH_KEYS]
        return super().bulk_create(rows, *args, **kwargs)


class XeroContact(models.Model):
    """The local mirror of one Xero contact, archived ones included. Never edited here."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        ARCHIVED = "ARCHIVED", "Archived"
        GDPRREQUEST = "GDPRREQUEST", "GDPR request"

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="xero_contacts"
    )
    contact_id = models.UUIDField("Xero contact ID")
    name = models.CharField(max_length=255)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    account_number = models.CharField(max_length=50, blank=True)
    contact_number = models.CharField(max_length=50, blank=True)
    tax_number = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    merged_into_xero_contact_id = models.UUIDField("merged into", null=True, blank=True)
    is_customer = models.BooleanField(default=False)
    is_supplier = models.BooleanField(default=False)
    updated_in_xero = models.DateTimeField(null=True, blank=True)
    mirrored_at = models.DateTimeField(auto_now=True)
    # Normalised details (sync.same_contact), kept by save() and bulk_create(): the suggestions for
    # a page of Omni contacts look their candidates up by these, indexed.
    name_key = models.CharField(max_length=255, blank=True, editable=False)
    name_prefix = models.CharField(max_length=255, blank=True, editable=False)
    email_key = models.CharField(max_length=255, blank=True, editable=False)
    tax_key = models.CharField(max_length=50, blank=True, editable=False)
    account_key = models.CharField(max_length=50, blank=True, editable=False)
    number_key = models.CharField(max_length=50, blank=True, editable=False)

    objects = XeroContactQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "contact_id"], name="one_mirror_row_per_xero_contact"
            )
        ]
        indexes = [
            models.Index(fields=["connection", "name"]),
            models.Index(fields=["connection", "name_key"], name="xero_contact_name_key"),
            models.Index(fields=["connection", "name_prefix"], name="xero_contact_name_prefix"),
            models.Index(fields=["connection", "email_key"], name="xero_contact_email_key"),
            models.Index(fields=["connection", "tax_key"], name="xero_contact_tax_key"),
            models.Index(fields=["connection", "account_key"], name="xero_contact_account_key"),
            models.Index(fields=["connection", "number_key"], name="xero_contact_number_key"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_match_keys()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *MATCH_KEYS}
        super().save(*args, **kwargs)

    def set_match_keys(self) -> None:
        from .same_contact import match_keys  # same_contact reads these models

        keys = match_keys(
            name=self.name,
            email=self.email,
            tax_number=self.tax_number,
            account_number=self.account_number,
            contact_number=self.contact_number,
        )
        for column, key in keys.items():
            setattr(self, column, key)


MATCH_KEYS = ["name_key", "name_prefix", "email_key", "tax_key", "account_key", "number_key"]


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


class ContactLinkQuerySet(models.QuerySet["ContactLink"]):
    def valid(self) -> Self:
        return self.filter(status=LinkStatus.VALID)

    def invalid(self) -> Self:
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
    # The Omni contact's details fingerprint when it was linked or last uploaded: a contact
    # whose fingerprint differs now has changes that Upload would send.
    uploaded_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    uploaded_at = models.DateTimeField("last uploaded", null=True, blank=True)

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


# How long a finished upload's outcome stays on its row.
RECENT_UPLOAD = timedelta(hours=12)


class SyncContactQuerySet(ContactQuerySet["SyncContact"]):
    """Omni contacts as the dashboard lists them: with their link in one organisation."""

    LINK_FILTERS = {
        "": "All",
        "unlinked": "No linked contact",
        "linked": "Linked",
        "invalid": "Invalid link",
        "changed": "Changed since last upload",
    }

    @staticmethod
    def _ready_transactions(connection: "XeroConnection | None") -> "QuerySet[Transaction]":
        from .transaction_orgs import for_organisation  # it reads these models

        ready = Transaction.objects.filter(contact=models.OuterRef("pk"), sync_state__in=TO_SYNC)
        return for_organisation(ready, connection)

    def ready(self, connection: "XeroConnection | None") -> Self:
        """Contacts with at least one transaction ready to sync to the organisation, refused
        ones included (the list's default, as in Omni)."""
        return self.filter(models.Exists(self._ready_transactions(connection)))

    def with_ready_count(self, connection: "XeroConnection | None") -> Self:
        """Annotate `ready`: how many of the contact's transactions wait to be synced to the
        organisation."""
        counted = (
            self._ready_transactions(connection)
            .order_by()
            .values("contact")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(
            ready=Coalesce(models.Subquery(counted, output_field=models.IntegerField()), 0)
        )

    def with_link(self, connection: "XeroConnection | None") -> Self:
        """Prefetch the contact's link in the connection as `current_links` (0 or 1 of them),
        and its uploads there, newest first, as `recent_uploads` (for `upload_result`)."""
        links = (
            ContactLink.objects.filter(connection=connection).annotate(
                # A merged link's survivor as the mirror knows it, in the same query.
                survivor_name=models.Subquery(
                    XeroContact.objects.filter(
                        connection=connection,
                        contact_id=models.OuterRef("merged_into_xero_contact_id"),
                    ).values("name")[:1]
                )
            )
            if connection is not None
            else ContactLink.objects.none()
        )
        uploads = (
            UploadRow.objects.filter(
                connection=connection, updated_at__gte=timezone.now() - RECENT_UPLOAD
            ).order_by("-pk")
            if connection is not None
            else UploadRow.objects.none()
        )
        return self.prefetch_related(
            models.Prefetch("links", queryset=links, to_attr="current_links"),
            models.Prefetch("upload_rows", queryset=uploads, to_attr="recent_uploads"),
        )

    def linked(self, connection: "XeroConnection | None") -> Self:
        if connection is None:
            return self.none()  # nothing is linked without a connection
        return self.filter(links__connection=connection)

    def unlinked(self, connection: "XeroConnection | None") -> Self:
        if connection is None:
            return self
        return self.exclude(links__connection=connection)

    def invalid(self, connection: "XeroConnection | None") -> Self:
        if connection is None:
            return self.none()
        return self.filter(links__connection=connection, links__status=LinkStatus.INVALID)

    def changed(self, connection: "XeroConnection | None") -> Self:
        """Linked contacts whose details differ from what was last uploaded (or linked)."""
        if connection is None:
            return self.none()
        # One subquery, so that both conditions hold for the same link.
        return self.filter(
            models.Exists(
                ContactLink.objects.filter(
                    contact=models.OuterRef("pk"), connection=connection
                ).exclude(uploaded_fingerprint=models.OuterRef("details_fingerprint"))
            )
        )

    SORTS = ("name", "ready", "linked")

    def sorted_by(self, sort: str, connection: "XeroConnection | None") -> Self:
        """Order by one of SORTS ("-" first for descending; name when unknown). "ready" needs
        with_ready_count(); "linked" is the linked Xero contact's name, unlinked ones last. The
        pk breaks ties, so that no contact shows on two pages or on none."""
        descending = sort.startswith("-")
        key = sort.removeprefix("-")
        contacts = self
        if key == "linked":
            contacts = self.annotate(
                linked_name=models.Subquery(
                    ContactLink.objects.filter(
                        contact=models.OuterRef("pk"), connection=connection
                    ).values("xero_name")[:1]
                )
            )
        elif key != "ready":
            key = "name"
        field = models.F({"name": "name", "ready": "ready", "linked": "linked_name"}[key])
        first = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
        then_name = [] if key == "name" else ["name"]
        return contacts.order_by(first, *then_name, "pk")

    def link_filter(self, name: str, connection: "XeroConnection | None") -> Self:
        """One of LINK_FILTERS by its key; every contact for "" or an unknown key."""
        filters = {
            "linked": self.linked,
            "unlinked": self.unlinked,
            "invalid": self.invalid,
            "changed": self.changed,
        }
        return filters[name](connection) if name in filters else self


SyncContactManager = models.Manager.from_queryset(SyncContactQuerySet)


class SyncContact(Contact):
    """An Omni contact with what the sync knows of it (its links); the same table."""

    objects: ClassVar[SyncContactManager["SyncContact"]] = SyncContactManager()

    class Meta:
        proxy = True
        ordering = ["name", "pk"]

    @property
    def link(self) -> "ContactLink | None":
        """The contact's link in the connection given to with_link()."""
        current = getattr(self, "current_links", None)
        return current[0] if current else None

    @property
    def upload_result(self) -> "UploadRow | None":
        """The contact's latest upload in the connection given to with_link(), while it is
        news: pending, needing attention, or done within RECENT_UPLOAD."""
        recent = getattr(self, "recent_uploads", None)
        return recent[0] if recent else None

    @property
    def is_changed(self) -> bool:
        """Linked, and its details differ from what was last uploaded (or linked)."""
        link = self.link
        return link is not None and link.uploaded_fingerprint != self.details_fingerprint


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
    """An append-only audit row: who linked, unlinked, relinked or uploaded which contact."""

    class Action(models.TextChoices):
        LINK = "link", "Linked"
        UNLINK = "unlink", "Unlinked"
        RELINK = "relink", "Relinked"
        UPLOAD = "upload", "Uploaded"
        CREATE_ANYWAY = "create_anyway", "Created despite a likely match"
        RENAME = "rename", "Xero name corrected"
        INVALIDATE = "invalidate", "Marked invalid"
        REVALIDATE = "revalidate", "Marked valid again"

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


class UploadJob(Job):
    """One Upload an accountant started: contacts to create in Xero or to update there.

    It runs in the request for its first batch, then continues as a background task when
    there is more, or when Xero asks to wait.
    """

    KIND = "upload"

    class State(models.TextChoices):
        RUNNING = "running", "Uploading"
        WAITING = "waiting", "Waiting for Xero"
        DONE = "done", "Finished"
        STOPPED = "stopped", "Stopped"

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="upload_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State, default=State.RUNNING)
    # The mirror is refreshed once per upload, before its first batch (the duplicate guard
    # reads it; later batches add what they create).
    mirror_refreshed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Upload {self.pk} ({self.get_state_display()})"


class UploadRow(JobItem):
    """One contact in an upload: what was to be done, and what came of it.

    A contact has at most one row queued or sending per organisation (the database says so),
    so a double click or two people uploading it at once start one upload, not two.
    """

    class Kind(models.TextChoices):
        CREATE = "create", "Create in Xero"
        UPDATE = "update", "Update in Xero"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to upload"
        SENDING = "sending", "Uploading"
        DONE = "done", "Uploaded"
        FAILED = "failed", "Not uploaded"
        DUPLICATE = "duplicate", "Already in Xero"
        SKIPPED = "skipped", "Nothing to upload"

    PENDING = [State.QUEUED, State.SENDING]

    job = models.ForeignKey(UploadJob, on_delete=models.CASCADE, related_name="rows")
    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="upload_rows")
    kind = models.CharField(max_length=16, choices=Kind)
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    message = models.CharField(max_length=1000, blank=True)

    class Refusal(models.TextChoices):
        LIKELY = "likely", "Likely already in Xero"
        SIBLING = "sibling", "Likely the same as another contact of the upload"
        ARCHIVED_HOLDER = "archived_holder", "An archived Xero contact holds its details"
        INACTIVE = "inactive", "Xero answered with a contact that cannot be linked"

    # Why it was not created or not linked, and the Xero contact concerned: the likely
    # match (with the evidence, same_contact.Evidence codes), or the archived one in the way.
    refusal = models.CharField(max_length=16, choices=Refusal, blank=True)
    evidence = models.CharField(max_length=100, blank=True)
    suggested_xero_contact_id = models.UUIDField(null=True, blank=True)
    suggested_name = models.CharField(max_length=255, blank=True)
    # One upload attempt: its batch's Idempotency-Key comes from it (a retry of the attempt
    # reuses it; a new upload of the contact, after Unlink say, is a new attempt).
    attempt_key = models.UUIDField(default=uuid.uuid4, editable=False)
    # The ContactNumber this attempt creates the contact with (kept for its retries).
    contact_number = models.CharField(max_length=50, blank=True)
    # The accountant chose Create anyway for this row: the guard lets it through.
    create_anyway = models.BooleanField(default=False)
    fingerprint = models.CharField(
        max_length=32, blank=True, help_text="The contact's details fingerprint as sent."
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "contact"],
                condition=Q(state__in=["queued", "sending"]),
                name="one_pending_upload_per_contact",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_state_display()})"

    @property
    def needs_attention(self) -> bool:
        return self.state in (self.State.FAILED, self.State.DUPLICATE)

    @property
    def evidence_codes(self) -> list[str]:
        return [code for code in self.evidence.split(",") if code]


# --- Transaction sync --------------------------------------------------------------------------


class DocumentStatus(models.TextChoices):
    """The status documents are created with in Xero (Xero's values)."""

    DRAFT = "DRAFT", "Draft"
    AUTHORISED = "AUTHORISED", "Approved (authorised)"


class Autosync(models.TextChoices):
    OFF = "off", "Off"
    EVERY_15_MINUTES = "15m", "Every 15 minutes"
    EVERY_30_MINUTES = "30m", "Every 30 minutes"
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


AUTOSYNC_INTERVALS = {
    Autosync.EVERY_15_MINUTES: timedelta(minutes=15),
    Autosync.EVERY_30_MINUTES: timedelta(minutes=30),
    Autosync.HOURLY: timedelta(hours=1),
    Autosync.DAILY: timedelta(days=1),
    Autosync.WEEKLY: timedelta(weeks=1),
}


class SyncSettings(models.Model):
    """How one organisation's transactions are sent: document status and the schedule."""

    connection = models.OneToOneField(
        XeroConnection, on_delete=models.CASCADE, related_name="sync_settings"
    )
    document_status = models.CharField(
        "create documents as",
        max_length=16,
        choices=DocumentStatus,
        default=DocumentStatus.DRAFT,
        help_text="Draft documents can still be edited in Xero; approved ones are final.",
    )
    autosync = models.CharField(
        "sync automatically", max_length=8, choices=Autosync, default=Autosync.OFF
    )
    autosync_last_at = models.DateTimeField("last automatic sync", null=True, blank=True)
    settings_refreshed_at = models.DateTimeField(
        "accounts and tax rates fetched", null=True, blank=True
    )
    documents_checked_at = models.DateTimeField(
        "Xero documents last compared", null=True, blank=True
    )

    class Meta:
        verbose_name = "sync settings"
        verbose_name_plural = "sync settings"

    def __str__(self) -> str:
        return f"Sync settings for {self.connection}"

    @classmethod
    def for_connection(cls, connection: XeroConnection) -> "SyncSettings":
        found, _ = cls.objects.get_or_create(connection=connection)
        return found

    def autosync_due(self, now: Any) -> bool:
        interval = AUTOSYNC_INTERVALS.get(Autosync(self.autosync))
        if interval is None:
            return False
        return self.autosync_last_at is None or self.autosync_last_at + interval <= now


class AccountMapping(models.Model):
    """The account and tax type a transaction type's lines go to in Xero. Blank: each line
    keeps the code Omni gave it."""

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="account_mappings"
    )
    transaction_type = models.CharField(max_length=32, choices=TransactionType)
    account_code = models.CharField(
        max_length=10, blank=True, help_text="Blank: each line's own account code."
    )
    tax_type = models.CharField(
        max_length=32, blank=True, help_text="Blank: each line's own tax type."
    )

    class Meta:
        ordering = ["connection", "transaction_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "transaction_type"], name="one_mapping_per_type"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_transaction_type_display()}: {self.account_code or 'line codes'}"


class ChartAccount(models.Model):
    """One account of an organisation's chart of accounts, as last fetched from Xero."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    account_id = models.UUIDField("Xero account ID")
    code = models.CharField(max_length=10, blank=True)
    name = models.CharField(max_length=150)
    type = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16)
    tax_type = models.CharField("default tax type", max_length=32, blank=True)

    class Meta:
        ordering = ["connection", "code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "account_id"], name="one_row_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"


class TaxRate(models.Model):
    """One of an organisation's tax rates, as last fetched from Xero."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    tax_type = models.CharField(max_length=32)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=16)
    rate = models.DecimalField("rate (%)", max_digits=7, decimal_places=4)

    class Meta:
        ordering = ["connection", "name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "tax_type"], name="one_row_per_tax_type")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_type})"

    @property
    def is_active(self) -> bool:
        return self.status == "ACTIVE"


class SyncRun(Job):
    """One sync of transactions to one organisation: who asked, and how it went.

    One runs at a time per organisation (the database says so); the others wait their turn.
    Kept, with its items, until an admin prunes the sync log.
    """

    KIND = "sync"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Syncing"
        WAITING = "waiting", "Waiting for Xero"
        DONE = "done", "Finished"
        STOPPED = "stopped", "Stopped"

    class Trigger(models.TextChoices):
        DASHBOARD = "dashboard", "Dashboard"
        COMMAND = "command", "Command line"
        SCHEDULE = "schedule", "Automatic sync"

    ACTIVE = [State.QUEUED, State.RUNNING, State.WAITING]

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="sync_runs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(max_length=16, choices=Trigger, default=Trigger.DASHBOARD)
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    prepared = models.BooleanField(
        default=False, help_text="Links checked and accounts fetched for this run."
    )
    api_calls = models.PositiveIntegerField(default=0)
    write_calls = models.PositiveIntegerField(default=0)
    rate_limited = models.PositiveIntegerField("429 answers", default=0)
    minute_remaining = models.IntegerField(null=True, blank=True)
    day_remaining = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection"],
                condition=Q(state__in=["running", "waiting"]),
                name="one_sync_running_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return f"Sync {self.pk} ({self.get_state_display()})"


class SyncItem(JobItem):
    """One transaction in a sync run, and what came of it: the sync log's line."""

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting"
        SENDING = "sending", "Sending"
        SYNCED = "synced", "Synced"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"
        SKIPPED = "skipped", "Skipped"

    class Refusal(models.TextChoices):
        UNLINKED = "unlinked", "Contact not linked"
        INVALID_LINK = "invalid_link", "Link invalid"
        ACCOUNT = "account", "Account code"
        TAX = "tax", "Tax type"

    PENDING = [State.QUEUED, State.SENDING]

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="items")
    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, related_name="sync_items"
    )
    state = models.CharField(max_length=16, choices=State, default=State.QUEUED)
    refusal = models.CharField(max_length=16, choices=Refusal, blank=True)
    message = models.CharField(max_length=2000, blank=True)
    xero_id = models.UUIDField("Xero ID", null=True, blank=True)
    xero_number = models.CharField("Xero number", max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    batch_key = models.CharField(max_length=128, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # An item left sending is never put back blind when its claim runs out: its answer may
    # have been lost after Xero saved it, so the next run looks it up in Xero by its number
    # (sync.runs, the run's lease decides who does).
    claimed_until = None

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction"],
                condition=Q(state__in=["queued", "sending"]),
                name="one_pending_sync_per_transaction",
            )
        ]
        indexes = [models.Index(fields=["connection", "state"])]

    def __str__(self) -> str:
        return f"{self.transaction} ({self.get_state_display()})"


class BranchOrganisation(models.Model):
    """The rule an admin sets when several organisations are connected: an Omni branch's
    transactions go to this organisation (sync.transaction_orgs applies it)."""

    branch = models.CharField(max_length=100, unique=True, help_text="As Omni names it.")
    connection = models.ForeignKey(
        XeroConnection,
        on_delete=models.CASCADE,
        related_name="branches",
        verbose_name="organisation",
    )

    class Meta:
        ordering = ["branch"]
        verbose_name = "branch's organisation"
        verbose_name_plural = "branches' organisations"

    def __str__(self) -> str:
        return f"{self.branch} → {self.connection}"


class TransactionOrganisation(models.Model):
    """The organisation a transaction is for, once it is settled: one row per transaction (the
    transaction is the key), so it can never be two. Settled when a sync takes it, or Skip,
    or an admin moves it (sync.transaction_orgs); until then the rule says which it is."""

    transaction = models.OneToOneField(
        Transaction, on_delete=models.CASCADE, primary_key=True, related_name="organisation"
    )
    # PROTECT: a transaction synced to an organisation must never fall back to the rule,
    # which could send it to another.
    connection = models.ForeignKey(
        XeroConnection,
        on_delete=models.PROTECT,
        related_name="transaction_organisations",
        verbose_name="organisation",
    )
    settled_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "transaction's organisation"
        verbose_name_plural = "transactions' organisations"
        indexes = [models.Index(fields=["connection"])]

    def __str__(self) -> str:
        return f"{self.transaction_id} → {self.connection_id}"


class TransactionEvent(AuditEvent):
    """An append-only audit row: who skipped, reset or moved which transaction, and where."""

    class Action(models.TextChoices):
        SKIP = "skip", "Skipped"
        RESET = "reset", "Reset to ready"
        MOVE = "move", "Moved to another organisation"

    action = models.CharField(max_length=16, choices=Action)
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


class MirroredDocument(models.Model):
    """A document omni-xero sent, as Xero holds it now (refreshed with If-Modified-Since):
    what the discrepancies view compares with Omni."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    document_id = models.UUIDField("Xero ID")
    kind = models.CharField(max_length=16)
    type = models.CharField(max_length=16, blank=True)
    number = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16)
    total = models.DecimalField(max_digits=16, decimal_places=2)
    amount_due = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    amount_paid = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    updated_in_xero = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "document_id"], name="one_row_per_xero_document"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.status})"


class ContactImport(models.Model):
    """A contacts spreadsheet an accountant uploaded: kept here between its preview and its
    confirmation, found again only by its random token and only by the person who uploaded
    it; then what came of its rows."""

    token = models.CharField(max_length=64, unique=True, editable=False)
    # The history outlives a person's account; an import without one can no longer be
    # previewed or confirmed by anyone.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connection = models.ForeignKey(
        XeroConnection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The organisation whose Xero contacts the rows are linked to.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=255)
    file_data = models.BinaryField(editable=False, help_text="Emptied once imported.")
    customers = models.BooleanField(default=False)
    suppliers = models.BooleanField(default=False)
    confirmed_at = models.DateTimeField("imported at", null=True, blank=True)
    created_count = models.PositiveIntegerField("created", default=0)
    updated_count = models.PositiveIntegerField("updated", default=0)
    linked_count = models.PositiveIntegerField("linked", default=0)
    review_count = models.PositiveIntegerField("to review", default=0)
    problem_count = models.PositiveIntegerField("rows with errors", default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def roles(self) -> str:
        if self.customers and self.suppliers:
            return "customers and suppliers"
        return "customers" if self.customers else "suppliers"


class ImportedContact(models.Model):
    """One row of a confirmed import: the Omni contact it made or updated, and whether it was
    linked in the same step (or why not: those are the rows to review)."""

    class Outcome(models.TextChoices):
        LINKED = "linked", "Linked"
        ALREADY_LINKED = "already_linked", "Already linked"
        AMBIGUOUS = "ambiguous", "Several Xero contacts match"
        NO_MATCH = "no_match", "No Xero contact matches"
        REFUSED = "refused", "Not linked"

    REVIEW = [Outcome.AMBIGUOUS, Outcome.NO_MATCH, Outcome.REFUSED]

    contact_import = models.ForeignKey(ContactImport, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact_name = models.CharField(max_length=255)
    created = models.BooleanField(help_text="A new Omni contact (else an existing one updated).")
    outcome = models.CharField(max_length=16, choices=Outcome)
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["row_number"]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.contact_name}"


class DismissedSuggestion(models.Model):
    """A suggested Xero contact someone said is not this Omni contact: never suggested again."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    xero_contact_id = models.UUIDField("Xero contact ID")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-dismissed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "contact", "xero_contact_id"],
                name="one_dismissal_per_suggestion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact} ≠ {self.xero_contact_id}"
