"""The one module that speaks to Xero, through xero-python. Nothing else imports xero_python.

It builds an API client per connection, keeps that connection's tokens fresh, owns timeouts and
retries (urllib3's own hidden retries are switched off), gives every write an Idempotency-Key
that its retries reuse, records every HTTP request in XeroApiCall with the quota Xero reports,
and turns Xero's failures into the few exceptions below, whose messages suit an accountant.

Xero's endpoints follow settings: XERO_LOGIN_URL (authorize page), XERO_IDENTITY_URL (tokens)
and XERO_API_URL (/Connections and /api.xro/2.0).
"""

import contextlib
import functools
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from xero_python.accounting import AccountingApi
from xero_python.accounting import Contact as SdkContact
from xero_python.accounting import Contacts as SdkContacts
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import (
    AccountingBadRequestException,
    HTTPStatusException,
    NotFoundException,
    RateLimitException,
)
from xero_python.identity import IdentityApi

from . import crypto
from .exceptions import UserFacingError
from .models import (
    ConnectionEvent,
    ConnectionKind,
    ConnectionStatus,
    XeroApiCall,
    XeroConnection,
)

logger = logging.getLogger(__name__)

# Refresh an access token this long before it expires (the SDK itself would at 60 s).
REFRESH_MARGIN = timedelta(minutes=2)
TRANSIENT_STATUSES = {500, 502, 503, 504}


# --- Errors ---------------------------------------------------------------------------------


class XeroError(UserFacingError):
    """Something Xero refused or could not do; the message says what, for an accountant."""


class NotConnected(XeroError):
    def __init__(self, message: str = "omni-xero is not connected to Xero. Connect it first."):
        super().__init__(message)


class NeedsReconnecting(XeroError):
    """Xero no longer accepts this connection's tokens: a person must reconnect."""


class RateLimited(XeroError):
    def __init__(self, *, wait_seconds: float, problem: str):
        self.wait_seconds = wait_seconds
        self.problem = problem
        limit = {"minute": "per-minute", "day": "daily", "concurrent": "concurrent"}.get(
            problem, problem or "a"
        )
        super().__init__(
            f"Xero's {limit} call limit for this organisation is used up. "
            f"Try again in {_duration(wait_seconds)}."
        )


@dataclass(frozen=True)
class ElementError:
    """The validation messages Xero gave for one element of a request (index in the batch)."""

    index: int
    messages: list[str]
    element: dict = field(repr=False, default_factory=dict)


class ValidationFailed(XeroError):
    def __init__(self, errors: list[ElementError], message: str = ""):
        self.errors = errors
        detail = "; ".join(m for e in errors for m in e.messages)
        super().__init__(message or f"Xero refused the request: {detail or 'no reason given'}")


class NotFound(XeroError):
    pass


class XeroUnavailable(XeroError):
    def __init__(self, detail: str = ""):
        super().__init__(
            "Xero did not answer in time or is unavailable right now; nothing was lost. "
            "Try again in a few minutes." + (f" ({detail})" if detail else "")
        )


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


# --- What the rest of omni-xero gets back ----------------------------------------------------


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime
    scopes: list[str]


@dataclass(frozen=True)
class Tenant:
    connection_id: uuid.UUID | None  # None for a custom connection
    tenant_id: uuid.UUID
    tenant_type: str
    name: str


@dataclass(frozen=True)
class XeroContactData:
    contact_id: uuid.UUID
    name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    account_number: str = ""
    contact_number: str = ""
    tax_number: str = ""
    status: str = "ACTIVE"
    merged_to_contact_id: uuid.UUID | None = None
    is_customer: bool = False
    is_supplier: bool = False
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ContactsPage:
    contacts: list[XeroContactData]
    page: int
    page_count: int | None


@dataclass(frozen=True)
class NewContact:
    """A contact to create in Xero (the fields omni-xero sends)."""

    name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    account_number: str = ""
    contact_number: str = ""
    tax_number: str = ""


# --- The SDK, configured per connection --------------------------------------------------------


def _identity_url(path: str) -> str:
    return settings.XERO_IDENTITY_URL + path


class _TokenApi(TokenApi):
    """The SDK's token calls, at the configured identity host, plus the code exchange."""

    def __init__(self, api_client: ApiClient):
        super().__init__(api_client, settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET)
        self.refresh_token_url = _identity_url("/connect/token")
        self.client_credentials_token_url = _identity_url("/connect/token")
        self.revoke_token_url = _identity_url("/connect/revocation")

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> dict:
        """https://developer.xero.com/documentation/guides/oauth2/auth-flow/ (step 3)."""
        response, _, _ = self.api_client.call_api(
            self.refresh_token_url,
            "POST",
            header_params={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            post_params={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            auth_settings=None,
            _preload_content=False,
        )
        return self.parse_token_response(response)


class _OAuth2Token(OAuth2Token):
    """Makes the SDK's own refresh (a fallback: we refresh earlier) use the configured host."""

    def call_refresh_token_api(self, token_api: TokenApi) -> dict:
        return _TokenApi(token_api.api_client).refresh_token(self.refresh_token, self.scope)


class _ApiClient(ApiClient):
    """Records every request, reads the quota headers, and applies our timeout."""

    connection_id: int | None = None
    attempt: int = 1
    idempotency_key: str = ""

    def request(self, method, url, query_params=None, headers=None, **kwargs):
        if not kwargs.get("_request_timeout"):
            kwargs["_request_timeout"] = (min(10.0, settings.XERO_TIMEOUT), settings.XERO_TIMEOUT)
        started = time.monotonic()
        status, response_headers, error = None, {}, ""
        try:
            response = super().request(method, url, query_params, headers, **kwargs)
            status, response_headers = response.status, response.getheaders()
            return response
        except HTTPStatusException as failure:
            status, response_headers = failure.status, failure.headers or {}
            raise
        except Exception as failure:  # recorded, then handled by _call's retry loop
            error = f"{type(failure).__name__}: {failure}"[:500]
            raise
        finally:
            self._record(method, url, query_params, status, response_headers, error, started)

    def _record(self, method, url, query_params, status, headers, error, started) -> None:
        endpoint = urlsplit(url).path
        if query_params:
            endpoint += "?" + urlencode(query_params)
        quota = _quota(headers)
        XeroApiCall.objects.create(
            connection_id=self.connection_id,
            method=method,
            endpoint=endpoint[:500],
            status=status,
            duration_ms=round((time.monotonic() - started) * 1000),
            attempt=self.attempt,
            minute_remaining=quota.get("minute_remaining"),
            day_remaining=quota.get("day_remaining"),
            correlation_id=_header(headers, "Xero-Correlation-Id")[:64],
            idempotency_key=self.idempotency_key,
            error=error,
        )
        if self.connection_id is not None and quota:
            XeroConnection.objects.filter(pk=self.connection_id).update(
                **quota, quota_seen_at=timezone.now()
            )


def _header(headers: Any, name: str) -> str:
    if not headers:
        return ""
    value = headers.get(name)
    if value is None:  # a plain dict from a test double or an old urllib3
        value = {k.lower(): v for k, v in dict(headers).items()}.get(name.lower())
    return value or ""


def _quota(headers: Any) -> dict[str, int]:
    found = {}
    for field_name, header in (
        ("minute_remaining", "X-MinLimit-Remaining"),
        ("day_remaining", "X-DayLimit-Remaining"),
        ("app_minute_remaining", "X-AppMinLimit-Remaining"),
    ):
        value = _header(headers, header)
        if value.strip().lstrip("-").isdigit():
            found[field_name] = int(value)
    return found


def _build_client(*, connection: XeroConnection | None, token: dict | None) -> _ApiClient:
    # Configuration is a singleton in disguise: its constructor arguments are ignored after the
    # first instance, so build it empty and assign what this client needs.
    configuration = Configuration()
    configuration.oauth2_token = _OAuth2Token(
        client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
    )
    holder = {"token": token}
    client = _ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: holder["token"],
        oauth2_token_saver=lambda new: _sdk_refreshed(connection, holder, new),
    )
    client.connection_id = connection.pk if connection is not None else None
    client.rest_client.pool_manager = _shared_pool()
    return client


@functools.cache
def _shared_pool() -> urllib3.PoolManager:
    """One connection pool for every client in this process, so calls reuse connections
    (and TLS sessions) instead of opening one per call. PoolManager is thread-safe.

    We own retries: urllib3 would otherwise sleep through Retry-After on GET and PUT and
    retry behind our back.
    """
    return urllib3.PoolManager(
        num_pools=8,
        maxsize=8,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
        retries=urllib3.Retry(0, respect_retry_after_header=False),
    )


def _sdk_refreshed(connection: XeroConnection | None, holder: dict, new: dict) -> None:
    """The SDK refreshed on its own (it should not: we refresh earlier); keep what it got."""
    holder["token"] = new
    if connection is not None and new.get("refresh_token"):
        _store_tokens(connection, _token_set(new), expected_version=None)


def _token_set(raw: dict) -> TokenSet:
    scope = raw.get("scope") or []
    expires_at = raw.get("expires_at") or (time.time() + float(raw.get("expires_in") or 1800))
    return TokenSet(
        access_token=raw["access_token"],
        refresh_token=raw.get("refresh_token") or "",
        expires_at=datetime.fromtimestamp(float(expires_at), tz=UTC),
        scopes=scope.split() if isinstance(scope, str) else list(scope),
    )


def _sdk_token(connection: XeroConnection) -> dict:
    """The token dict the SDK wants (only the keys it accepts)."""
    return {
        "access_token": crypto.decrypt(connection.access_token_encrypted),
        "refresh_token": crypto.decrypt(connection.refresh_token_encrypted) or None,
        "scope": connection.scopes.split(),
        "expires_in": 1800,
        "token_type": "Bearer",
        "expires_at": connection.expires_at.timestamp() if connection.expires_at else None,
    }


# --- Tokens ------------------------------------------------------------------------------------


def authorization_url(*, state: str, code_challenge: str, redirect_uri: str) -> str:
    """https://developer.xero.com/documentation/guides/oauth2/pkce-flow/"""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.XERO_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": " ".join(settings.XERO_SCOPES),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{settings.XERO_LOGIN_URL}/identity/connect/authorize?{query}"


@sensitive_variables("code", "code_verifier")
def exchange_code(*, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
    """Trade the authorization code for tokens (authorization code flow with PKCE).

    https://developer.xero.com/documentation/guides/oauth2/pkce-flow/
    """
    client = _build_client(connection=None, token=None)
    return _token_set(
        _identity_call(
            lambda: _TokenApi(client).exchange_code(
                code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            ),
            refused="Xero did not accept the sign-in (it may have expired). Connect again.",
        )
    )


def client_credentials_token() -> TokenSet:
    """A custom connection's token (client credentials grant).

    https://developer.xero.com/documentation/guides/oauth2/custom-connections/
    """
    client = _build_client(connection=None, token=None)
    return _token_set(
        _identity_call(
            lambda: _TokenApi(client).get_client_credentials_token(app_store_billing=False),
            refused="Xero refused the custom connection's client ID or secret.",
        )
    )


def tenants(*, access_token: str) -> list[Tenant]:
    """The organisations this grant covers.

    https://developer.xero.com/documentation/guides/oauth2/tenants/
    """
    client = _build_client(connection=None, token=_bare_token(access_token))
    identity = IdentityApi(client, base_url=settings.XERO_API_URL)
    found = _identity_call(identity.get_connections, refused="Xero refused the new sign-in.")
    return [
        Tenant(
            connection_id=uuid.UUID(str(c.id)),
            tenant_id=uuid.UUID(str(c.tenant_id)),
            tenant_type=c.tenant_type or "",
            name=c.tenant_name or "",
        )
        for c in found
        if (c.tenant_type or "ORGANISATION") == "ORGANISATION"
    ]


def tenants_remove(*, access_token: str, connection_ids: Iterable[uuid.UUID | None]) -> None:
    """Remove organisations from a grant (best effort), e.g. those not picked after consent.

    https://developer.xero.com/documentation/guides/oauth2/tenants/#remove-connections
    """
    identity = IdentityApi(
        _build_client(connection=None, token=_bare_token(access_token)),
        base_url=settings.XERO_API_URL,
    )
    for connection_id in connection_ids:
        if connection_id is None:
            continue
        try:
            identity.delete_connection(str(connection_id))
        except (HTTPStatusException, urllib3.exceptions.HTTPError) as failure:
            logger.info("Removing Xero connection %s failed: %s", connection_id, failure)


def organisation_name(*, access_token: str, tenant_id: str = "") -> tuple[str, uuid.UUID]:
    """The organisation's name and ID, for a custom connection (it has no /Connections).

    https://developer.xero.com/documentation/api/accounting/organisation
    """
    client = _build_client(connection=None, token=_bare_token(access_token))
    api = AccountingApi(client, base_url=settings.XERO_API_URL + "/api.xro/2.0")
    found = _identity_call(
        lambda: api.get_organisations(tenant_id), refused="Xero refused the connection."
    )
    organisation = found.organisations[0]
    return organisation.name, uuid.UUID(str(organisation.organisation_id))


def organisation_get(connection: XeroConnection) -> str:
    """The connected organisation's name, as Xero has it now.

    https://developer.xero.com/documentation/api/accounting/organisation
    """
    found = _call(connection, lambda api, tenant, _: api.get_organisations(tenant))
    return found.organisations[0].name


@sensitive_variables("refresh_token", "access_token")
def disconnect(*, connection: XeroConnection, revoke: bool) -> None:
    """Remove the organisation from omni-xero's grant; with revoke, also revoke the tokens.

    Revoking ends every organisation the grant covers, so callers revoke only when no other
    connection uses Xero. Best effort: Xero being unreachable must not block a disconnect.
    https://developer.xero.com/documentation/guides/oauth2/tenants/#remove-connections
    """
    with contextlib.suppress(XeroError):
        connection = fresh_connection(connection)  # the saved access token may have expired
    refresh_token = crypto.decrypt(connection.refresh_token_encrypted)
    access_token = crypto.decrypt(connection.access_token_encrypted)
    client = _build_client(connection=connection, token=_bare_token(access_token))
    if connection.kind == ConnectionKind.OAUTH and connection.xero_connection_id and access_token:
        identity = IdentityApi(client, base_url=settings.XERO_API_URL)
        try:
            identity.delete_connection(str(connection.xero_connection_id))
        except (HTTPStatusException, urllib3.exceptions.HTTPError) as failure:
            logger.info("Removing Xero connection %s failed: %s", connection.pk, failure)
    if revoke and refresh_token:
        try:
            _TokenApi(client).revoke_token(refresh_token)
        except (HTTPStatusException, urllib3.exceptions.HTTPError) as failure:
            logger.info("Revoking tokens of connection %s failed: %s", connection.pk, failure)


def _bare_token(access_token: str) -> dict:
    return {
        "access_token": access_token,
        "scope": [],
        "expires_in": 1800,
        "token_type": "Bearer",
        "expires_at": None,
    }


def _identity_call[T](call: Callable[[], T], *, refused: str) -> T:
    try:
        return call()
    except HTTPStatusException as failure:
        if failure.status == 429:
            raise RateLimited(
                wait_seconds=_retry_after(failure),
                problem=_header(failure.headers, "X-Rate-Limit-Problem"),
            ) from failure
        if failure.status in TRANSIENT_STATUSES:
            raise XeroUnavailable(f"HTTP {failure.status}") from failure
        raise NeedsReconnecting(refused) from failure
    except urllib3.exceptions.HTTPError as failure:
        raise XeroUnavailable(type(failure).__name__) from failure


def store_new_tokens(connection: XeroConnection, tokens: TokenSet) -> None:
    """Keep a freshly granted token set (after connecting or reconnecting); it reactivates."""
    _store_tokens(connection, tokens, expected_version=None, reactivate=True)


def _store_tokens(
    connection: XeroConnection,
    tokens: TokenSet,
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
        changes |= {"status": ConnectionStatus.ACTIVE, "status_detail": ""}
    return rows.update(**changes) == 1


def _mark_needs_reconnect(connection: XeroConnection, detail: str) -> None:
    with transaction.atomic():
        marked = XeroConnection.objects.filter(
            pk=connection.pk, status=ConnectionStatus.ACTIVE
        ).update(
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


def _refresh_lease() -> timedelta:
    # Longer than a refresh call can take (connect + read timeout), so a slow refresh is
    # never overtaken by a second one using the same refresh token.
    return timedelta(seconds=2 * settings.XERO_TIMEOUT + 10)


def fresh_connection(connection: XeroConnection) -> XeroConnection:
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
            raise NotConnected(f"{connection.organisation_name} was disconnected from Xero.")
        if connection.status == ConnectionStatus.NEEDS_RECONNECT:
            raise NeedsReconnecting(_reconnect_message(connection))
        now = timezone.now()
        # Once refreshed, use what Xero gave, however short-lived: never refresh in a loop.
        if refreshed or (connection.expires_at and connection.expires_at - REFRESH_MARGIN > now):
            return connection
        if time.monotonic() > deadline:
            raise XeroUnavailable("the token refresh by another process did not finish")
        claimed = (
            XeroConnection.objects.filter(pk=connection.pk, token_version=connection.token_version)
            .filter(Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lt=now))
            .update(refresh_lease_until=now + lease)
        )
        if claimed:
            _refresh(connection)
            refreshed = True
        else:
            time.sleep(0.1)


def _reconnect_message(connection: XeroConnection) -> str:
    return (
        f"Xero no longer accepts omni-xero's connection to {connection.organisation_name}"
        f"{': ' + connection.status_detail if connection.status_detail else ''}. "
        "Reconnect to Xero to carry on; nothing has been lost."
    )


def _release_lease(connection: XeroConnection) -> None:
    XeroConnection.objects.filter(pk=connection.pk).update(refresh_lease_until=None)


@sensitive_variables("refresh_token", "raw")
def _refresh(connection: XeroConnection) -> None:
    """Get new tokens while holding the lease; record the outcome. Always ends the lease."""
    version = connection.token_version
    client = _build_client(connection=connection, token=None)
    try:
        if connection.kind == ConnectionKind.CUSTOM:
            raw = _TokenApi(client).get_client_credentials_token(app_store_billing=False)
        else:
            refresh_token = crypto.decrypt(connection.refresh_token_encrypted)
            if not refresh_token:
                _mark_needs_reconnect(connection, "its saved sign-in could not be read")
                return
            raw = _TokenApi(client).refresh_token(refresh_token, connection.scopes.split())
        tokens = _token_set(raw)
    except HTTPStatusException as failure:
        if failure.status == 429:
            _release_lease(connection)
            raise RateLimited(
                wait_seconds=_retry_after(failure),
                problem=_header(failure.headers, "X-Rate-Limit-Problem"),
            ) from failure
        if failure.status in TRANSIENT_STATUSES:
            _release_lease(connection)
            raise XeroUnavailable(f"token refresh: HTTP {failure.status}") from failure
        _mark_needs_reconnect(connection, _grant_error(failure))
        return
    except urllib3.exceptions.HTTPError as failure:
        _release_lease(connection)
        raise XeroUnavailable(type(failure).__name__) from failure
    except BaseException:
        # An answer we could not read: let another attempt (ours or a worker's) try again.
        _release_lease(connection)
        raise
    if not _store_tokens(connection, tokens, expected_version=version):
        logger.warning(
            "Tokens refreshed for connection %s were not saved: it changed meanwhile", connection.pk
        )


def _grant_error(failure: HTTPStatusException) -> str:
    try:
        body = json.loads(failure.body or b"{}")
    except ValueError:
        body = {}
    if body.get("error") == "invalid_grant":
        return "the sign-in expired or was revoked in Xero"
    if body.get("error") == "invalid_client":
        return "the app's client ID or secret is wrong"
    return f"the token refresh failed with HTTP {failure.status}"


# --- Calls with retries ------------------------------------------------------------------------


def _idempotency_key() -> str:
    # Xero suggests up to 128 characters; four UUIDs without hyphens fill it.
    return "".join(uuid.uuid4().hex for _ in range(4))


def _call[T](
    connection: XeroConnection | None,
    call: Callable[[AccountingApi, str, str | None], T],
    *,
    write: bool = False,
) -> T:
    """Run one Accounting API call with fresh tokens, retrying what is worth retrying.

    A write keeps one Idempotency-Key across its retries: if Xero committed an attempt whose
    answer was lost, the retry gets that first answer back instead of creating a duplicate.
    """
    if connection is None:
        raise NotConnected()
    key = _idempotency_key() if write else None
    attempts = 1 + max(0, settings.XERO_MAX_RETRIES)
    refreshed_after_401 = False
    for attempt in range(1, attempts + 1):
        connection = fresh_connection(connection)
        client = _build_client(connection=connection, token=_sdk_token(connection))
        client.attempt, client.idempotency_key = attempt, key or ""
        api = AccountingApi(client, base_url=settings.XERO_API_URL + "/api.xro/2.0")
        tenant = "" if connection.kind == ConnectionKind.CUSTOM else str(connection.tenant_id)
        last = attempt == attempts
        try:
            return call(api, tenant, key)
        except RateLimitException as failure:
            wait = _retry_after(failure)
            if last or wait > settings.XERO_MAX_RETRY_WAIT:
                raise RateLimited(wait_seconds=wait, problem=failure.rate_limit or "") from failure
            time.sleep(wait)
        except AccountingBadRequestException as failure:
            raise _validation_failed(failure, connection) from failure
        except NotFoundException as failure:
            raise NotFound("Xero has no such record.") from failure
        except HTTPStatusException as failure:
            if failure.status == 401 and not last and not refreshed_after_401:
                # The token was refused before its time (revoked, clock skew): refresh once,
                # unless another process already has.
                refreshed_after_401 = True
                XeroConnection.objects.filter(
                    pk=connection.pk, token_version=connection.token_version
                ).update(expires_at=None)
                continue
            if failure.status in (401, 403):
                _mark_needs_reconnect(connection, f"Xero answered {failure.status}")
                raise NeedsReconnecting(_reconnect_message(connection)) from failure
            if failure.status not in TRANSIENT_STATUSES or last:
                raise XeroUnavailable(f"HTTP {failure.status}") from failure
            time.sleep(_backoff(attempt))
        except (urllib3.exceptions.HTTPError, ConnectionError) as failure:
            if last:
                raise XeroUnavailable(type(failure).__name__) from failure
            time.sleep(_backoff(attempt))
    raise AssertionError("unreachable")


def _retry_after(failure: RateLimitException) -> float:
    try:
        return max(0.0, float(_header(failure.headers, "Retry-After") or 1))
    except ValueError:
        return 1.0


def _backoff(attempt: int) -> float:
    return min(8.0, 0.25 * 2 ** (attempt - 1)) + secrets.randbelow(100) / 1000


def _validation_failed(failure: AccountingBadRequestException, connection) -> XeroError:
    data = failure.error_data or {}
    if data.get("error") == "invalid_grant":  # a refresh the SDK attempted itself
        _mark_needs_reconnect(connection, "the sign-in expired or was revoked in Xero")
        return NeedsReconnecting(_reconnect_message(connection))
    errors = [
        ElementError(
            index=index,
            messages=[e.get("Message", "") for e in element.get("ValidationErrors") or []],
            element=element,
        )
        for index, element in enumerate(data.get("Elements") or [])
    ]
    if not errors and data.get("Message"):
        return ValidationFailed([], f"Xero refused the request: {data['Message']}")
    return ValidationFailed(errors)


# --- Accounting API: the calls omni-xero makes -------------------------------------------------


def _contact_data(contact: SdkContact) -> XeroContactData:
    status = contact.contact_status
    return XeroContactData(
        contact_id=uuid.UUID(str(contact.contact_id)),
        name=contact.name or "",
        first_name=contact.first_name or "",
        last_name=contact.last_name or "",
        email=contact.email_address or "",
        account_number=contact.account_number or "",
        contact_number=contact.contact_number or "",
        tax_number=contact.tax_number or "",
        status=getattr(status, "value", status) or "ACTIVE",
        merged_to_contact_id=uuid.UUID(str(contact.merged_to_contact_id))
        if contact.merged_to_contact_id
        else None,
        is_customer=bool(contact.is_customer),
        is_supplier=bool(contact.is_supplier),
        updated_at=contact.updated_date_utc,
    )


def contacts_page(
    connection: XeroConnection,
    *,
    page: int,
    page_size: int = 1000,
    modified_since: datetime | None = None,
) -> ContactsPage:
    """One page of contacts, archived ones included.

    https://developer.xero.com/documentation/api/accounting/contacts#get-contacts
    """
    # The SDK sends every argument it is given, None included: pass only what is set.
    options: dict[str, Any] = {"page": page, "page_size": page_size, "include_archived": True}
    if modified_since is not None:
        # Xero documents whole seconds (yyyy-mm-ddThh:mm:ss); its filter includes the mark.
        options["if_modified_since"] = modified_since.astimezone(UTC).replace(microsecond=0)
    result = _call(connection, lambda api, tenant, _: api.get_contacts(tenant, **options))
    pagination = getattr(result, "pagination", None)
    return ContactsPage(
        contacts=[_contact_data(c) for c in result.contacts or []],
        page=page,
        page_count=getattr(pagination, "page_count", None),
    )


def contact_get(connection: XeroConnection, *, contact_id: uuid.UUID | str) -> XeroContactData:
    """One contact by ID, archived or merged ones too.

    https://developer.xero.com/documentation/api/accounting/contacts#get-contacts
    """
    result = _call(connection, lambda api, tenant, _: api.get_contact(tenant, str(contact_id)))
    if not result.contacts:
        raise NotFound("Xero has no such contact.")
    return _contact_data(result.contacts[0])


def contacts_create(
    connection: XeroConnection, *, contacts: Sequence[NewContact]
) -> list[XeroContactData]:
    """Create contacts (PUT; one Idempotency-Key for all its retries).

    https://developer.xero.com/documentation/api/accounting/contacts#put-contacts
    """
    body = SdkContacts(contacts=[_sdk_contact(c) for c in contacts])
    result = _call(
        connection,
        lambda api, tenant, key: api.create_contacts(tenant, body, idempotency_key=key),
        write=True,
    )
    return [_contact_data(c) for c in result.contacts or []]


def _sdk_contact(contact: NewContact) -> SdkContact:
    return SdkContact(
        name=contact.name,
        first_name=contact.first_name or None,
        last_name=contact.last_name or None,
        email_address=contact.email or None,
        account_number=contact.account_number or None,
        contact_number=contact.contact_number or None,
        tax_number=contact.tax_number or None,
    )


def iter_contact_pages(
    connection: XeroConnection, *, modified_since: datetime | None, page_size: int = 1000
) -> Iterable[ContactsPage]:
    """Every page of contacts changed since a moment (all contacts without one)."""
    page = 1
    while True:
        found = contacts_page(
            connection, page=page, page_size=page_size, modified_since=modified_since
        )
        yield found
        if len(found.contacts) < page_size or (found.page_count and page >= found.page_count):
            return
        page += 1
