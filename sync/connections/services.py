"""Xero connections: connecting, finishing, disconnecting, their tokens and their audit trail.

The one module that changes a XeroConnection row: it stores tokens (encrypted), refreshes
them under a lease, records each request to Xero, marks a connection that Xero stopped
accepting, and writes a ConnectionEvent in the same transaction as each status change.
It gives the Xero boundary (sync.xero) a `ConnectionSession` for each call.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from sync import jobs, request_id, xero
from sync.connections import crypto, quota
from sync.models import (
    Actor,
    ConnectionEvent,
    ConnectionKind,
    ConnectionStatus,
    XeroApiCall,
    XeroConnection,
    fitted,
)

logger = logging.getLogger(__name__)

# Refresh an access token this long before it expires.
REFRESH_MARGIN = timedelta(minutes=2)


def _actor(user: Actor | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


# --- Sessions: what the Xero boundary calls back into ------------------------------------------


def call_record(connection_id: int | None, call: xero.CallRecord) -> None:
    """Keep one request to Xero (Admin → Xero API calls), and the quota it reported."""
    XeroApiCall.objects.create(
        connection_id=connection_id,
        method=call.method,
        endpoint=call.endpoint,
        status=call.status,
        duration_ms=call.duration_ms,
        attempt=call.attempt,
        minute_remaining=call.quota.minute_remaining,
        day_remaining=call.quota.day_remaining,
        correlation_id=call.correlation_id,
        idempotency_key=call.idempotency_key,
        error=call.error,
        request_id=request_id.current(),
    )
    if connection_id is not None and call.quota.seen:
        XeroConnection.objects.filter(pk=connection_id).update(
            minute_remaining=call.quota.minute_remaining,
            day_remaining=call.quota.day_remaining,
            app_minute_remaining=call.quota.app_minute_remaining,
            quota_seen_at=timezone.now(),
        )


@dataclass
class ConnectionSession:
    """A connection as the Xero boundary sees it: a fresh token, its tenant, its call log,
    and the organisation's shared quota (sync.connections.quota): every attempt of every
    call takes a slot before it goes and gives it back with its answer."""

    connection: XeroConnection
    slot: quota.Slot | None = None

    @property
    def tenant_id(self) -> str:
        # A custom connection covers one organisation and sends no tenant header.
        if self.connection.kind == ConnectionKind.CUSTOM:
            return ""
        return str(self.connection.tenant_id)

    def access_token(self) -> str:
        # Called before every attempt, just before it goes: the one place a call to Xero
        # for an organisation takes its slot, and a job running it renews its lease.
        jobs.keep_alive()
        self.connection = connection_fresh(self.connection)
        token = crypto.decrypt(self.connection.access_token_encrypted)
        self._slot_return(xero.Quota())  # an attempt that never went
        self.slot = quota.slot_take(self.connection.pk)
        return token

    def token_rejected(self) -> bool:
        # Expire the token, unless another process already renewed it: the next
        # access_token() then refreshes.
        XeroConnection.objects.filter(
            pk=self.connection.pk, token_version=self.connection.token_version
        ).update(expires_at=None)
        return True

    def refused(self, detail: str) -> xero.XeroError:
        connection_mark_needs_reconnect(
            connection=self.connection,
            detail=detail,
            token_version=self.connection.token_version,
        )
        return xero.NeedsReconnecting(_reconnect_message(self.connection))

    def record(self, call: xero.CallRecord) -> None:
        # The record and the slot given back in one commit, not three.
        with transaction.atomic():
            call_record(self.connection.pk, call)
            self._slot_return(call.quota)

    def waiting(self) -> None:
        jobs.keep_alive()

    def _slot_return(self, seen: xero.Quota) -> None:
        if self.slot is not None:
            slot, self.slot = self.slot, None
            quota.slot_release(slot, seen)


def session(connection: XeroConnection | None) -> ConnectionSession:
    """The session for calls to Xero on behalf of a connection."""
    if connection is None:
        raise xero.NotConnected()
    return ConnectionSession(connection)


def bare_session(access_token: str = "", *, tenant_id: str = "") -> xero.TokenSession:
    """A session on a bare token (or none), for the steps before a connection row exists."""
    return xero.TokenSession(
        token=access_token,
        tenant_id=tenant_id,
        recorder=lambda call: call_record(None, call),
    )


# --- Tokens ------------------------------------------------------------------------------------


def _store_tokens(
    connection: XeroConnection,
    tokens: xero.TokenSet,
    *,
    expected_version: int | None,
    reactivate: bool = False,
) -> bool:
    """Save access and refresh token together in one UPDATE, so none is lost half-way.

    With expected_version, only if nobody stored newer tokens meanwhile. Returns whether saved.
    """
    rows = XeroConnection.objects.filter(pk=connection.pk)
    if expected_version is not None:
        rows = rows.filter(token_version=expected_version)
    if not reactivate:
        # A refresh finishing after a disconnect must not bring the tokens back.
        rows = rows.exclude(status=ConnectionStatus.DISCONNECTED)
    changes: dict[str, Any] = {
        "access_token_encrypted": crypto.encrypt(tokens.access_token),
        "refresh_token_encrypted": crypto.encrypt(tokens.refresh_token),
        "scopes": " ".join(tokens.scopes),
        "expires_at": tokens.expires_at,
        "token_refreshed_at": timezone.now(),
        "token_version": F("token_version") + 1,
        "refresh_lease_until": None,
    }
    if reactivate:
        # Not ACTIVE yet: connection_finish makes it so once a first call has worked.
        changes |= {"status": ConnectionStatus.PENDING, "status_detail": ""}
    return rows.update(**changes) == 1


def connection_mark_needs_reconnect(
    *, connection: XeroConnection, detail: str, token_version: int | None = None
) -> None:
    """Xero stopped accepting the connection's tokens: say so everywhere, audited once.

    With token_version, only if the tokens refused are still the saved ones: a verdict on
    tokens replaced meanwhile (a reconnect) must not mark the new ones.
    """
    with transaction.atomic():
        rows = XeroConnection.objects.filter(
            pk=connection.pk, status__in=[ConnectionStatus.ACTIVE, ConnectionStatus.PENDING]
        )
        if token_version is not None:
            rows = rows.filter(token_version=token_version)
        marked = rows.update(
            status=ConnectionStatus.NEEDS_RECONNECT,
            status_detail=detail[:500],
            refresh_lease_until=None,
        )
        if marked:
            ConnectionEvent.objects.create(
                action=ConnectionEvent.Action.NEEDS_RECONNECT,
                connection=connection,
                organisation_name=connection.organisation_name,
                detail=detail[:500],
            )
    connection.refresh_from_db(fields=["status", "status_detail"])


def _refresh_lease() -> timedelta:
    # Longer than a refresh call can take (connect + read timeout), so a slow refresh is
    # never overtaken by a second one using the same refresh token.
    return timedelta(seconds=2 * settings.XERO_TIMEOUT + 10)


def connection_fresh(connection: XeroConnection) -> XeroConnection:
    """The connection with an access token valid for a while, refreshing it if needed.

    Several workers may find the token expiring at once. Exactly one of them refreshes: it
    claims a lease with a conditional UPDATE (no transaction is held open across the call
    to Xero); the others wait for the new tokens. If the refresher dies after Xero rotated
    the refresh token, the lease runs out and another worker retries with the old refresh
    token, which Xero still accepts for 30 minutes.
    """
    lease = _refresh_lease()
    deadline = time.monotonic() + lease.total_seconds() + 5
    refreshed = False
    while True:
        connection.refresh_from_db()
        if connection.status == ConnectionStatus.DISCONNECTED:
            raise xero.NotConnected(f"{connection.organisation_name} was disconnected from Xero.")
        if connection.status == ConnectionStatus.NEEDS_RECONNECT:
            raise xero.NeedsReconnecting(_reconnect_message(connection))
        now = timezone.now()
        # Once refreshed, use what Xero gave, however short-lived: never refresh in a loop.
        if refreshed or (connection.expires_at and connection.expires_at - REFRESH_MARGIN > now):
            return connection
        if time.monotonic() > deadline:
            raise xero.XeroUnavailable("the token refresh by another process did not finish")
        # Only for the tokens read just now: a refresh that finished meanwhile rotated them.
        claimed = jobs.Lease.claim(
            XeroConnection,
            connection.pk,
            field="refresh_lease_until",
            length=lease,
            where=Q(token_version=connection.token_version),
        )
        if claimed is not None:
            _refresh(connection, claimed)
            refreshed = True
        else:
            jobs.keep_alive()  # another process's refresh may take longer than a job's lease
            time.sleep(0.1)


def _reconnect_message(connection: XeroConnection) -> str:
    return (
        f"Xero no longer accepts omni-xero's connection to {connection.organisation_name}"
        f"{': ' + connection.status_detail if connection.status_detail else ''}. "
        "Reconnect to Xero to carry on; nothing has been lost."
    )


@sensitive_variables("refresh_token")
def _refresh(connection: XeroConnection, lease: jobs.Lease) -> None:
    """Get new tokens while holding the lease; record the outcome. Always ends the lease."""
    version = connection.token_version
    recorder = bare_session()
    recorder.recorder = lambda call: call_record(connection.pk, call)
    try:
        if connection.kind == ConnectionKind.CUSTOM:
            tokens = xero.client_credentials_token(recorder)
        else:
            refresh_token = crypto.decrypt(connection.refresh_token_encrypted)
            if not refresh_token:
                connection_mark_needs_reconnect(
                    connection=connection,
                    detail="its saved sign-in could not be read",
                    token_version=version,
                )
                return
            tokens = xero.tokens_refresh(
                recorder, refresh_token=refresh_token, scopes=connection.scopes.split()
            )
    except xero.GrantRefused as refused:
        connection_mark_needs_reconnect(
            connection=connection, detail=refused.reason, token_version=version
        )
        return
    except BaseException:
        # Xero unavailable, rate limited, or an answer we could not read: let another
        # attempt (ours or a worker's) try again at once; only our own lease, though.
        lease.release()
        raise
    if not _store_tokens(connection, tokens, expected_version=version):
        logger.warning(
            "Tokens refreshed for connection %s were not saved: it changed meanwhile", connection.pk
        )


# --- Connecting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Granted:
    """Tokens Xero granted on the consent page, and the organisations they cover."""

    tokens: xero.TokenSet
    tenants: list[xero.Tenant]


@sensitive_variables("code", "code_verifier", "tokens")
def consent_complete(*, code: str, redirect_uri: str, code_verifier: str) -> Granted:
    """Trade the code from Xero's consent page for tokens, and list the organisations.

    If Xero cannot list them (or lists none), the new tokens are revoked rather than dropped:
    an unrevoked grant stays in the user's Xero as a connected app. Not while another
    organisation is connected, though: revoking would end its connection too, and without
    the list there is no telling which organisations this grant covers.
    """
    tokens = xero.code_exchange(
        bare_session(), code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    try:
        tenants = xero.tenants(bare_session(tokens.access_token))
    except xero.XeroError:
        _revoke_unless_in_use(tokens.refresh_token)
        raise
    if not tenants:
        _revoke_unless_in_use(tokens.refresh_token)
    return Granted(tokens=tokens, tenants=tenants)


@sensitive_variables("refresh_token")
def _revoke_unless_in_use(refresh_token: str) -> None:
    if not refresh_token or XeroConnection.objects.usable().exists():
        return
    try:
        xero.tokens_revoke(bare_session(), refresh_token=refresh_token)
    except xero.XeroError as failure:
        logger.warning("Revoking unused Xero tokens failed: %s", failure)


def _tenants_not_in_use(granted: Granted, *, keep: xero.Tenant | None = None) -> None:
    """Remove from the grant the organisations omni-xero does not use (they would count
    against the app's connection limit), except `keep`."""
    in_use = set(XeroConnection.objects.usable().values_list("tenant_id", flat=True))
    xero.tenants_remove(
        bare_session(granted.tokens.access_token),
        xero_connection_ids=[
            t.xero_connection_id for t in granted.tenants if t != keep and t.tenant_id not in in_use
        ],
    )


def grant_abandon(sealed: dict[str, Any]) -> None:
    """A grant whose organisation was never picked: remove the organisations not in use."""
    granted = granted_unseal(sealed)
    if granted is not None:
        _tenants_not_in_use(granted)


def connection_choose(
    *, granted: Granted, tenant_id: uuid.UUID, user: Actor | None
) -> XeroConnection:
    """Keep the organisation picked from a grant covering several.

    Organisations ticked but not picked would count against the app's connection limit:
    they are removed from the grant, except those omni-xero already uses.
    """
    picked = next(t for t in granted.tenants if t.tenant_id == tenant_id)
    _tenants_not_in_use(granted, keep=picked)
    return connection_connect(tokens=granted.tokens, tenant=picked, user=user)


@sensitive_variables("tokens")
def connection_connect(
    *,
    tokens: xero.TokenSet,
    tenant: xero.Tenant,
    user: Actor | None,
    kind: ConnectionKind = ConnectionKind.OAUTH,
) -> XeroConnection:
    """Keep a granted organisation, then finish connecting it (connection_finish).

    Reconnecting one finds its old row, and so its links. If the first call fails, the
    connection stays "not ready" with the reason, and connection_finish can be tried again;
    the error is raised for the caller to show.
    """
    name = fitted(XeroConnection, {"organisation_name": tenant.name})[0]["organisation_name"]
    with transaction.atomic():
        connection, created = XeroConnection.objects.select_for_update().get_or_create(
            tenant_id=tenant.tenant_id,
            defaults={"organisation_name": name, "connected_by": _actor(user)},
        )
        connection.organisation_name = name or connection.organisation_name
        connection.kind = kind
        connection.xero_connection_id = tenant.xero_connection_id
        connection.connected_by = _actor(user)
        connection.connected_at = timezone.now()
        connection.save()
        ConnectionEvent.objects.create(
            action=ConnectionEvent.Action.CONNECT if created else ConnectionEvent.Action.RECONNECT,
            actor=_actor(user),
            connection=connection,
            organisation_name=connection.organisation_name,
            detail=ConnectionKind(kind).label,
        )
        _store_tokens(connection, tokens, expected_version=None, reactivate=True)
    return connection_finish(connection=connection)


def connection_finish(*, connection: XeroConnection) -> XeroConnection:
    """Make a first call with the new tokens; only then is the connection ready to use.

    It proves the tokens work, shows the quota, and queues the first mirror refresh. On a
    failure the connection stays "not ready" with Xero's reason, and the error is raised.
    """
    try:
        organisation = xero.organisation_get(session(connection))
    except xero.XeroError as error:
        XeroConnection.objects.filter(pk=connection.pk, status=ConnectionStatus.PENDING).update(
            status_detail=str(error)[:500]
        )
        connection.refresh_from_db()
        raise
    XeroConnection.objects.filter(pk=connection.pk, status=ConnectionStatus.PENDING).update(
        status=ConnectionStatus.ACTIVE,
        status_detail="",
        base_currency=organisation.base_currency or connection.base_currency,
        organisation_name=fitted(XeroConnection, {"organisation_name": organisation.name})[0][
            "organisation_name"
        ]
        or connection.organisation_name,
    )
    connection.refresh_from_db()
    if connection.status == ConnectionStatus.ACTIVE:
        XeroConnection.objects.filter(pk=connection.pk).update(
            contacts_refresh_queued_at=timezone.now()
        )
        jobs.enqueue("contacts_refresh", connection.pk, False)
    return connection


@sensitive_variables()
def connection_connect_custom(*, user: Actor | None) -> XeroConnection:
    """Connect a Xero custom connection (client credentials; it covers one organisation)."""
    tokens = xero.client_credentials_token(bare_session())
    organisation = xero.organisation_get(bare_session(tokens.access_token))
    tenant = xero.Tenant(
        xero_connection_id=None,
        tenant_id=organisation.organisation_id,
        tenant_type="ORGANISATION",
        name=organisation.name,
    )
    return connection_connect(tokens=tokens, tenant=tenant, user=user, kind=ConnectionKind.CUSTOM)


# --- Pending consent, kept in the session while the accountant picks an organisation ------------


@sensitive_variables("granted")
def granted_seal(granted: Granted) -> dict[str, Any]:
    """The grant as session data, tokens encrypted."""
    tokens = granted.tokens
    return {
        "tokens": crypto.encrypt(
            f"{tokens.access_token}\n{tokens.refresh_token}\n{tokens.expires_at.timestamp()}\n"
            + " ".join(tokens.scopes)
        ),
        "tenants": [
            {
                "xero_connection_id": str(t.xero_connection_id or ""),
                "tenant_id": str(t.tenant_id),
                "tenant_type": t.tenant_type,
                "name": t.name,
            }
            for t in granted.tenants
        ],
    }


@sensitive_variables("sealed", "access", "refresh")
def granted_unseal(sealed: dict[str, Any]) -> Granted | None:
    """The grant from session data; None if it cannot be read (e.g. the key changed)."""
    try:
        access, refresh, expires, scopes = crypto.decrypt(sealed["tokens"]).split("\n")
        tenants = [
            xero.Tenant(
                xero_connection_id=uuid.UUID(t["xero_connection_id"])
                if t["xero_connection_id"]
                else None,
                tenant_id=uuid.UUID(t["tenant_id"]),
                tenant_type=t["tenant_type"],
                name=t["name"],
            )
            for t in sealed["tenants"]
        ]
    except (KeyError, TypeError, ValueError):
        return None
    tokens = xero.TokenSet(
        access_token=access,
        refresh_token=refresh,
        expires_at=datetime.fromtimestamp(float(expires), tz=UTC),
        scopes=scopes.split(),
    )
    return Granted(tokens=tokens, tenants=tenants)


# --- Disconnecting -----------------------------------------------------------------------------


@sensitive_variables("refresh_token", "access_token")
def connection_disconnect(*, connection: XeroConnection, user: Actor | None) -> None:
    """Remove the organisation from omni-xero's grant in Xero and forget the tokens.

    The tokens are revoked too when no other organisation is connected (revoking ends every
    organisation of a grant). Best effort in Xero: Xero being unreachable must not block a
    disconnect. The connection row, its links and their audit trail stay, so reconnecting the
    same organisation carries on where it stopped.
    """
    others = XeroConnection.objects.usable().exclude(pk=connection.pk).exists()
    try:
        connection = connection_fresh(connection)  # the saved access token may have expired
    except xero.XeroError as failure:
        logger.info("Disconnecting %s with its saved tokens: %s", connection.pk, failure)
    access_token = crypto.decrypt(connection.access_token_encrypted)
    refresh_token = crypto.decrypt(connection.refresh_token_encrypted)
    calls = bare_session(access_token)
    calls.recorder = lambda call: call_record(connection.pk, call)
    # Each step on its own: a failure to remove the organisation (already removed by the
    # user, Xero down) must not keep the grant alive by skipping the revocation.
    removable = connection.kind == ConnectionKind.OAUTH and connection.xero_connection_id
    if removable and access_token and connection.xero_connection_id:
        try:
            xero.tenant_remove(calls, xero_connection_id=connection.xero_connection_id)
        except xero.XeroError as failure:
            logger.info("Removing %s from the Xero grant failed: %s", connection.pk, failure)
    if not others and refresh_token:
        try:
            xero.tokens_revoke(calls, refresh_token=refresh_token)
        except xero.XeroError as failure:
            logger.info("Revoking the tokens of %s failed: %s", connection.pk, failure)
    with transaction.atomic():
        XeroConnection.objects.filter(pk=connection.pk).update(
            status=ConnectionStatus.DISCONNECTED,
            status_detail=f"Disconnected by {user}" if _actor(user) else "Disconnected",
            access_token_encrypted="",
            refresh_token_encrypted="",
            expires_at=None,
            refresh_lease_until=None,
            # A refresh still under way must not store its tokens into the forgotten row.
            token_version=F("token_version") + 1,
        )
        ConnectionEvent.objects.create(
            action=ConnectionEvent.Action.DISCONNECT,
            actor=_actor(user),
            connection=connection,
            organisation_name=connection.organisation_name,
            detail="tokens revoked" if not others else "other organisations stay connected",
        )
