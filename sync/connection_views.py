"""Connecting omni-xero to a Xero organisation (OAuth2 with PKCE), and disconnecting it."""

import base64
import hashlib
import secrets
import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import crypto, xero
from .connections import connection_connect, connection_connect_custom, connection_disconnect
from .exceptions import UserFacingError
from .models import ConnectionKind, ConnectionStatus, XeroConnection
from .tasks import refresh_xero_contacts

SESSION_KEY = "xero_oauth"
act = permission_required("sync.use_dashboard", raise_exception=True)


def _redirect_uri(request: HttpRequest) -> str:
    return settings.XERO_REDIRECT_URI or request.build_absolute_uri(reverse("sync:callback"))


def _dashboard() -> HttpResponse:
    return redirect("sync:dashboard")


@login_required
@act
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    """Send the user to Xero's consent page (or connect a custom connection directly)."""
    if settings.XERO_CONNECTION_KIND == ConnectionKind.CUSTOM:
        try:
            connection = connection_connect_custom(user=request.user)
        except UserFacingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Connected to {connection.organisation_name}.")
        return _dashboard()
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    pending = {
        "state": secrets.token_urlsafe(24),
        "verifier": verifier,
        "redirect_uri": _redirect_uri(request),
    }
    request.session[SESSION_KEY] = pending
    request.session.pop(SESSION_KEY + "_choice", None)  # an earlier, unfinished choice
    return redirect(
        xero.authorization_url(
            state=pending["state"],
            code_challenge=challenge.rstrip(b"=").decode(),
            redirect_uri=pending["redirect_uri"],
        )
    )


@login_required
@act
@require_GET
@sensitive_variables("pending", "tokens")
def callback(request: HttpRequest) -> HttpResponse:
    """Where Xero sends the user back: check state, trade the code, keep the organisation."""
    pending = request.session.pop(SESSION_KEY, None)
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
        tokens = xero.exchange_code(
            code=request.GET.get("code", ""),
            redirect_uri=pending["redirect_uri"],
            code_verifier=pending["verifier"],
        )
        tenants = xero.tenants(access_token=tokens.access_token)
    except UserFacingError as error:
        messages.error(request, str(error))
        return _dashboard()
    if not tenants:
        messages.error(
            request, "The Xero sign-in covered no organisation. Connect again and tick one."
        )
        return _dashboard()
    if len(tenants) == 1:
        return _connected(request, tokens, tenants[0])
    # Several organisations: ask which one. The tokens wait in the session, encrypted.
    request.session[SESSION_KEY + "_choice"] = {
        "tokens": crypto.encrypt(
            f"{tokens.access_token}\n{tokens.refresh_token}\n{tokens.expires_at.timestamp()}\n"
            + " ".join(tokens.scopes)
        ),
        "tenants": [{k: str(v) for k, v in asdict(tenant).items()} for tenant in tenants],
    }
    return redirect("sync:choose_organisation")


@sensitive_variables("tokens")
def _connected(request: HttpRequest, tokens: xero.TokenSet, tenant: xero.Tenant) -> HttpResponse:
    try:
        connection = connection_connect(tokens=tokens, tenant=tenant, user=request.user)
    except UserFacingError as error:
        messages.error(request, f"omni-xero could not finish connecting to {tenant.name}: {error}")
        return _dashboard()
    refresh_xero_contacts.enqueue(connection.pk)
    messages.success(
        request,
        f"Connected to {connection.organisation_name}. Its Xero contacts are being fetched "
        "in the background.",
    )
    return _dashboard()


@login_required
@act
@require_http_methods(["GET", "POST"])
@sensitive_variables("choice", "tokens")
def choose_organisation(request: HttpRequest) -> HttpResponse:
    choice = request.session.get(SESSION_KEY + "_choice")
    if not choice:
        messages.info(request, "Start with Connect to Xero.")
        return _dashboard()
    tenants = [
        xero.Tenant(
            connection_id=uuid.UUID(t["connection_id"]), tenant_id=uuid.UUID(t["tenant_id"]),
            tenant_type=t["tenant_type"], name=t["name"],
        )
        for t in choice["tenants"]
    ]  # fmt: skip
    if request.method == "POST":
        wanted = request.POST.get("tenant_id", "")
        picked = next((t for t in tenants if str(t.tenant_id) == wanted), None)
        tokens = _tokens_from_session(choice["tokens"])
        if tokens is None:
            del request.session[SESSION_KEY + "_choice"]
            messages.error(request, "That Xero sign-in can no longer be read. Connect again.")
            return _dashboard()
        if picked is None:
            messages.error(request, "Pick one of the organisations listed.")
        else:
            del request.session[SESSION_KEY + "_choice"]
            # Organisations ticked but not picked would count against the app's connection
            # limit; those omni-xero already uses stay, of course.
            in_use = set(XeroConnection.objects.usable().values_list("tenant_id", flat=True))
            xero.tenants_remove(
                access_token=tokens.access_token,
                connection_ids=[
                    t.connection_id for t in tenants if t != picked and t.tenant_id not in in_use
                ],
            )
            return _connected(request, tokens, picked)
    return render(request, "sync/choose_organisation.html", {"tenants": tenants})


@sensitive_variables("sealed", "access", "refresh")
def _tokens_from_session(sealed: str) -> xero.TokenSet | None:
    """The tokens waiting for the organisation choice; None if they cannot be read."""
    try:
        access, refresh, expires, scopes = crypto.decrypt(sealed).split("\n")
    except ValueError:
        return None
    return xero.TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=datetime.fromtimestamp(float(expires), tz=UTC),
        scopes=scopes.split(),
    )


@login_required
@act
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST disconnects."""
    connection = get_object_or_404(XeroConnection.objects.usable(), pk=pk)
    if request.method == "GET":
        return render(request, "sync/disconnect_confirm.html", {"connection": connection})
    connection_disconnect(connection=connection, user=request.user)
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
    refresh_xero_contacts.enqueue(connection.pk)
    messages.info(
        request,
        f"Refreshing the Xero contacts of {connection.organisation_name} in the background.",
    )
    return _dashboard()
