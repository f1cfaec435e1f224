"""Template tags of the dashboard's Admin tab."""

from django import template

from sync.models import XeroConnection
from sync.syncing.errors import problems_count

register = template.Library()


@register.simple_tag
def errors_count(connection: XeroConnection | None) -> int:
    """How many problems the Errors view lists: the badge on its link."""
    return problems_count(connection)
