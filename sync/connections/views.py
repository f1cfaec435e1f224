"""Connecting omni-xero to a Xero organisation (OAuth2 with PKCE), and disconnecting it."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sync import xero
from sync.connections import services as connections
from sync.connections.forms import OrganisationChoiceForm
from sync.exceptions import UserFacingError
from sync.links import mirror
from sync.models import ConnectionKind, ConnectionStatus, XeroConnection

PENDING_CONSENT = "xero_oauth"
PENDING_CHOICE = "xero_oauth_choice"
act = permission_required("sync.use_dashboard", raise_exception=True)


def _dashboard() -> HttpResponse:
    return redirect("sync:dashboard")


def _connected(request: HttpRequest, connection: XeroConnection) -> HttpResponse:
    # The organisation one has just connected is the one the dashboard shows them.
    request.session["xero_organisation"] = {"pk": connection.pk}
    messages.success(
        request,
        f"Connected to {connection.organisation_name}. Its Xero contacts are being fetched "
        "in the background.",
    )
    return _dashboard()


def _not_finished(request: HttpRequest, name: str) -> HttpResponse:
    # The banner on every page says why, with the Finish connecting button.
    messages.error(request, f"omni-xero could not finish connecting to {name}.")
    return _dashboard()


@login_required
@act
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    """Send the user to Xero's consent page (or connect a custom connection directly)."""
    if settings.XERO_CONNECTION_KIND == ConnectionKind.CUSTOM:
        try:
            connection = connections.connection_connect_custom(user=request.user)
        except UserFacingError as error:
            messages.error(request, str(error))
            return _dashboard()
        return _connected(request, connection)
    authorization = xero.authorization_new()
    redirect_uri = settings.XERO_REDIRECT_URI or request.build_absolute_uri(
        reverse("sync:callback")
    )
    request.session[PENDING_CONSENT] = {
        "state": authorization.state,
        "verifier": authorization.code_verifier,
        "redirect_uri": redirect_uri,
    }
    abandoned = request.session.pop(PENDING_CHOICE, None)  # an earlier, unfinished choice
    if abandoned:
        connections.grant_abandon(abandoned)
    return redirect(xero.authorization_url(authorization=authorization, redirect_uri=redirect_uri))


@login_required
@act
@require_GET
@sensitive_variables("pending", "granted")
def callback(request: HttpRequest) -> HttpResponse:
    """Where Xero sends the user back: check state, trade the code, keep the organisation."""
    pending = request.session.pop(PENDING_CONSENT, None)
    state = request.GET.get("state", "")
    if not pending or not secrets.compare_digest(pending["state"].encode(), state.encode()):
        messages.error(
            request,
            "Xero's answer did not match a connection started here, so it was ignored and "
            "nothing changed. Click Connect to Xero to try again.",
        )
        return _dashboard()
    if request.GET.get("error"):
        reason = (
            "you cancelled" if request.GET["error"] == "access_denied" else request.GET["error"]
        )
        messages.warning(request, f"omni-xero was not connected to Xero: {reason}.")
        return _dashboard()
    try:
        granted = connections.consent_complete(
            code=request.GET.get("code", ""),
            redirect_uri=pending["redirect_uri"],
            code_verifier=pending["verifier"],
        )
    except UserFacingError as error:
        messages.error(request, f"omni-xero was not connected to Xero: {error}")
        return _dashboard()
    if not granted.tenants:
        messages.error(
            request, "The Xero sign-in covered no organisation. Connect again and tick one."
        )
        return _dashboard()
    if len(granted.tenants) > 1:
        # The accountant picks one; the grant waits in the session, its tokens encrypted.
        request.session[PENDING_CHOICE] = connections.granted_seal(granted)
        return redirect("sync:choose_organisation")
    tenant = granted.tenants[0]
    try:
        connection = connections.connection_connect(
            tokens=granted.tokens, tenant=tenant, user=request.user
        )
    except UserFacingError:
        return _not_finished(request, tenant.name)
    return _connected(request, connection)


@login_required
@act
@require_http_methods(["GET", "POST"])
@sensitive_variables("granted")
def choose_organisation(request: HttpRequest) -> HttpResponse:
    sealed = request.session.get(PENDING_CHOICE)
    granted = connections.granted_unseal(sealed) if sealed else None
    if granted is None:
        request.session.pop(PENDING_CHOICE, None)
        messages.info(request, "Start with Connect to Xero.")
        return _dashboard()
    form = OrganisationChoiceForm(request.POST or None, tenants=granted.tenants)
    if request.method == "POST" and form.is_valid():
        del request.session[PENDING_CHOICE]
        tenant_id = form.cleaned_data["tenant_id"]
        try:
            connection = connections.connection_choose(
                granted=granted, tenant_id=tenant_id, user=request.user
            )
        except UserFacingError:
            name = next(t.name for t in granted.tenants if t.tenant_id == tenant_id)
            return _not_finished(request, name)
        return _connected(request, connection)
    return render(request, "sync/choose_organisation.html", {"form": form})


@login_required
@act
@require_POST
def finish(request: HttpRequest, pk: int) -> HttpResponse:
    """Try again the first call of a connection that is not ready."""
    connection = get_object_or_404(
        XeroConnection.objects.filter(status=ConnectionStatus.PENDING), pk=pk
    )
    try:
        connection = connections.connection_finish(connection=connection)
    except UserFacingError:
        return _not_finished(request, connection.organisation_name)
    return _connected(request, connection)


@login_required
@act
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST disconnects."""
    connection = get_object_or_404(XeroConnection.objects.usable(), pk=pk)
    if request.method == "GET":
        return render(request, "sync/disconnect_confirm.html", {"connection": connection})
    connections.connection_disconnect(connection=connection, user=request.user)
    messages.success(
        request,
        f"Disconnected from {connection.organisation_name}. Links are kept for when you reconnect.",
    )
    return _dashboard()


@login_required
@act
@require_POST
def refresh_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(
        XeroConnection.objects.filter(status=ConnectionStatus.ACTIVE), pk=pk
    )
    mirror.contacts_refresh_queue(connection=connection)
    messages.info(
        request,
        f"Refreshing the Xero contacts of {connection.organisation_name} in the background.",
    )
    return _dashboard()
