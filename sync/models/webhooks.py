"""What Xero's webhooks delivered: each delivery (signed or not) and each event it carried."""

from django.db import models

from .connections import XeroConnection


class WebhookDelivery(models.Model):
    """One POST to the webhook endpoint: when, how many events, and whether its signature
    was right (answered 200) or not (answered 401). The webhook's health is read off these."""

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    events = models.PositiveIntegerField(default=0)
    signed = models.BooleanField()
    # The Admin tab's Test sent it (sync.webhooks.sample), not Xero: it proves the endpoint
    # answers, not that Xero delivers, so the webhooks' health does not count it.
    sample = models.BooleanField("test sample", default=False)

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.events} events"


class WebhookEvent(models.Model):
    """One event as Xero sent it (an ID, not data), kept once however often it is delivered:
    Xero delivers at least once, in no promised order."""

    class Category(models.TextChoices):
        CONTACT = "CONTACT", "Contact"
        INVOICE = "INVOICE", "Invoice"
        CREDITNOTE = "CREDITNOTE", "Credit note"
        SUBSCRIPTION = "SUBSCRIPTION", "Subscription"

    connection = models.ForeignKey(
        XeroConnection, on_delete=models.CASCADE, related_name="webhook_events"
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    event_type = models.CharField(max_length=16)  # CREATE or UPDATE
    resource_id = models.UUIDField()
    event_date = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "category", "resource_id", "event_type", "event_date"],
                name="one_row_per_webhook_event",
            )
        ]
        indexes = [
            models.Index(fields=["connection", "processed_at"], name="webhook_event_pending"),
            models.Index(fields=["connection", "received_at"], name="webhook_event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.event_type} {self.resource_id} at {self.event_date}"
