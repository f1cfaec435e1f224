"""What changed on an open dashboard page since it was made, shown without a reload.

Every contacts and transaction subtab carries a poller (sync/_live.html) that asks
`changes` every 2 seconds with its cursor (tabs.LiveCursor: the highest link event when the
page was made, and when that was) and the rows it shows. Nothing new is a 204, which htmx
leaves alone. Otherwise the answer is the rows whose contact's link changed since (a
webhook's archive, merge or restore, a colleague's link or unlink), each rendered by its
one row template and swapped out of band in place of the row of the same id; the person's
new job summaries for the page's notices; the progress of a job started elsewhere; and the
poller again with its new cursor.

Polls are made by htmx (`every 2s`); contacts.js adds the rows shown and skips a poll while
the browser tab is hidden, so no trigger filter needs eval (safe under a CSP without
'unsafe-eval').

Why polling rather than server-sent events: a stream holds a connection open for as long as
a tab is open, which under gunicorn's sync workers is a whole worker per open tab (a few
tabs would starve the site), and proxies buffer or cut long-lived answers. A poll is a
short request any worker and proxy serve; one that finds nothing costs three small indexed
queries (the organisation's link events after the cursor, the person's unread notifications
made since the page, a job under way the page does not show), however long the history.
Every 2 s, after the webhook's second or so, keeps a change under the 5 s target
(bench/webhooks.py).
"""

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from sync import filters
from sync.dashboard import rows, tabs
from sync.dashboard.contacts import link_counts_out_of_band, rows_out_of_band
from sync.dashboard.transactions import active_runs, transaction_rows_out_of_band
from sync.models import LinkEvent, SyncRun, UploadJob, XeroConnection
from sync.notifications.services import notifications_new

# Link events read by one poll; a larger burst (a webhook's 1,000 contacts) takes the next
# polls, each from where the last stopped.
EVENTS_AT_ONCE = 500
ANNOUNCED = 3  # rows named by the announcement; the rest are counted


class LiveFilters(filters.Filters):
    event = filters.ObjectId(label="Last link event seen")
    since = filters.ObjectId(label="Page made at")
    connection = filters.ObjectId(label="Organisation")


def _events_after(connection: XeroConnection | None, after: int) -> list[tuple[int, int | None]]:
    """The organisation's link events after `after`, oldest first: (event, contact)."""
    if connection is None:
        return []
    found = LinkEvent.objects.filter(connection=connection, pk__gt=after).order_by("pk")
    return list(found.values_list("pk", "contact_id")[:EVENTS_AT_ONCE])


def _job_elsewhere(
    sub: tabs.Subtab, connection: XeroConnection | None, watched: dict[str, list[int]]
) -> bool:
    """Whether an upload (on a contacts subtab) or a sync (on a transaction subtab) of the
    organisation is under way that the page shows no progress of: started in another tab,
    by a colleague or by the automatic sync. One query."""
    if connection is None:
        return False
    if sub.transaction_type is None:
        shown = [UploadJob.State.RUNNING, UploadJob.State.WAITING]  # as its progress shows
        uploads = UploadJob.objects.filter(connection=connection, state__in=shown)
        return uploads.exclude(pk__in=watched["upload"]).exists()
    syncs = SyncRun.objects.filter(connection=connection, state__in=SyncRun.ACTIVE)
    return syncs.exclude(pk__in=watched["sync"]).exists()


def _progress_out_of_band(
    request: tabs.DashboardRequest, sub: tabs.Subtab, connection: XeroConnection | None
) -> str:
    """The page's progress bars as they are now, marked for htmx to swap in place of the
    page's: they poll their own progress from then on, and give way to their summary."""
    context: dict[str, Any] = {"next_page": tabs.next_url(request, ""), "ended": [], "oob": True}
    if sub.transaction_type is None:
        context["connection"] = connection
        return render_to_string("sync/_upload_progress.html", context, request=request)
    context["syncs"] = active_runs(connection)
    return render_to_string("sync/_sync_progress.html", context, request=request)


def _made_at(since: int | None) -> datetime:
    """When the page was made (ms since the epoch), never later than now."""
    now = timezone.now()
    try:
        return min(datetime.fromtimestamp((since or 0) / 1000, tz=UTC), now)
    except (OverflowError, ValueError, OSError):
        return now


def _announcement(said: list[str]) -> str:
    """What the changed rows now say, in one line for the page's live region."""
    if len(said) > ANNOUNCED:
        more = len(said) - ANNOUNCED
        return "; ".join(said[:ANNOUNCED]) + f"; and {more} more row{'s' if more > 1 else ''}."
    return "; ".join(said) + "."


def _said(badge: rows.Badge) -> str:
    return f"{badge.label} {badge.name}" if badge.name else badge.label


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def changes(request: tabs.DashboardRequest, tab: str, subtab: str) -> HttpResponse:
    """What changed since the page's cursor: 204 when nothing did; otherwise the rows shown
    (`row`) whose contact's link changed, out of band, the new notifications (but those of
    the jobs whose progress the page shows, `upload` and `sync`), the progress of a job the
    page does not show, and the poller again."""
    sub = tabs.subtab_of(tab, subtab)
    if sub.payments:
        raise Http404("A payments list does not update itself")
    wanted = LiveFilters.read(request.GET)
    shown = filters.ids_posted(request.GET, "row")
    connection = tabs.current_connection(request)
    if getattr(connection, "pk", None) != wanted["connection"]:
        # Another organisation is shown now (switched in another tab): the page's rows are
        # the other's, and stay as they are until it is loaded again.
        return HttpResponse(status=204)
    events = _events_after(connection, wanted["event"] or 0)
    watched = {kind: filters.ids_posted(request.GET, kind) for kind in ("upload", "sync")}
    notices = notifications_new(user=request.user, after=_made_at(wanted["since"]), watched=watched)
    elsewhere = _job_elsewhere(sub, connection, watched)
    if not events and not notices and not elsewhere:
        return HttpResponse(status=204)
    changed = {contact for _, contact in events if contact is not None}
    if sub.transaction_type is None:
        back = tabs.return_url(request, tab)
        contacts = rows_out_of_band(request, tab, [pk for pk in shown if pk in changed], back)
        html = [row for _, row in contacts]
        if changed:  # the links the counts are made of changed
            html.append(link_counts_out_of_band(request, tab))
        said = [
            f"{contact.name}: {_said(rows.contact_row_of(contact, connection).badge)}"
            for contact, _ in contacts
        ]
    else:
        found = (
            transaction_rows_out_of_band(request, sub, shown, sorted(changed)) if changed else []
        )
        html = [row for _, row in found]
        said = [
            f"{txn.number}: {_said(rows.transaction_row_of(txn, connection).contact)}"
            for txn, _ in found
        ]
    if elsewhere:
        html.append(_progress_out_of_band(request, sub, connection))
    made = notices[0].created if notices else _made_at(wanted["since"])
    cursor = tabs.LiveCursor(
        event=events[-1][0] if events else wanted["event"] or 0,
        since=int(made.timestamp() * 1000),
    )
    context = {
        "live": cursor,
        "tab": tab,
        "subtab": sub,
        "connection": connection,
        "rows": html,
        "new_notices": notices,
        # Links changed: a webhook's events may just have arrived, and the line saying how
        # omni-xero learns of changes (webhooks or polling) is shown again as it now is.
        "links_changed": bool(events),
    }
    response = render(request, "sync/_live.html#poller", context)
    if said:
        trigger_client_event(
            response, "live-rows", {"message": _announcement(said)}, after="settle"
        )
    return response
