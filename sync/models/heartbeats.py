"""When each background process last showed that it was alive and working (/health/)."""

from django.db import models


class Heartbeat(models.Model):
    """One process's last sign of life: the scheduler's at each of its rounds, a worker's each
    time it runs the heartbeat task the scheduler queues (sync.monitoring.heartbeats). A worker
    that is up but stuck runs no task, so its beat grows old."""

    class Kind(models.TextChoices):
        WORKER = "worker", "Task worker"
        SCHEDULER = "scheduler", "Scheduler"

    kind = models.CharField(max_length=16, choices=Kind)
    process = models.CharField(max_length=255, unique=True, help_text="Its host and process ID.")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "-at"], name="heartbeat_kind_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.process} at {self.at:%Y-%m-%d %H:%M:%S}"
