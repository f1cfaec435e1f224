"""Xero's call limits as every process shares them (sync.connections.quota takes the slots)."""

from django.db import models

from .connections import XeroConnection


class XeroQuota(models.Model):
    """One organisation's calls to Xero, as every worker and web process counts them: the
    calls of the rolling minute, those in flight now, and what is left of the day."""

    connection = models.OneToOneField(
        XeroConnection, on_delete=models.CASCADE, related_name="quota", editable=False
    )
    calls = models.JSONField(
        default=list,
        help_text="When each call of the rolling minute counts from (Unix seconds), oldest first.",
    )
    in_flight = models.JSONField(
        default=dict,
        help_text="The calls under way: when each is taken for dead (a crashed process's).",
    )
    day_left = models.IntegerField("calls left today", null=True, blank=True)
    day_seen_at = models.FloatField(null=True, blank=True, help_text="When Xero last said so.")

    class Meta:
        verbose_name = "Xero quota"

    def __str__(self) -> str:
        return f"Xero quota of connection {self.connection_id}"


class XeroAppQuota(models.Model):
    """The app's calls to Xero across all organisations, counted in slices of the minute."""

    buckets = models.JSONField(
        default=dict, help_text="Calls by the start of their slice of the minute (Unix seconds)."
    )

    class Meta:
        verbose_name = "Xero app quota"

    def __str__(self) -> str:
        return "Xero app quota"
