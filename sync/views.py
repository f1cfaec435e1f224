"""The Accounting → Xero integration dashboard: Sales and Purchases tabs and their subtabs."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.middleware import HtmxDetails

from contacts.models import Contact
from transactions.models import SyncState, Transaction, TransactionType

from .exceptions import UserFacingError
from .models import ContactLink, SyncContact, SyncContactQuerySet, XeroConnection
from .services import contact_unlink

PAGE_SIZE = 50


class DashboardRequest(HttpRequest):
    """A request as the dashboard sees it: with django-htmx's details (its middleware sets
    them on every request) and, once current_connection() has looked it up, the connection."""

    htmx: HtmxDetails
    _xero_connection: XeroConnection | None


@dataclass(frozen=True)
class Subtab:
    slug: str
    label: str
    transaction_type: str | None = None  # None: the tab's contact list


TABS: dict[str, tuple[str, list[Subtab]]] = {
    "sales": (
        "Sales",
        [
            Subtab("customers", "Customers"),
            Subtab("invoices", "Invoices", TransactionType.SALES_INVOICE),
            Subtab("credit-notes", "Credit notes", TransactionType.SALES_CREDIT_NOTE),
        ],
    ),
    "purchases": (
        "Purchases",
        [
            Subtab("suppliers", "Suppliers"),
            Subtab("orders", "Purchase orders", TransactionType.PURCHASE_ORDER),
            Subtab("bills", "Bills", TransactionType.SUPPLIER_INVOICE),
            Subtab("credit-notes", "Credit notes", TransactionType.SUPPLIER_CREDIT_NOTE),
        ],
    ),
}


def current_connection(request: DashboardRequest) -> XeroConnection | None:
    """The connection the dashboard works with, looked up once per request."""
    if not hasattr(request, "_xero_connection"):
        request._xero_connection = XeroConnection.objects.current()
    return request._xero_connection


def _subtab(tab: str, slug: str) -> Subtab:
    if tab not in TABS:
        raise Http404("No such tab")
    for subtab in TABS[tab][1]:
        if subtab.slug == slug:
            return subtab
    raise Http404("No such subtab")


def _shell_context(request: DashboardRequest, tab: str, subtab: Subtab) -> dict[str, Any]:
    connection = current_connection(request)
    return {
        "tabs": [(slug, label, subs[0].slug) for slug, (label, subs) in TABS.items()],
        "tab": tab,
        "subtabs": TABS[tab][1],
        "subtab": subtab,
        "connection": connection,
        "can_act": request.user.has_perm("sync.use_dashboard"),
        "mirrored": connection.xero_contacts.count() if connection else 0,
        "query": request.GET.get("q", "").strip(),
    }


def _contacts_page(
    request: HttpRequest, tab: str, connection: XeroConnection | None
) -> tuple[Page[SyncContact], str]:
    link_filter = request.GET.get("linked", "")
    contacts = (
        SyncContact.objects.for_tab(tab)
        .search(request.GET.get("q", ""))
        .link_filter(link_filter, connection)
        .with_ready_count()
        .with_link(connection)
        .order_by("name", "pk")
    )
    return Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page")), link_filter


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    return redirect("sync:subtab", tab="sales", subtab="customers")


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
def subtab_view(request: DashboardRequest, tab: str, subtab: str) -> HttpResponse:
    sub = _subtab(tab, subtab)
    context = _shell_context(request, tab, sub)
    if sub.transaction_type is None:
        page, link_filter = _contacts_page(request, tab, context["connection"])
        context |= {
            "page": page,
            "link_filter": link_filter,
            "link_filters": SyncContactQuerySet.LINK_FILTERS,
        }
        template = "sync/contacts_tab.html"
    else:
        state = request.GET.get("state", "")
        transactions = (
            Transaction.objects.of_type(sub.transaction_type)
            .search(context["query"])
            .in_state(state)
            .with_lines()
        )
        context |= {
            "page": Paginator(transactions, PAGE_SIZE).get_page(request.GET.get("page")),
            "state": state,
            "states": SyncState.choices,
        }
        template = "sync/transactions_tab.html"
    if request.htmx:
        template += "#rows"
    return render(request, template, context)


@login_required
@permission_required("sync.use_dashboard", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_unlink_view(request: DashboardRequest, tab: str, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST unlinks."""
    if tab not in TABS:
        raise Http404("No such tab")
    contact = get_object_or_404(Contact.objects.for_tab(tab), pk=pk)
    connection = current_connection(request)
    back = reverse("sync:subtab", kwargs={"tab": tab, "subtab": TABS[tab][1][0].slug})
    link = (
        ContactLink.objects.filter(contact=contact, connection=connection).first()
        if connection
        else None
    )
    if request.method == "GET":
        if link is None:
            messages.info(request, f"{contact.name} has no linked contact.")
            return redirect(back)
        return render(
            request, "sync/unlink_confirm.html", {"contact": contact, "link": link, "back": back}
        )
    try:
        if connection is None:
            raise UserFacingError("omni-xero is not connected to Xero.")
        contact_unlink(contact=contact, connection=connection, user=request.user)
    except UserFacingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Unlinked {contact.name}. It now has no linked contact.")
    return redirect(back)
