"""The page listing a person's notifications: every job of theirs that ended, newest first."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sync import filters
from sync.dashboard import tabs
from sync.notifications.services import notifications_page


@login_required
@permission_required("contacts.view_contact", raise_exception=True)
@require_GET
def notifications_list(request: tabs.DashboardRequest) -> HttpResponse:
    context = tabs.shell_context(request, "sales", tabs.TABS["sales"][1][0], notices=False)
    number = filters.Filters.read(request.GET)["page"]
    page = notifications_page(user=request.user, number=number)
    context |= {"tab": "notifications", "page": page}
    return render(request, "sync/notifications.html", context)
