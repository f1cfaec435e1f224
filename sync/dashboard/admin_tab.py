"""The Admin tab of the dashboard: the organisation's sync settings and account mapping, the
sync log (runs, their items, CSV export, prune), the Errors view, the Discrepancies view and
the state of Xero's webhooks (with a Test of the endpoint).
"""

from collections.abc import Callable
from datetime import datetime, time
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sync import filters
from sync.dashboard import selection, tabs
from sync.dashboard.tabs import DashboardRequest, current_connection
from sync.exceptions import UserFacingError
from sync.models import (
    ChartAccount,
    SyncContact,
    SyncItem,
    SyncRun,
    SyncSettings,
    TaxRate,
    XeroConnection,
)
from sync.syncing import discrepancies, runs
from sync.syncing import errors as problems
from sync.syncing import log as sync_log
from sync.syncing import mapping as sync_settings
from sync.syncing import refusals as documents
from sync.syncing.organisations import for_organisation, transactions_reset
from sync.webhooks import health as webhook_health
from sync.webhooks import sample as webhook_sample
from transactions.models import Transaction

PAGE_SIZE = 50
see = permission_required("contacts.view_contact", raise_exception=True)
act = permission_required("sync.use_dashboard", raise_exception=True)
ADMINS_ONLY = "Only admins can change these settings."
NOT_CONNECTED = "Connect to Xero first."

# The Admin tab's pages: (URL name, label).
ADMIN_PAGES = [
    ("sync:admin_tab", "Settings"),
    ("sync:sync_log", "Sync log"),
    ("sync:errors", "Errors"),
    ("sync:discrepancies", "Discrepancies"),
    ("sync:admin_webhooks", "Webhooks"),
]


def admins_only[F: Callable[..., HttpResponse]](view: F) -> F:
    """Superusers only (403 otherwise): the settings that change what goes to Xero."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied(ADMINS_ONLY)
        return view(request, *args, **kwargs)

    return checked  # type: ignore[return-value]


def _context(request: DashboardRequest, page: str) -> dict[str, Any]:
    """The dashboard's shell (connection, tab bar) with the Admin tab's own page links."""
    context = tabs.shell_context(request, "sales", tabs.TABS["sales"][1][0])
    return context | {
        "tab": "admin",
        "tab_label": "Admin",
        "admin_page": page,
        "admin_page_label": dict(ADMIN_PAGES)[page],
        "admin_pages": ADMIN_PAGES,
    }


def _connection_or_back(request: DashboardRequest) -> XeroConnection | None:
    connection = current_connection(request)
    if connection is None:
        messages.error(request, NOT_CONNECTED)
    return connection


# --- Settings ----------------------------------------------------------------------------------


def _settings_page(
    request: DashboardRequest,
    settings_form: sync_settings.SyncSettingsForm | None = None,
    mappings: list[tuple[str, sync_settings.AccountMappingForm]] | None = None,
) -> HttpResponse:
    context = _context(request, "sync:admin_tab")
    connection = context["connection"]
    if connection is not None:
        if settings_form is None or mappings is None:
            settings_form, mappings = sync_settings.settings_forms(connection)
        readonly = not request.user.is_superuser
        every: list[forms.BaseForm] = [settings_form, *(f for _, f in mappings)]
        for form in every:
            for field in form.fields.values():
                field.disabled = readonly
        context |= {
            "settings_form": settings_form,
            "mappings": mappings,
            "mapping_problems": sync_settings.mapping_problems(connection=connection),
            "mapping_warnings": sync_settings.mapping_warnings(connection=connection),
            "branch_tracking": sync_settings.branch_tracking_problems(connection=connection),
            "accounts": ChartAccount.objects.filter(connection=connection),
            "tax_rates": TaxRate.objects.filter(connection=connection),
            "sync_settings": SyncSettings.for_connection(connection),
            "can_change": request.user.is_superuser,
        }
    return render(request, "sync/admin_tab.html", context)


@login_required
@see
@require_GET
def admin_tab(request: DashboardRequest) -> HttpResponse:
    return _settings_page(request)


@login_required
@admins_only
@require_POST
def admin_settings_save(request: DashboardRequest) -> HttpResponse:
    connection = _connection_or_back(request)
    if connection is None:
        return redirect("sync:admin_tab")
    settings_form, mappings = sync_settings.settings_forms(connection, request.POST)
    forms_ = [form for _, form in mappings]
    if not (settings_form.is_valid() and all([form.is_valid() for form in forms_])):
        messages.error(request, "Nothing was saved: correct the fields marked below.")
        return _settings_page(request, settings_form, mappings)
    sync_settings.sync_settings_save(settings_form=settings_form, mapping_forms=forms_)
    messages.success(request, "Saved the sync settings and the account mapping.")
    return redirect("sync:admin_tab")


@login_required
@act
@require_POST
def admin_fetch(request: DashboardRequest) -> HttpResponse:
    """Fetch the chart of accounts, the tax rates, the tracking categories (and with
    multicurrency the currencies) from Xero."""

    def fetch(connection: XeroConnection) -> str:
        fetched = documents.settings_refresh(connection=connection, tracking=True)
        currencies = f", {fetched.currencies} currencies" if fetched.currencies is not None else ""
        return (
            f"Fetched {fetched.accounts} accounts, {fetched.tax_rates} tax rates"
            f"{currencies} and {fetched.tracking_categories} tracking categories from Xero."
        )

    return _xero_action(
        request, fetch, "The accounts and tax rates were not fetched", "sync:admin_tab"
    )


def _xero_action(
    request: DashboardRequest, call: Callable[[XeroConnection], str], failed: str, back: str
) -> HttpResponse:
    """Call Xero for the organisation shown; say what came of it, or why not, in a message."""
    connection = _connection_or_back(request)
    if connection is not None:
        try:
            done = call(connection)
        except UserFacingError as error:
            messages.error(request, f"{failed}: {error}")
        else:
            messages.success(request, done)
    return redirect(back)


# --- The sync log ------------------------------------------------------------------------------


class LogFilter(filters.Filters):
    state = forms.ChoiceField(choices=[("", "Any state"), *SyncRun.State.choices], required=False)
    trigger = forms.ChoiceField(
        choices=[("", "Any trigger"), *SyncRun.Trigger.choices], required=False
    )
    since = filters.Day(label="From")
    until = filters.Day(label="To")
    outcome = forms.ChoiceField(
        choices=[("", "Any outcome"), *SyncItem.State.choices], required=False
    )
    run = filters.ObjectId(label="Run")

    def values(self) -> dict[str, Any]:
        """The filters given, for runs_filtered (BadParameter when one is not usable)."""
        if not self.is_valid():
            raise filters.form_error(self)
        return {k: v for k, v in self.cleaned_data.items() if v and k not in ("page", "run")}


def _filtered_runs(request: HttpRequest, connection: XeroConnection | None) -> Any:
    form = LogFilter(request.GET)
    wanted = form.values()
    wanted.pop("outcome", None)
    return form, sync_log.runs_filtered(sync_log.runs_with_counts(connection), **wanted)


@login_required
@see
@require_GET
def log(request: DashboardRequest) -> HttpResponse:
    context = _context(request, "sync:sync_log")
    form, found = _filtered_runs(request, context["connection"])
    context |= {
        "filter": form,
        "page": Paginator(found, PAGE_SIZE).get_page(form.cleaned_data["page"]),
        "export_query": request.GET.urlencode(),
        "can_prune": request.user.is_superuser,
    }
    return render(request, "sync/sync_log.html", context)


@login_required
@see
@require_GET
def run_detail(request: DashboardRequest, pk: int) -> HttpResponse:
    context = _context(request, "sync:sync_log")
    run = get_object_or_404(sync_log.runs_with_counts(context["connection"]), pk=pk)
    form = LogFilter(request.GET)
    outcome = form.values().get("outcome", "")
    items = sync_log.items_of(SyncRun.objects.filter(pk=run.pk), outcome)
    context |= {
        "run": run,
        "progress": runs.run_progress(run),
        "filter": form,
        "outcome": outcome,
        "page": Paginator(items, PAGE_SIZE).get_page(form.cleaned_data["page"]),
        "payments": sync_log.payments_of(run),
    }
    return render(request, "sync/sync_run.html", context)


@login_required
@see
@require_GET
def log_export(request: DashboardRequest) -> StreamingHttpResponse:
    """The items as CSV: of one run (?run=), or of the runs the log's filters select."""
    connection = current_connection(request)
    form, found = _filtered_runs(request, connection)
    run = form.cleaned_data["run"]
    if run is not None:
        found = found.filter(pk=run)
    items = sync_log.items_of(found, form.values().get("outcome", ""))
    name = f"sync-log-run-{run}.csv" if run is not None else "sync-log.csv"
    return StreamingHttpResponse(
        sync_log.items_csv(items),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class PruneForm(forms.Form):
    before = filters.Day(
        label="Delete runs finished before",
        required=True,
        error_messages={
            "required": "Give the date: runs finished before it are deleted.",
            "invalid": filters.Day.range_error(),
        },
    )

    def moment(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.cleaned_data["before"], time.min))


@login_required
@admins_only
@require_http_methods(["GET", "POST"])
def log_prune(request: DashboardRequest) -> HttpResponse:
    """GET with a date asks to confirm (naming how many runs go); POST deletes them."""
    connection = current_connection(request)
    form = PruneForm(request.POST if request.method == "POST" else request.GET)
    if not form.is_valid():
        for error in form.errors.get("before", []):
            messages.error(request, str(error))
        return redirect("sync:sync_log")
    doomed = sync_log.prunable(before=form.moment(), connection=connection)
    if request.method == "GET":
        context = _context(request, "sync:sync_log") | {
            "before": form.cleaned_data["before"],
            "count": doomed.count(),
            "items": SyncItem.objects.filter(run__in=doomed.values("pk")).count(),
        }
        return render(request, "sync/sync_log_prune.html", context)
    deleted = sync_log.sync_log_prune(runs=doomed)
    messages.success(
        request,
        f"Deleted {deleted} sync run{'s' if deleted != 1 else ''} finished before "
        f"{form.cleaned_data['before']:%d %b %Y}, with their items.",
    )
    return redirect("sync:sync_log")


# --- Errors ------------------------------------------------------------------------------------


@login_required
@see
@require_GET
def errors(request: DashboardRequest) -> HttpResponse:
    context = _context(request, "sync:errors")
    connection = context["connection"]
    page_ = tabs.page_of(
        problems.contacts_with_problems(connection),
        problems.CONTACTS_PER_PAGE,
        filters.Filters.read(request.GET)["page"],
    )
    groups = problems.problems_by_contact(connection, list(page_))
    rows, other_messages = tabs.messages_by_row(request, [group.contact for group in groups])
    context |= {
        "page": page_,
        "groups": [(group, notes) for group, (_, notes) in zip(groups, rows, strict=True)],
        "other_messages": other_messages,
        "unmirrored": problems.unmirrored_contacts(connection),
    }
    return render(request, "sync/errors.html", context)


CONFIRM_SHOWN = 20  # contacts the Unlink confirmation names; the rest are counted


class FixForm(forms.Form):
    action = forms.ChoiceField(choices=[(a.value, a.value) for a in problems.FixAction])


@login_required
@act
@require_POST
def errors_fix(request: DashboardRequest) -> HttpResponse:
    """Relink, Upload or Unlink (after a confirmation) the contacts checked on the Errors view;
    each row then says what was done, or why it was skipped."""
    back = tabs.next_url(request, reverse("sync:errors"))
    connection = _connection_or_back(request)
    form = FixForm(request.POST)
    if connection is None:
        return redirect(back)
    contacts = list(
        selection.selected_problem_contacts(request.POST, connection).order_by("name", "pk")
    )
    if filters.one(filters.ObjectId(label="Organisation"), request.POST, "connection") not in (
        None,
        connection.pk,
    ):
        # The page was another organisation's (switched in another tab): its rows are not
        # the ones shown now.
        messages.error(
            request,
            f"The organisation shown is now {connection.organisation_name}; nothing was done. "
            "Check the list and try again.",
        )
        return redirect(back)
    if not form.is_valid():
        messages.error(request, "Choose Relink, Upload or Unlink.")
        return redirect(back)
    action = problems.FixAction(form.cleaned_data["action"])
    if not contacts:
        messages.error(request, "Select at least one contact.")
        return redirect(back)
    if action == problems.FixAction.UNLINK and request.POST.get("confirmed") != "yes":
        linked = SyncContact.objects.filter(pk__in=[c.pk for c in contacts]).with_link(connection)
        listed = list(linked.order_by("name", "pk"))
        context = _context(request, "sync:errors") | {
            "contacts": listed,
            "shown": listed[:CONFIRM_SHOWN],
            "more": max(0, len(listed) - CONFIRM_SHOWN),
            "matching": selection.wants_all_matching(request.POST),
            "next": back,
        }
        return render(request, "sync/errors_unlink_confirm.html", context)
    for outcome in problems.errors_fix(
        connection=connection, contacts=contacts, action=action, user=request.user
    ):
        said = f"{outcome.contact.name}: {'done' if outcome.done else 'skipped'}. {outcome.message}"
        level = messages.SUCCESS if outcome.done else messages.WARNING
        messages.add_message(request, level, said, extra_tags=tabs.row_tag(outcome.contact))
    return redirect(back)


@login_required
@act
@require_POST
def errors_resync(request: DashboardRequest, contact: int) -> HttpResponse:
    """Sync again a contact's refused transactions whose cause is gone; say what still stops
    the others."""
    back = tabs.next_url(request, reverse("sync:errors"))
    connection = _connection_or_back(request)
    if connection is None:
        return redirect(back)
    ready, blocked = problems.resync_ready(connection=connection, contact_id=contact)
    if blocked:
        messages.warning(
            request,
            f"{_plural(len(blocked))} would be refused again, so not sent: {blocked[0].message}",
        )
    if not ready:
        if not blocked:
            messages.info(request, "That contact has no refused transactions any more.")
        return redirect(back)
    run = runs.sync_start(
        connection=connection,
        transactions=Transaction.objects.filter(pk__in=ready),
        user=request.user,
    )
    if run is None:
        messages.info(
            request,
            "Nothing to send: that contact's refused transactions are in a sync already. "
            "Follow it in the sync log.",
        )
        return redirect(back)
    count = run.items.count()
    messages.success(request, f"Syncing {_plural(count)} again: follow it in the sync log.")
    return redirect(back)


def _plural(n: int) -> str:
    return f"{n} transaction" if n == 1 else f"{n} transactions"


# --- Discrepancies -----------------------------------------------------------------------------


@login_required
@see
@require_GET
def discrepancies_view(request: DashboardRequest) -> HttpResponse:
    context = _context(request, "sync:discrepancies")
    connection = context["connection"]
    wanted = DiscrepancyFilter.read(request.GET)
    show_resolved = wanted["resolved"] == "1"
    if connection is not None:
        found = discrepancies.discrepancies_found(
            connection=connection, show_resolved=show_resolved
        )
        page = tabs.page_of(found, PAGE_SIZE, wanted["page"])
        context |= {
            "page": page,
            "discrepancies": discrepancies.discrepancies_of(
                connection=connection, transactions=list(page)
            ),
            "sync_settings": SyncSettings.for_connection(connection),
            "show_resolved": show_resolved,
        }
    return render(request, "sync/discrepancies.html", context)


class DiscrepancyFilter(filters.Filters):
    resolved = filters.choice(["1"], "Show resolved")


def _transaction_posted(request: DashboardRequest, connection: XeroConnection) -> Transaction:
    """The organisation's transaction posted (404 for another organisation's)."""
    pk = filters.one(filters.ObjectId(label="Transaction"), request.POST, "transaction")
    return get_object_or_404(for_organisation(Transaction.objects.all(), connection), pk=pk)


@login_required
@act
@require_POST
def discrepancy_resolve(request: DashboardRequest) -> HttpResponse:
    """Mark a transaction's discrepancy with Xero resolved (audited): it is hidden from then."""
    connection = _connection_or_back(request)
    if connection is not None:
        txn = _transaction_posted(request, connection)
        try:
            found = discrepancies.discrepancy_resolve(
                connection=connection, transaction=txn, user=request.user
            )
        except UserFacingError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"Marked {txn} resolved ({found.problem.label}). “Show resolved” lists it.",
            )
    return redirect(tabs.next_url(request, reverse("sync:discrepancies")))


@login_required
@act
@require_POST
def discrepancy_reset(request: DashboardRequest) -> HttpResponse:
    """Make a transaction whose document differs ready to sync again (the subtabs' Reset)."""
    connection = _connection_or_back(request)
    if connection is not None:
        txn = _transaction_posted(request, connection)
        count = transactions_reset(
            connection=connection,
            transactions=Transaction.objects.filter(pk=txn.pk),
            user=request.user,
        )
        if count:
            messages.success(
                request,
                f"Reset {txn} to ready: uploading it updates its document in Xero, it is not "
                "created again.",
            )
        else:
            messages.info(request, f"{txn} was not reset: it is ready, or in a sync now.")
    return redirect(tabs.next_url(request, reverse("sync:discrepancies")))


@login_required
@act
@require_POST
def discrepancies_refresh(request: DashboardRequest) -> HttpResponse:
    def refresh(connection: XeroConnection) -> str:
        fetched = discrepancies.documents_refresh(connection=connection)
        return f"Refreshed from Xero: {fetched} documents changed since last time."

    return _xero_action(
        request, refresh, "Xero's documents were not refreshed", "sync:discrepancies"
    )


# --- Webhooks ----------------------------------------------------------------------------------


def _webhook_url(request: HttpRequest) -> str:
    """The address to register in Xero's developer portal: the endpoint, as this request
    reached omni-xero (host, scheme behind a proxy that says so)."""
    return request.build_absolute_uri(reverse("xero_webhook"))


@login_required
@see
@require_GET
def admin_webhooks(request: DashboardRequest) -> HttpResponse:
    context = _context(request, "sync:admin_webhooks")
    connection = context["connection"]
    if connection is not None:
        context |= {
            "panel": webhook_health.webhook_panel(connection=connection),
            "webhook_url": _webhook_url(request),
            "can_test": request.user.is_superuser,
        }
    return render(request, "sync/admin_webhooks.html", context)


# What is wrong with an answer to the Test, by webhook_sample.Problem.
TEST_PROBLEMS = {
    webhook_sample.Problem.REFUSED: "could not connect ({detail})",
    webhook_sample.Problem.TIMEOUT: "no answer within 5 s",
    webhook_sample.Problem.REDIRECT: "a redirect to {detail}, which Xero does not follow",
    webhook_sample.Problem.BODY: "200 but with a body; Xero wants it empty",
    webhook_sample.Problem.STATUS: "{status}, expected {expected}",
}


@login_required
@admins_only
@require_POST
def admin_webhooks_test(request: DashboardRequest) -> HttpResponse:
    """Replay Xero's intent-to-receive pair through the real endpoint, over HTTP."""
    try:
        attempts = webhook_sample.webhook_test(url=_webhook_url(request))
    except UserFacingError as error:
        messages.error(request, str(error))
        return redirect("sync:admin_webhooks")
    said = []
    for attempt in attempts:
        name = "Signed sample" if attempt.signed else "wrongly signed"
        if attempt.ok:
            said.append(f"{name}: {attempt.status} in {attempt.ms} ms ✓")
        else:
            wrong = TEST_PROBLEMS[attempt.problem].format(
                detail=attempt.detail, status=attempt.status, expected=attempt.expected
            )
            said.append(f"{name}: {wrong} ✗")
    text = "; ".join(said) + "."
    if all(attempt.ok for attempt in attempts):
        messages.success(request, f"{text} Xero would enable this endpoint.")
    else:
        messages.error(request, f"{text} Xero would not enable this endpoint.")
    return redirect("sync:admin_webhooks")
