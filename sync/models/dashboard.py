"""What the dashboard keeps between requests so that a page costs what it shows."""

from django.db import models

from .connections import XeroConnection


class KeptCounts(models.Model):
    """The whole-history counts a page shows of one organisation (a contacts subtab's link
    counts, a transaction subtab's ready and blocked, the Errors badge), as last counted:
    counting them costs as much as the history, so pages read them here and one request at
    a time counts them again when they are stale (sync.dashboard.counts)."""

    connection = models.ForeignKey(XeroConnection, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64)  # which counts: "links:sales", "errors", ...
    counts = models.JSONField(default=dict)
    # What had changed when they were counted: the newest link and transaction audit rows.
    mark = models.CharField(max_length=64, blank=True)
    counted_at = models.DateTimeField()
    # Set while one request counts them again: the others show the counts kept meanwhile.
    counting_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "kept counts"
        constraints = [
            models.UniqueConstraint(fields=["connection", "scope"], name="one_kept_count_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.scope} of {self.connection}"
