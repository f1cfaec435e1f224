"""The Payments subtabs of Sales and Purchases: the tab's payments with their state and
reason, Upload of the selected ones and Upload all ready."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from sync import filters
from sync.dashboard import tabs
from sync.dashboard.counts import kept_counts
from sync.models import SyncSettings, XeroConnection
from sync.syncing.payments import (
    NO_ACCOUNT,
    payment_account_problem,
    payments_of_organisation,
    payments_upload,
)
from transactions.models import Payment, PaymentQuerySet, PaymentState

PAGE_SIZE = 50


class PaymentFilters(filters.Filters):
    state = filters.choice(PaymentState.values, "State")
    q = filters.Search(label="Search")


class PaymentPosted(filters.Filters):
    payment = filters.ObjectIds(label="Payments")


def _plural(n: int) -> str:
    return f"{n} payment" if n == 1 else f"{n} payments"


def payment_rows(tab: str, connection: XeroConnection | None) -> PaymentQuerySet:
    """The tab's payments of the organisation shown, as their rows show them (one query)."""
    return payments_of_organisation(Payment.objects.for_tab(tab), connection).select_related(
        "transaction__contact"
    )


def payments_tab(request: tabs.DashboardRequest, tab: str, sub: tabs.Subtab) -> HttpResponse:
    """A Payments subtab: a page of the tab's payments, newest first."""
    from sync.dashboard.transactions import active_runs  # it imports the shell too

    wanted = PaymentFilters.read(request.GET)
    context = tabs.shell_context(request, tab, sub)
    connection = context["connection"]
    rows = payment_rows(tab, connection).in_state(wanted["state"]).search(wanted["q"])
    page = tabs.page_of(rows.order_by("-date", "-pk"), PAGE_SIZE, wanted["page"])
    ready = kept_counts(
        connection,
        f"payments:{tab}",
        lambda: {
            "ready": payment_rows(tab, connection).filter(sync_state=PaymentState.READY).count()
        },
    )
    account_problem = (
        payment_account_problem(
            connection=connection,
            code=SyncSettings.for_connection(connection).payment_account_code,
        )
        if connection is not None
        else ""
    )
    context |= {
        "page": page,
        "state": wanted["state"],
        "states": PaymentState.choices,
        "why_disabled": tabs.why_disabled(request, connection),
        "syncs": active_runs(connection),
        "here": request.get_full_path(),
        "next_page": request.get_full_path(),
        "ready_count": ready["ready"],
        "account_problem": account_problem,
    }
    template = "sync/payments_tab.html"
    if request.htmx:
        template += "#rows"
    return render(request, template, context)


@login_required
@permission_required("sync.use_dashboard", raise_exception=True)
@require_POST
def payments_action(request: tabs.DashboardRequest, tab: str) -> HttpResponse:
    """Upload the selected payments, or every ready one of the tab."""
    sub = tabs.subtab_of(tab, "payments")
    here = reverse("sync:subtab", kwargs={"tab": tab, "subtab": sub.slug})
    back = tabs.next_url(request, here)
    if not back.startswith(here):
        back = here
    connection = tabs.current_connection(request)
    action = request.POST.get("action", "")
    if connection is None:
        messages.error(request, tabs.NOT_CONNECTED_REASON)
        return redirect(back)
    # The account itself is checked against the chart the run fetches first.
    chosen_account = SyncSettings.for_connection(connection).payment_account_code
    if action == "upload_all":
        chosen = payment_rows(tab, connection).filter(sync_state=PaymentState.READY)
    elif action == "upload":
        ids = PaymentPosted.read(request.POST)["payment"]
        chosen = payment_rows(tab, connection).filter(pk__in=ids)
        if not ids:
            messages.error(request, "Select at least one payment.")
            return redirect(back)
    else:
        messages.error(request, "Choose Upload or Upload all ready.")
        return redirect(back)
    if not chosen_account:
        messages.error(request, NO_ACCOUNT)
        return redirect(back)
    run, waiting = payments_upload(connection=connection, payments=chosen, user=request.user)
    if waiting:
        verb = "waits for its" if waiting == 1 else "wait for their"
        messages.info(
            request,
            f"{_plural(waiting)} {verb} document to sync to Xero; a payment is ready once its "
            "document is there, and Upload all ready takes it.",
        )
    if run is not None:
        messages.success(
            request,
            f"Uploading {_plural(run.payment_items.count())} to {connection.organisation_name} "
            "in the background; you may leave this page.",
        )
    elif not waiting:
        messages.info(request, "Nothing to upload: they are synced or in a sync already.")
    return redirect(back)
