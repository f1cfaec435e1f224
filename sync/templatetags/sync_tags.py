"""Template tags of the Xero dashboard."""

from collections.abc import Sequence
from typing import Any

from django import template
from django.db.models import Count, Q

from sync.models import UploadJob, UploadRow, XeroConnection

register = template.Library()


@register.simple_tag
def upload_jobs(connection: XeroConnection | None) -> Sequence[UploadJob]:
    """The organisation's uploads under way, with their counts (`done`, `attention`,
    `queued`, `total`, `finished`), oldest first."""
    if connection is None:
        return []
    jobs = list(
        UploadJob.objects.filter(
            connection=connection, state__in=[UploadJob.State.RUNNING, UploadJob.State.WAITING]
        )
        .annotate(
            total=Count("rows"),
            done=Count("rows", filter=Q(rows__state=UploadRow.State.DONE)),
            attention=Count(
                "rows",
                filter=Q(rows__state__in=[UploadRow.State.FAILED, UploadRow.State.DUPLICATE]),
            ),
            queued=Count("rows", filter=Q(rows__state__in=UploadRow.PENDING)),
        )
        .order_by("created_at", "pk")
    )
    for job in jobs:
        job.finished = job.total - job.queued  # type: ignore[attr-defined]
    return jobs


@register.filter
def evidence(row: Any) -> str:
    """What tells a Xero contact apart from namesakes: email, account and contact number."""
    parts = [row.email, row.account_number and f"account {row.account_number}"]
    parts.append(row.contact_number and f"no. {row.contact_number}")
    return " · ".join(p for p in parts if p)


@register.filter
def seconds_in_words(seconds: float | None) -> str:
    """A time left in words: "a few seconds", "3 minutes"."""
    from sync.xero.errors import duration

    if seconds is None:
        return ""
    return "a few seconds" if seconds < 10 else duration(seconds)


@register.simple_tag
def fix_url(transaction: Any) -> str:
    """Where a refused transaction's contact can be linked: its row on its contacts tab."""
    from sync.documents import contacts_url

    return contacts_url(transaction)
