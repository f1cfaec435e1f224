"""Template tags of the dashboard's Admin tab."""

from django import template

from sync.dashboard.counts import kept_counts
from sync.models import XeroConnection
from sync.syncing.errors import problems_count
from sync.webhooks.health import WebhookHealth, webhook_health

register = template.Library()


@register.simple_tag
def errors_count(connection: XeroConnection | None) -> int:
    """How many problems the Errors view lists: the badge on its link."""
    counted = kept_counts(connection, "errors", lambda: {"problems": problems_count(connection)})
    return counted["problems"]


@register.simple_tag
def webhook_mode(connection: XeroConnection | None) -> WebhookHealth | None:
    """Whether Xero's webhooks report the organisation's changes, or omni-xero polls."""
    return webhook_health(connection) if connection is not None else None
