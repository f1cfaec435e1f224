"""The transaction subtabs' actions (Upload, Upload all ready, Skip, Reset), the progress of
the organisation's syncs, and the re-sync offered for refused transactions that can go now."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from sync import filters
from sync.dashboard import selection, tabs
from sync.models import SyncItem, SyncRun, XeroConnection
from sync.notifications.services import notifications_of_jobs
from sync.syncing import runs
from sync.syncing.organisations import (
    for_organisation,
    transactions_reset,
    transactions_skip,
    with_xero_status,
)
from sync.syncing.refusals import contact_can_go, with_contact_link
from transactions.models import SyncState, Transaction, TransactionQuerySet, TransactionType


def _plural(n: int, noun: str = "transaction") -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def active_runs(connection: XeroConnection | None) -> list[runs.Progress]:
    """The organisation's syncs not finished yet, oldest first, with their progress."""
    if connection is None:
        return []
    found = SyncRun.objects.filter(connection=connection, state__in=SyncRun.ACTIVE).order_by(
        "created_at", "pk"
    )
    return [runs.run_progress(run) for run in found]


def transaction_rows(
    transactions: TransactionQuerySet, connection: XeroConnection | None
) -> QuerySet[Transaction]:
    """The transactions as their subtab's rows show them, in one query: their lines, their
    latest refusal, and, connected, their contact's link and their document in Xero."""
    # A transaction's latest item is its own organisation's (a move makes it ready, so a
    # refusal shown is from a sync there); by the transaction alone, the index serves it.
    latest_item = SyncItem.objects.filter(transaction=OuterRef("pk")).order_by("-pk")
    rows = transactions.with_lines().annotate(refusal=Subquery(latest_item.values("refusal")[:1]))
    if connection is None:
        return rows
    return with_xero_status(with_contact_link(rows, connection), connection)


def transaction_rows_out_of_band(
    request: "tabs.DashboardRequest", sub: tabs.Subtab, pks: list[int], contact_ids: list[int]
) -> list[tuple[Transaction, str]]:
    """The subtab's transactions among `pks` whose contact is one of `contact_ids`, each with
    its row rendered by the one row template (transactions_tab.html#row), marked for htmx to
    swap in place of the row of the same id (sync.dashboard.live)."""
    connection = tabs.current_connection(request)
    of_type = for_organisation(Transaction.objects.of_type(sub.transaction_type or ""), connection)
    found = transaction_rows(
        of_type.filter(pk__in=pks, contact_id__in=contact_ids).select_related("contact"),
        connection,
    ).order_by("pk")
    context = {
        "connection": connection,
        "why_disabled": tabs.why_disabled(request, connection),
        "oob": True,
    }
    return [
        (txn, render_to_string("sync/transactions_tab.html#row", context | {"txn": txn}, request))
        for txn in found
    ]


def resync_offer(
    connection: XeroConnection | None, transaction_type: str = ""
) -> QuerySet[Transaction]:
    """The organisation's refused transactions whose contact has a valid link there now
    (restored in Xero, relinked): they can go, in one click. Those refused for an account or
    tax type are not offered (the fix is elsewhere); nor are those waiting in a sync."""
    if connection is None:
        return Transaction.objects.none()
    pending = SyncItem.objects.filter(transaction=OuterRef("pk"), state__in=SyncItem.PENDING)
    latest_refusal = (
        SyncItem.objects.filter(transaction=OuterRef("pk"), connection=connection)
        .order_by("-pk")
        .values("refusal")[:1]
    )
    offered = (
        for_organisation(Transaction.objects.filter(sync_state=SyncState.REFUSED), connection)
        .annotate(latest_refusal=Subquery(latest_refusal))
        .filter(
            contact_can_go(connection),
            latest_refusal__in=[SyncItem.Refusal.UNLINKED, SyncItem.Refusal.INVALID_LINK],
        )
        .exclude(Exists(pending))
    )
    return offered.of_type(transaction_type) if transaction_type else offered


def _start(
    request: HttpRequest, connection: XeroConnection, transactions: QuerySet[Transaction]
) -> None:
    run = runs.sync_start(connection=connection, transactions=transactions, user=request.user)
    if run is None:
        messages.info(request, "Nothing to upload: they are synced, skipped or in a sync already.")
        return
    queued = run.items.count()
    ahead = SyncRun.objects.filter(
        connection=connection, state__in=SyncRun.ACTIVE, created_at__lt=run.created_at
    ).count()
    verb = "has" if ahead == 1 else "have"
    place = (
        f" It starts when the {_plural(ahead, 'sync')} ahead of it {verb} finished."
        if ahead
        else ""
    )
    messages.success(
        request,
        f"Uploading {_plural(queued)} to {connection.organisation_name} in the background; "
        f"you may leave this page.{place}",
    )


@login_required
@permission_required("sync.use_dashboard", raise_exception=True)
@require_POST
def transactions_action(request: "tabs.DashboardRequest", tab: str, subtab: str) -> HttpResponse:
    """The action bar of a transaction subtab: Upload, Upload all ready, Skip, Reset."""
    sub = tabs.subtab_of(tab, subtab)
    here = reverse("sync:subtab", kwargs={"tab": tab, "subtab": subtab})
    back = tabs.next_url(request, here)
    if not back.startswith(here):  # back to this subtab only, as it was (filters, page)
        back = here
    connection = tabs.current_connection(request)
    action = request.POST.get("action", "")
    of_type = for_organisation(Transaction.objects.of_type(sub.transaction_type or ""), connection)
    selected = selection.selected_transactions(request.POST, sub.transaction_type or "", connection)
    if connection is None and action in ("upload", "upload_all"):
        messages.error(request, tabs.NOT_CONNECTED_REASON)
    elif request.POST.get("connection", str(getattr(connection, "pk", ""))) != str(
        getattr(connection, "pk", "")
    ):
        messages.error(
            request,
            "The organisation shown changed meanwhile; nothing was done. Check the list and "
            "try again.",
        )
    elif action == "upload_all":
        assert connection is not None
        # Only what can go: those their contact blocks would only be refused.
        _start(request, connection, of_type.ready_to_sync().filter(contact_can_go(connection)))
    elif action not in ("upload", "skip", "reset"):
        messages.error(request, "Choose Upload, Upload all ready, Skip or Reset.")
    elif not selected.exists():
        messages.error(request, f"Select at least one {sub.label.lower().rstrip('s')}.")
    elif action == "upload":
        assert connection is not None
        _start(request, connection, selected)
    elif connection is None:
        messages.error(request, tabs.NOT_CONNECTED_REASON)
    elif action == "skip":
        count = transactions_skip(connection=connection, transactions=selected, user=request.user)
        messages.success(
            request, f"Skipped {_plural(count)}: Upload all ready leaves them out until reset."
        )
    else:
        count = transactions_reset(connection=connection, transactions=selected, user=request.user)
        messages.success(
            request,
            f"Reset {_plural(count)} to ready. A synced one is updated in Xero, not created "
            "again, when uploaded.",
        )
    return redirect(back)


class ResyncFilters(filters.Filters):
    type = filters.choice(TransactionType.values, "Transaction type")
    contact = filters.ObjectId(label="Contact")


@login_required
@permission_required("sync.use_dashboard", raise_exception=True)
@require_POST
def resync_refused(request: "tabs.DashboardRequest") -> HttpResponse:
    """Sync again the refused transactions whose contact can go now."""
    connection = tabs.current_connection(request)
    back = tabs.next_url(request, reverse("sync:dashboard"))
    if connection is None:
        messages.error(request, tabs.NOT_CONNECTED_REASON)
        return redirect(back)
    wanted = ResyncFilters.read(request.POST)
    offer = resync_offer(connection, wanted["type"])
    if wanted["contact"] is not None:
        offer = offer.filter(contact_id=wanted["contact"])
    _start(request, connection, offer)
    return redirect(back)


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def sync_progress(request: "tabs.DashboardRequest") -> HttpResponse:
    """The progress of the organisation's syncs (polled while one is under way). The poll
    names the syncs it showed (`run`): those that ended since show their summary in their
    place, the polling stops once none is left, and the subtab's rows are fetched again
    (from `next`, the subtab shown) without reloading the page."""
    connection = tabs.current_connection(request)
    ended = runs.runs_ended(connection, filters.ids_posted(request.GET, "run"))
    notifications_of_jobs(user=request.user, kind="sync", job_ids=[run.pk for run in ended])
    context = {
        "syncs": active_runs(connection),
        "ended": ended,
        "next_page": tabs.next_url(request, ""),
    }
    return render(request, "sync/_sync_progress.html", context)
