"""Template tags of the Xero dashboard."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import template
from django.contrib.messages import get_messages
from django.contrib.messages.storage.base import Message
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from sync.dashboard import presenters, tabs
from sync.jobs import Job
from sync.links import undo
from sync.models import LinkEvent, Notification, UploadJob, XeroConnection
from sync.uploads.services import uploads_under_way

register = template.Library()


@register.simple_tag
def upload_jobs(connection: XeroConnection | None) -> Sequence[UploadJob]:
    """The organisation's uploads under way, with their counts (sync.uploads.services)."""
    return uploads_under_way(connection)


@register.simple_tag
def job_summary_of(ended: Notification | Job) -> presenters.JobSummary:
    """The words and link of a job that ended, from its notification or from the job itself
    (counting its items: one query), by sync.dashboard.presenters."""
    if isinstance(ended, Notification):
        return presenters.notification_summary(ended)
    return presenters.job_summary(
        kind=ended.KIND, job_id=ended.pk, state=ended.state, counts=ended.outcome_counts()
    )


@register.filter
def isolated(text: object) -> SafeString:
    """Text from outside the app (a name, a reference, a file name, a message from Xero), set
    apart from the page around it: a right-to-left override in it (U+202E) turns round only
    itself, never the words and numbers beside it. Escaped as any other value."""
    return format_html("<bdi>{}</bdi>", text)


@register.filter
def evidence(row: Any) -> str:
    """What tells a Xero contact apart from namesakes: email, account and contact number."""
    parts = [row.email, row.account_number and f"account {row.account_number}"]
    parts.append(row.contact_number and f"no. {row.contact_number}")
    return " · ".join(p for p in parts if p)


SEARCHED_FIELD_WORDS = {
    "name": "name",
    "first_name": "contact person's first name",
    "last_name": "contact person's last name",
    "email": "email address",
    "account_number": "account number",
    "contact_number": "contact number",
    "tax_number": "tax number",
}


@register.simple_tag
def search_reason(row: Any, query: str) -> SafeString:
    """Why a Search column result matched: "Name starts with “tu”"."""
    from sync.models.mirror import How

    match = row.search_match
    field = SEARCHED_FIELD_WORDS[match.field]
    said = {
        How.STARTS: f"{field.capitalize()} starts with",
        How.WORD: f"A word of the {field} starts with",
        How.INSIDE: f"{field.capitalize()} contains",
    }[match.how]
    return format_html("{} “<bdi>{}</bdi>”", said, query.strip())


@register.filter
def absolute(amount: Any) -> Any:
    """The amount without its sign (the words beside it say which way it goes)."""
    return abs(amount)


@register.filter
def seconds_in_words(seconds: float | None) -> str:
    """A time left in words: "a few seconds", "3 minutes"."""
    from sync.xero.errors import duration

    if seconds is None:
        return ""
    return "a few seconds" if seconds < 10 else duration(seconds)


@register.simple_tag
def refusal_fix(transaction: Any, refusal: str) -> str:
    """A link to where a refused transaction's link is fixed; empty for other refusals."""
    from sync.dashboard.presenters import refusal_fix

    link = refusal_fix(transaction, refusal)
    if link is None:
        return ""
    return format_html('<a href="{}" class="fix-link">{}</a>', link.url, link.label)


@register.simple_tag
def problem_fix(problem: Any) -> str:
    """A link to where a problem on the Errors view is fixed."""
    from sync.dashboard.presenters import problem_fix

    link = problem_fix(problem)
    return format_html(
        '<a href="{}">{} \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK}</a>', link.url, link.label
    )


@register.filter
def contact_row_url(contact: Any) -> str:
    """The contact's row on its Customers (or else Suppliers) subtab."""
    from sync.dashboard.presenters import contact_row_url

    return contact_row_url(contact)


@register.filter
def xero_contact_url(xero_contact_id: Any) -> str:
    """The Xero contact's own page in Xero."""
    from sync.dashboard.presenters import xero_contact_url

    return xero_contact_url(xero_contact_id)


@register.simple_tag
def contact_state(contact: Any, links_of: XeroConnection | None) -> Any:
    """What a contact's row shows (sync.dashboard.rows): `links_of` is the organisation whose
    link it shows, the one shown or else the one disconnected last."""
    from sync.dashboard import rows

    return rows.contact_row_of(contact, links_of)


@register.simple_tag
def transaction_state(transaction: Any, connection: XeroConnection | None) -> Any:
    """What a transaction's row shows (sync.dashboard.rows), from what the list annotated."""
    from sync.dashboard import rows

    return rows.transaction_row_of(transaction, connection)


@register.simple_tag
def payment_state(payment: Any) -> Any:
    """What a payment's row shows (sync.dashboard.rows)."""
    from sync.dashboard import rows

    return rows.payment_row(
        sync_state=payment.sync_state,
        transaction_type=payment.transaction.type,
        last_error=payment.last_error,
    )


@register.filter
def invalid_badge(link: Any) -> Any:
    """An invalid link's badge, as its row shows it (sync.dashboard.rows)."""
    from sync.dashboard import rows

    return rows.invalid_badge(link)


@dataclass(frozen=True)
class UndoOffer:
    """The Undo button of a message: the tab its form posts to, the event in its address and
    the others of its batch."""

    tab: str
    event: int
    others: list[int]


def _undo_offered(request: HttpRequest) -> dict[int, LinkEvent]:
    """The events the messages of this request offer to undo and still may, from the
    message (undo.undo_refusals): worked out once for all its messages, a few queries."""
    cached: dict[int, LinkEvent] | None = getattr(request, "_undo_offered", None)
    if cached is None:
        wanted = {pk for message in get_messages(request) for pk in tabs.message_undo(message)}
        events = undo.events(wanted)
        refusals = undo.undo_refusals(events, timezone.now(), from_message=True)
        cached = {event.pk: event for event in events if refusals[event.pk] is None}
        setattr(request, "_undo_offered", cached)  # noqa: B010 (a request has no such field)
    return cached


@register.simple_tag(takes_context=True)
def undo_offer(context: template.Context, message: Message) -> UndoOffer | None:
    """The Undo a message offers (tabs.undo_tag), while it still may; None otherwise."""
    wanted = tabs.message_undo(message)
    request = context.get("request")
    if not wanted or request is None or not request.user.has_perm("sync.use_dashboard"):
        return None
    offered = _undo_offered(request)
    pks = [pk for pk in wanted if pk in offered]
    if not pks:
        return None
    tab = context.get("tab")
    if tab not in tabs.TABS:
        contact = offered[pks[0]].contact
        tab = "sales" if contact is not None and contact.is_customer else "purchases"
    return UndoOffer(tab=tab, event=pks[0], others=pks[1:])


@register.inclusion_tag("sync/_open_in_xero.html")
def open_in_xero(thing: Any, icon: bool = False) -> dict[str, Any]:
    """An "Open in Xero" link (a new tab) to a linked contact, a synced transaction or a sync
    log line, named by its object for screen readers; nothing when it has no Xero object."""
    from sync.dashboard.presenters import open_in_xero

    return {"link": open_in_xero(thing) if thing is not None else None, "icon": icon}


@register.simple_tag
def totals_by_currency(transactions: Any) -> list[presenters.CurrencyTotal]:
    """The page's totals, one per currency."""
    return presenters.totals_by_currency(transactions)
