"""Notifications: made when a job a person started ends, shown to them on the next page they
open (newest first, a few at a time), and marked read once shown.

One service makes them, `job_notify`, which the job engine calls from `jobs.job_finish`, the
one place every job ends. A job records who started it in `created_by`; one nobody started
(an automatic sync, a scheduled mirror refresh) tells nobody here: a failed automatic sync
already emails the admins.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.utils import timezone

from sync import jobs
from sync.models import Notification

# At most this many unread notifications head a page; the rest are counted ("N more").
SHOWN_AT_TOP = 5
PAGE_SIZE = 50


@jobs.on_finish
def job_notify(job: jobs.Job) -> Notification | None:
    """Tell the person who started the job how it ended, with its items' counts; None when
    nobody started it, or it is of a kind nobody is told about."""
    user_id = getattr(job, "created_by_id", None)
    if user_id is None or job.KIND not in Notification.Kind.values:
        return None
    notification, _ = Notification.objects.get_or_create(
        user_id=user_id,
        kind=job.KIND,
        job_id=job.pk,
        defaults={"state": job.state, "counts": job.outcome_counts()},
    )
    return notification


@dataclass(frozen=True)
class Unread:
    """The unread notifications a page shows at its top, and how many more wait."""

    shown: Sequence[Notification]
    more: int


def _mark_read(user: Any, pks: Iterable[int]) -> None:
    Notification.objects.filter(user=user, pk__in=list(pks), read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_shown(*, user: Any, limit: int = SHOWN_AT_TOP) -> Unread:
    """The person's newest unread notifications, `limit` at most, marked read as they are
    shown (one UPDATE), and how many others are unread. One query when there are none, three
    at most."""
    unread = Notification.objects.for_user(user).unread()
    shown = list(unread[:limit])
    if not shown:
        return Unread(shown=[], more=0)
    more = unread.count() - len(shown) if len(shown) == limit else 0
    _mark_read(user, (n.pk for n in shown))
    return Unread(shown=shown, more=more)


def notifications_new(
    *,
    user: Any,
    after: datetime,
    watched: Mapping[str, Iterable[int]] | None = None,
    limit: int = SHOWN_AT_TOP,
) -> list[Notification]:
    """The person's unread notifications made after `after` (news to a page open since
    then), newest first, `limit` at most, marked read as they are shown. Those of the jobs
    in `watched` (kind: ids) are left unread: the page shows their progress, which gives way
    to their summary itself. One query when there are none."""
    found = Notification.objects.for_user(user).unread().filter(created__gt=after)
    for kind, job_ids in (watched or {}).items():
        found = found.exclude(kind=kind, job_id__in=list(job_ids))
    shown = list(found[:limit])
    _mark_read(user, (n.pk for n in shown))
    return shown


def notifications_page(*, user: Any, number: int) -> Page[Notification]:
    """One page of all the person's notifications, newest first; those unread on it are
    marked read (one UPDATE), still showing as unread on this page."""
    page = Paginator(Notification.objects.for_user(user), PAGE_SIZE).get_page(number)
    _mark_read(user, (n.pk for n in page if n.read_at is None))
    return page


def notifications_of_jobs(*, user: Any, kind: str, job_ids: Iterable[int]) -> list[Notification]:
    """The person's notifications of these jobs (a progress bar that ends shows them), marked
    read: the next page need not tell them again."""
    found = list(Notification.objects.for_user(user).filter(kind=kind, job_id__in=list(job_ids)))
    _mark_read(user, (n.pk for n in found if n.read_at is None))
    return found
