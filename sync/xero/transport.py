"""The one layer that owns how a call to Xero is made: the SDK client, the shared HTTP pool,
timeouts, retries, Idempotency-Keys, and the split of failures into transient (retried) and
final (raised as one of the errors in errors.py).

It writes nothing itself: who we are to Xero, how a refused token is renewed and where each
request is recorded come from the caller's `Session` (sync.connections.services provides one per
connection).
"""

import contextlib
import contextvars
import functools
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import certifi
import urllib3
from django.conf import settings
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import (
    AccountingBadRequestException,
    HTTPStatusException,
    NotFoundException,
    RateLimitException,
)
from xero_python.rest import RESTResponse

from .errors import (
    ElementError,
    GrantRefused,
    NotFound,
    RateLimited,
    ValidationFailed,
    XeroError,
    XeroUnavailable,
)
from .text import storable

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})

# Waits between attempts go through this, so tests can record them instead of sleeping.
sleep: Callable[[float], None] = time.sleep
# A wait between attempts is slept this many seconds at a time, telling the session between
# (Session.waiting): a job sitting out a minute's rate limit keeps its shorter lease.
WAIT_SLICE = 10.0

# While set (for a web request: sync.connections.middleware), a rate limit is never waited out: the
# caller gets RateLimited at once and can hand the work to a background task.
_interactive: contextvars.ContextVar[bool] = contextvars.ContextVar("interactive", default=False)


@contextlib.contextmanager
def interactive() -> Iterator[None]:
    """Calls made inside never sit out a rate limit (someone is waiting for the page)."""
    token = _interactive.set(True)
    try:
        yield
    finally:
        _interactive.reset(token)


def waiting_allowed() -> bool:
    """Whether a call made now may sit out a rate limit (False while someone waits for a
    page: inside `interactive()`)."""
    return not _interactive.get()


@dataclass(frozen=True)
class Quota:
    """The calls Xero says are left, from its X-*Limit-Remaining headers (None: not sent)."""

    minute_remaining: int | None = None
    day_remaining: int | None = None
    app_minute_remaining: int | None = None

    @property
    def seen(self) -> bool:
        return any(v is not None for v in (self.minute_remaining, self.day_remaining))


@dataclass(frozen=True)
class CallRecord:
    """One HTTP request to Xero and what came back (status None: no answer)."""

    method: str
    endpoint: str
    status: int | None
    duration_ms: int
    attempt: int
    quota: Quota
    correlation_id: str
    idempotency_key: str
    error: str


class Session(Protocol):
    """Who omni-xero is to Xero for a call, and what to do on the way."""

    @property
    def tenant_id(self) -> str:
        """The xero-tenant-id header ("" for a custom connection, which needs none)."""
        ...

    def access_token(self) -> str:
        """A token valid for a while ("" for the identity calls that need none)."""
        ...

    def token_rejected(self) -> bool:
        """Xero answered 401 before the token's time: renew it; False if it cannot be."""
        ...

    def refused(self, detail: str) -> XeroError:
        """Xero keeps refusing this session (401 again, 403): the error to raise."""
        ...

    def record(self, call: CallRecord) -> None:
        """Keep a record of one request."""
        ...

    def waiting(self) -> None:
        """Called every WAIT_SLICE seconds of a wait between attempts (a background job
        renews its lease)."""
        ...


@dataclass
class TokenSession:
    """A session on a bare access token: while connecting, before a connection row exists."""

    token: str = ""
    tenant_id: str = ""
    recorder: Callable[[CallRecord], None] | None = None

    def access_token(self) -> str:
        return self.token

    def token_rejected(self) -> bool:
        return False

    def refused(self, detail: str) -> XeroError:
        return GrantRefused(detail)

    def record(self, call: CallRecord) -> None:
        if self.recorder is not None:
            self.recorder(call)

    def waiting(self) -> None:
        pass


class _ApiClient(ApiClient):  # type: ignore[misc]  # xero_python ships no type information
    """The SDK's client, timing and recording every request and applying our timeout."""

    session: Session
    attempt: int = 1
    idempotency_key: str = ""

    def request(
        self,
        method: str,
        url: str,
        query_params: list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> RESTResponse:
        if not kwargs.get("_request_timeout"):
            kwargs["_request_timeout"] = (min(10.0, settings.XERO_TIMEOUT), settings.XERO_TIMEOUT)
        started = time.monotonic()
        status: int | None = None
        response_headers: Any = {}
        error = ""
        try:
            response = super().request(method, url, query_params, headers, **kwargs)
            status, response_headers = response.status, response.getheaders()
            return response
        except HTTPStatusException as failure:
            status, response_headers = failure.status, failure.headers or {}
            raise
        except Exception as failure:  # recorded here, classified by call()
            error = f"{type(failure).__name__}: {failure}"[:500]
            raise
        finally:
            endpoint = urlsplit(url).path
            if query_params:
                endpoint += "?" + urlencode(query_params)
            self.session.record(
                CallRecord(
                    method=method,
                    endpoint=endpoint[:500],
                    status=status,
                    duration_ms=round((time.monotonic() - started) * 1000),
                    attempt=self.attempt,
                    quota=quota(response_headers),
                    correlation_id=header(response_headers, "Xero-Correlation-Id")[:64],
                    idempotency_key=self.idempotency_key,
                    error=error,
                )
            )


def header(headers: Any, name: str) -> str:
    """A response header, case-insensitively, or ""."""
    if not headers:
        return ""
    value = headers.get(name)
    if value is None and isinstance(headers, Mapping):
        value = {str(k).lower(): v for k, v in headers.items()}.get(name.lower())
    return str(value or "")


def quota(headers: Any) -> Quota:
    def number(name: str) -> int | None:
        value = header(headers, name).strip()
        return int(value) if value.lstrip("-").isdigit() else None

    return Quota(
        minute_remaining=number("X-MinLimit-Remaining"),
        day_remaining=number("X-DayLimit-Remaining"),
        app_minute_remaining=number("X-AppMinLimit-Remaining"),
    )


def client(session: Session, *, attempt: int = 1, idempotency_key: str = "") -> _ApiClient:
    """An SDK client for one attempt, on the process's shared HTTP pool."""
    # Configuration is a singleton in disguise: its constructor arguments are ignored after
    # the first instance, so build it empty and assign what this client needs.
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(
        client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
    )
    token = _sdk_token(session.access_token())
    api_client = _ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: token,
        # We refresh tokens ourselves (sync.connections.services, with a lease); the SDK never
        # gets a refresh token, so there is nothing for it to save.
        oauth2_token_saver=lambda new: None,
    )
    api_client.session = session
    api_client.attempt, api_client.idempotency_key = attempt, idempotency_key
    api_client.rest_client.pool_manager = _shared_pool()
    return api_client


def _sdk_token(access_token: str) -> dict[str, Any] | None:
    """The token dict the SDK wants (only the keys it accepts).

    Its expiry is always half an hour away, so the SDK never tries a refresh of its own: a
    token Xero refuses comes back as a 401, which call() hands to the session.
    """
    if not access_token:
        return None
    return {
        "access_token": access_token,
        "scope": [],
        "expires_in": 1800,
        "token_type": "Bearer",
        "expires_at": time.time() + 1800,
    }


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


def new_idempotency_key() -> str:
    # Xero suggests up to 128 characters; four UUIDs without hyphens fill it.
    return "".join(uuid.uuid4().hex for _ in range(4))


@dataclass(frozen=True)
class _Verdict:
    """What a failure means: raise `error`, after `retry_after` seconds' retry if allowed."""

    error: XeroError
    retry_after: float | None = None  # None: retrying cannot help
    unauthorized: bool = False


def _classify(failure: Exception, *, attempt: int, identity: bool) -> _Verdict | None:
    """The one place that decides what each failure from the SDK or urllib3 means.

    None for an exception that is not a failure of Xero or of the network (a bug: let it
    propagate as it is).
    """
    if isinstance(failure, RateLimitException) or (
        isinstance(failure, HTTPStatusException) and failure.status == 429
    ):
        wait = _retry_after(failure)
        problem = getattr(failure, "rate_limit", None) or header(
            failure.headers, "X-Rate-Limit-Problem"
        )
        longest = settings.XERO_MAX_RETRY_WAIT if waiting_allowed() else 0.0
        return _Verdict(
            RateLimited(wait_seconds=wait, problem=problem),
            retry_after=wait if wait <= longest else None,
        )
    if isinstance(failure, HTTPStatusException):
        status = failure.status
        if status in TRANSIENT_STATUSES:
            return _Verdict(XeroUnavailable(f"HTTP {status}"), retry_after=backoff(attempt))
        if identity and 400 <= status < 500:
            return _Verdict(GrantRefused(_grant_reason(failure)))
        if status in (401, 403):
            return _Verdict(XeroUnavailable(f"HTTP {status}"), unauthorized=True)
        if isinstance(failure, AccountingBadRequestException):
            return _Verdict(_validation_failed(failure))
        if isinstance(failure, NotFoundException):
            return _Verdict(NotFound("Xero has no such record."))
        return _Verdict(XeroUnavailable(f"HTTP {status}"))
    if isinstance(failure, urllib3.exceptions.HTTPError | ConnectionError):
        return _Verdict(XeroUnavailable(type(failure).__name__), retry_after=backoff(attempt))
    return None


def call[T](
    session: Session,
    request: Callable[[_ApiClient, str | None], T],
    *,
    write: bool = False,
    retries: int | None = None,
    identity: bool = False,
    idempotency_key: str | None = None,
) -> T:
    """Make one call to Xero, retrying what is worth retrying.

    `request` gets the SDK client and the Idempotency-Key (None for a read): the caller's
    `idempotency_key`, or a new one. A write keeps one key across its retries: if Xero
    committed an attempt whose answer was lost, the retry gets that first answer back
    instead of creating a duplicate. A token refused early (401) is renewed once through
    the session.
    """
    key = (idempotency_key or new_idempotency_key()) if write else None
    attempts = 1 + max(0, settings.XERO_MAX_RETRIES if retries is None else retries)
    renewed = False
    attempt = 0
    while True:
        attempt += 1
        try:
            return request(client(session, attempt=attempt, idempotency_key=key or ""), key)
        except Exception as failure:
            verdict = _classify(failure, attempt=attempt, identity=identity)
            if verdict is None:
                raise
            last = attempt >= attempts
            if verdict.unauthorized:
                status = getattr(failure, "status", None)
                # Revoked early or clock skew: renew the token once, then give up.
                if status == 401 and not renewed and session.token_rejected():
                    renewed = True
                    attempts += 1  # the renewal is not one of the retries
                    continue
                raise session.refused(f"Xero answered {status}") from failure
            if verdict.retry_after is None or last:
                raise verdict.error from failure
            _sit_out(session, verdict.retry_after)


def _sit_out(session: Session, seconds: float) -> None:
    """Wait before the next attempt, WAIT_SLICE at a time, telling the session as it goes."""
    while seconds > 0:
        session.waiting()
        step = min(seconds, WAIT_SLICE)
        sleep(step)
        seconds -= step


def _retry_after(failure: HTTPStatusException) -> float:
    try:
        return max(0.0, float(header(failure.headers, "Retry-After") or 1))
    except ValueError:
        return 1.0


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt`: exponential, capped, with a little jitter."""
    return min(8.0, 0.25 * 2.0 ** (attempt - 1)) + secrets.randbelow(100) / 1000


def _grant_reason(failure: HTTPStatusException) -> str:
    try:
        body = json.loads(failure.body or b"{}")
    except (TypeError, ValueError):
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if error == "invalid_grant":
        return "the sign-in expired or was revoked in Xero"
    if error == "invalid_client":
        return "the app's client ID or secret is wrong"
    return f"Xero's sign-in service answered HTTP {failure.status}"


def _validation_failed(failure: AccountingBadRequestException) -> ValidationFailed:
    data = failure.error_data or {}
    errors = [
        ElementError(
            index=index,
            messages=[
                storable(e.get("Message") or "") for e in element.get("ValidationErrors") or []
            ],
            element=element,
        )
        for index, element in enumerate(data.get("Elements") or [])
    ]
    if not errors and data.get("Message"):
        return ValidationFailed([], f"Xero refused the request: {storable(str(data['Message']))}")
    return ValidationFailed(errors)
