"""Upload jobs and their rows: one Omni contact each, created or updated in Xero."""

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from contacts.models import Contact
from sync.jobs import Job, JobItem

from .connections import XeroConnection

# How long a finished upload's outcome stays on its row.
RECENT_UPLOAD = timedelta(hours=12)


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

    def outcome_counts(self) -> dict[str, Any]:
        """Its rows by state: {"done": 2, "failed": 1, ...}, every state there (one query)."""
        found = dict(self.rows.order_by().values_list("state").annotate(n=models.Count("pk")))
        return {state: found.get(state, 0) for state in UploadRow.State.values}


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
