"""Xero's identity service: the consent page, tokens, and the organisations a grant covers.

https://developer.xero.com/documentation/guides/oauth2/overview/
"""

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from xero_python.api_client import ApiClient
from xero_python.api_client.oauth2 import TokenApi
from xero_python.identity import IdentityApi

from .data import Tenant, TokenSet
from .errors import XeroError
from .text import from_xero
from .transport import Session, call


@dataclass(frozen=True)
class Authorization:
    """What the consent page needs, and what the callback must check against (PKCE)."""

    state: str
    code_verifier: str
    code_challenge: str


def authorization_new() -> Authorization:
    """A fresh state and PKCE pair (S256).

    https://developer.xero.com/documentation/guides/oauth2/pkce-flow/
    """
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return Authorization(
        state=secrets.token_urlsafe(24),
        code_verifier=verifier,
        code_challenge=base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
    )


def authorization_url(*, authorization: Authorization, redirect_uri: str) -> str:
    """Xero's consent page for omni-xero's scopes.

    https://developer.xero.com/documentation/guides/oauth2/pkce-flow/
    """
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.XERO_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": " ".join(settings.XERO_SCOPES),
            "state": authorization.state,
            "code_challenge": authorization.code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{settings.XERO_LOGIN_URL}/identity/connect/authorize?{query}"


class _TokenApi(TokenApi):  # type: ignore[misc]  # xero_python ships no type information
    """The SDK's token calls, at the configured identity host, plus the code exchange."""

    def __init__(self, api_client: ApiClient):
        super().__init__(api_client, settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET)
        url = settings.XERO_IDENTITY_URL
        self.refresh_token_url = url + "/connect/token"
        self.client_credentials_token_url = url + "/connect/token"
        self.revoke_token_url = url + "/connect/revocation"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> Any:
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


def _token_set(raw: dict[str, Any]) -> TokenSet:
    scope = raw.get("scope") or []
    expires_at = raw.get("expires_at") or (time.time() + float(raw.get("expires_in") or 1800))
    return TokenSet(
        access_token=raw["access_token"],
        refresh_token=raw.get("refresh_token") or "",
        expires_at=datetime.fromtimestamp(float(expires_at), tz=UTC),
        scopes=scope.split() if isinstance(scope, str) else list(scope),
    )


# Token calls are never retried here: a code is single-use, and a refresh is retried by
# sync.connections.services under its lease. A bare @sensitive_variables() hides every local of
# these and of the SDK frames below them (client secret, tokens) from error reports.


@sensitive_variables()
def code_exchange(
    session: Session, *, code: str, redirect_uri: str, code_verifier: str
) -> TokenSet:
    """Trade the authorization code for tokens (authorization code flow with PKCE).

    https://developer.xero.com/documentation/guides/oauth2/pkce-flow/
    """
    return _token_set(
        call(
            session,
            lambda client, _: _TokenApi(client).exchange_code(
                code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            ),
            retries=0,
            identity=True,
        )
    )


@sensitive_variables()
def client_credentials_token(session: Session) -> TokenSet:
    """A custom connection's token (client credentials grant).

    https://developer.xero.com/documentation/guides/oauth2/custom-connections/
    """
    return _token_set(
        call(
            session,
            lambda client, _: _TokenApi(client).get_client_credentials_token(
                app_store_billing=False
            ),
            retries=0,
            identity=True,
        )
    )


@sensitive_variables()
def tokens_refresh(session: Session, *, refresh_token: str, scopes: list[str]) -> TokenSet:
    """New tokens for a refresh token, which Xero rotates (the old one works 30 more minutes).

    https://developer.xero.com/documentation/guides/oauth2/auth-flow/#refreshing-access-and-refresh-tokens
    """
    return _token_set(
        call(
            session,
            lambda client, _: _TokenApi(client).refresh_token(refresh_token, scopes),
            retries=0,
            identity=True,
        )
    )


@sensitive_variables()
def tokens_revoke(session: Session, *, refresh_token: str) -> None:
    """Revoke a refresh token; this ends every organisation the grant covers.

    https://developer.xero.com/documentation/guides/oauth2/auth-flow/#revoking-tokens
    """
    call(
        session,
        lambda client, _: _TokenApi(client).revoke_token(refresh_token),
        retries=0,
        identity=True,
    )


def tenants(session: Session) -> list[Tenant]:
    """The organisations a grant covers (the session's token is the grant's access token).

    https://developer.xero.com/documentation/guides/oauth2/tenants/
    """
    found = call(
        session,
        lambda client, _: IdentityApi(client, base_url=settings.XERO_API_URL).get_connections(),
        identity=True,
    )
    return [
        from_xero(
            Tenant(
                xero_connection_id=uuid.UUID(str(c.id)),
                tenant_id=uuid.UUID(str(c.tenant_id)),
                tenant_type=c.tenant_type or "",
                name=c.tenant_name or "",
            )
        )
        for c in found
        if (c.tenant_type or "ORGANISATION") == "ORGANISATION"
    ]


def tenant_remove(session: Session, *, xero_connection_id: uuid.UUID) -> None:
    """Remove one organisation from the grant.

    https://developer.xero.com/documentation/guides/oauth2/tenants/#remove-connections
    """
    call(
        session,
        lambda client, _: IdentityApi(client, base_url=settings.XERO_API_URL).delete_connection(
            str(xero_connection_id)
        ),
        identity=True,
    )


def tenants_remove(session: Session, *, xero_connection_ids: Iterable[uuid.UUID | None]) -> None:
    """Remove organisations from a grant, best effort (e.g. those ticked but not picked)."""
    for xero_connection_id in xero_connection_ids:
        if xero_connection_id is None:
            continue
        try:
            tenant_remove(session, xero_connection_id=xero_connection_id)
        except XeroError:
            continue  # recorded by the session; an unused grant entry is harmless
