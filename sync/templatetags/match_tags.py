"""Template tags for match suggestions on a contacts subtab."""

from collections.abc import Sequence
from typing import Any

from django import template

from sync.links import suggestions as matching
from sync.models import SyncContact, XeroConnection

register = template.Library()


@register.simple_tag
def page_suggestions(
    rows: Sequence[tuple[SyncContact, Any]], connection: XeroConnection | None
) -> list[int]:
    """Give each unlinked contact on the page its suggestions (as `suggested`), in three
    queries for the whole page; return the contacts that have an unambiguous one."""
    contacts = [contact for contact, _ in rows if contact.link is None]
    found = matching.suggestions_for(connection=connection, contacts=contacts)
    for contact in contacts:
        contact.suggested = found.get(contact.pk, [])  # type: ignore[attr-defined]
    return [pk for pk, suggestions in found.items() if any(s.unambiguous for s in suggestions)]
