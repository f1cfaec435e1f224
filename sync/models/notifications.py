"""What a person is told when a background job they started ends: one row per job and person."""

from typing import Any

from django.conf import settings
from django.db import models


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_user(self, user: Any) -> "NotificationQuerySet":
        """The person's notifications, newest first."""
        return self.filter(user=user).order_by("-created", "-pk")

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A job that ended, for the person who started it: which job (its kind and id) and its
    counts as numbers. The words and the link are made when it is shown (sync.dashboard)."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", "Upload"
        SYNC = "sync", "Sync"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=16, choices=Kind)
    job_id = models.PositiveBigIntegerField(help_text="The job's id among those of its kind.")
    state = models.CharField(max_length=16, help_text="How the job ended: done or stopped.")
    counts = models.JSONField(
        default=dict, blank=True, help_text="The job's items counted by outcome (numbers only)."
    )
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "job_id"], name="one_notification_per_job_and_user"
            )
        ]
        indexes = [models.Index(fields=["user", "read_at", "-created"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.job_id} for {self.user_id}"
