"""Xero identity: the consent screen, the token endpoint, revocation and Connections.

Paths follow Xero's hosts: `login.xero.com/identity/connect/authorize`,
`identity.xero.com/connect/token` and `/connect/revocation`, `api.xero.com/Connections`.
Lifetimes follow https://developer.xero.com/faq/oauth2: access tokens 30 minutes; refresh
tokens rotate, the previous one stays usable for a 30-minute grace, and an unused one lasts
60 days.
"""

import base64
import binascii
import hashlib
import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from xero_sandbox import pages, wire
from xero_sandbox.store import Store
from xero_sandbox.web import Request, Response, with_query

ACCESS_TOKEN_SECONDS = 1800
REFRESH_GRACE_SECONDS = 1800
REFRESH_TOKEN_SECONDS = 60 * 24 * 3600
CODE_SECONDS = 300


def _invalid(error: str) -> Response:
    return Response.json(400, {"error": error})


def _iso(moment: float) -> str:
    """Xero's 7-digit timestamps; with the `Z` the identity spec's date-time format needs
    (Xero's own example omits it; the SDK reads both)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


# The consent screen ---------------------------------------------------------------------


def authorize_page(store: Store, req: Request) -> Response:
    """GET: the sandbox's login-and-consent screen listing the organisations to connect."""
    client = store.state["clients"].get(req.arg("client_id"))
    problem = _authorize_problem(client, req.arg("response_type"), req.arg("redirect_uri"))
    if problem:
        return Response.html(pages.error_page(problem), status=400)
    with store.lock:
        orgs = [(tid, org["organisation"]["Name"]) for tid, org in store.state["orgs"].items()]
    return Response.html(pages.consent_page(client, req.query, orgs, store.form_token))


def _authorize_problem(client: dict | None, response_type: str, redirect_uri: str) -> str:
    if client is None:
        return "unauthorized_client: unknown client_id"
    if response_type != "code":
        return "unsupported_response_type: only response_type=code is supported"
    if not redirect_uri:
        return "invalid_request: redirect_uri is required"
    # Only the app's registered URIs: an error page, never a redirect to an unknown site
    # (https://developer.xero.com/documentation/guides/oauth2/auth-flow/, "redirect_uri").
    if redirect_uri not in client["redirect_uris"]:
        return (
            f"invalid_request: redirect_uri {redirect_uri} is not registered for this app "
            "(the sandbox's --redirect-uri, or POST /_sandbox/clients/{client_id}/redirect-uris)"
        )
    return ""


def authorize_decision(store: Store, req: Request) -> Response:
    """POST from the consent screen: Allow issues a code for the ticked organisations."""
    forged = pages.forged_form(req, store.form_token)
    if forged:
        return forged
    form = {k: v[-1] for k, v in req.form().items()}
    client = store.state["clients"].get(form.get("client_id", ""))
    redirect_uri = form.get("redirect_uri", "")
    problem = _authorize_problem(client, form.get("response_type", "code"), redirect_uri)
    if problem:
        return Response.html(pages.error_page(problem), status=400)
    state = form.get("state") or None
    tenant_ids = [t for t in req.form().get("tenant", []) if t]
    if form.get("decision") != "allow" or not tenant_ids:
        return Response.redirect(with_query(redirect_uri, error="access_denied", state=state))
    code = secrets.token_urlsafe(32)
    with store.lock:
        store.state["codes"][code] = {
            "client_id": client["client_id"],
            "redirect_uri": redirect_uri,
            "scope": form.get("scope", "").split(),
            "tenant_ids": [t for t in tenant_ids if t in store.state["orgs"]],
            "code_challenge": form.get("code_challenge", ""),
            "code_challenge_method": form.get("code_challenge_method", ""),
            "expires_at": store.now() + CODE_SECONDS,
        }
        store.changed()
    return Response.redirect(with_query(redirect_uri, code=code, state=state))


# The token endpoint ---------------------------------------------------------------------


def token(store: Store, req: Request) -> Response:
    form = {k: v[-1] for k, v in req.form().items()}
    client_id, secret = _client_credentials(req, form)
    grant_type = form.get("grant_type", "")
    with store.lock:
        client = store.state["clients"].get(client_id)
        if client is None:
            return _invalid("invalid_client")
        if grant_type == "authorization_code":
            return _grant_code(store, client, secret, form)
        if secret != client["client_secret"]:
            return _invalid("invalid_client")
        if grant_type == "refresh_token":
            return _grant_refresh(store, client, form.get("refresh_token", ""))
        if grant_type == "client_credentials":
            return _grant_client_credentials(store, client)
        return _invalid("unsupported_grant_type")


def _client_credentials(req: Request, form: dict[str, str]) -> tuple[str, str]:
    """Client id and secret from Basic auth (web apps) or the form body (the SDK, PKCE)."""
    auth = req.header("Authorization")
    if auth.lower().startswith("basic "):
        try:
            pair = base64.b64decode(auth[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        client_id, _, secret = pair.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _grant_code(store: Store, client: dict, secret: str, form: dict[str, str]) -> Response:
    grant = store.state["codes"].pop(form.get("code", ""), None)
    store.changed()
    if not grant or grant["client_id"] != client["client_id"] or grant["expires_at"] < store.now():
        return _invalid("invalid_grant")
    if grant["redirect_uri"] != form.get("redirect_uri", grant["redirect_uri"]):
        return _invalid("invalid_grant")
    if grant["code_challenge"]:
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not 43 <= len(verifier) <= 128 or expected != grant["code_challenge"]:
            return _invalid("invalid_grant")
    elif secret != client["client_secret"]:
        return _invalid("invalid_client")
    auth_event_id = str(uuid.uuid4())
    _connect(store, client, grant["tenant_ids"], auth_event_id)
    return Response.json(200, _issue(store, client["client_id"], grant["scope"], auth_event_id))


def _connect(store: Store, client: dict, tenant_ids: list[str], auth_event_id: str) -> None:
    """Create or refresh one connection per (app, organisation), as Xero does on consent."""
    now = _iso(store.now())
    connections = store.state["connections"]
    for tenant_id in tenant_ids:
        existing = next(
            (
                c
                for c in connections.values()
                if c["client_id"] == client["client_id"] and c["tenantId"] == tenant_id
            ),
            None,
        )
        if existing:
            existing.update(authEventId=auth_event_id, updatedDateUtc=now)
            continue
        connection_id = str(uuid.uuid4())
        connections[connection_id] = {
            "id": connection_id,
            "client_id": client["client_id"],
            "authEventId": auth_event_id,
            "tenantId": tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": store.state["orgs"][tenant_id]["organisation"]["Name"],
            "createdDateUtc": now,
            "updatedDateUtc": now,
        }


def _grant_refresh(store: Store, client: dict, refresh_token: str) -> Response:
    record = store.state["refresh_tokens"].get(refresh_token)
    now = store.now()
    if not record or record["client_id"] != client["client_id"] or record["revoked"]:
        return _invalid("invalid_grant")
    if record["expires_at"] < now:
        return _invalid("invalid_grant")
    if record["replaced_at"] is not None and now - record["replaced_at"] > REFRESH_GRACE_SECONDS:
        return _invalid("invalid_grant")
    if record["replaced_at"] is None:
        record["replaced_at"] = now
    scope = record["scope"]
    return Response.json(200, _issue(store, client["client_id"], scope, record["auth_event_id"]))


def _grant_client_credentials(store: Store, client: dict) -> Response:
    if not client["custom_tenant_id"]:
        return _invalid("unauthorized_client")
    payload = _issue(
        store, client["client_id"], client["scopes"], None, tenant_id=client["custom_tenant_id"]
    )
    return Response.json(200, payload)


def _issue(
    store: Store,
    client_id: str,
    scope: list[str],
    auth_event_id: str | None,
    tenant_id: str | None = None,
) -> dict[str, Any]:
    """Mint tokens; the response carries only the keys Xero sends.

    As in a real refresh answer recorded by xero-python (https://github.com/XeroAPI/xero-python,
    tests/test_api_client/cassettes/test_token_api_refresh_token.yaml).
    """
    now = store.now()
    access = secrets.token_urlsafe(40)
    store.state["access_tokens"][access] = {
        "client_id": client_id,
        "scope": scope,
        "auth_event_id": auth_event_id,
        "custom_tenant_id": tenant_id,
        "expires_at": now + ACCESS_TOKEN_SECONDS,
        "revoked": False,
    }
    payload: dict[str, Any] = {}
    if "openid" in scope:
        payload["id_token"] = _id_token(client_id, now)
    payload.update(
        access_token=access,
        expires_in=ACCESS_TOKEN_SECONDS,
        token_type="Bearer",
    )
    if "offline_access" in scope and auth_event_id:
        refresh = secrets.token_urlsafe(32)
        store.state["refresh_tokens"][refresh] = {
            "client_id": client_id,
            "scope": scope,
            "auth_event_id": auth_event_id,
            "expires_at": now + REFRESH_TOKEN_SECONDS,
            "replaced_at": None,
            "revoked": False,
        }
        payload["refresh_token"] = refresh
    payload["scope"] = " ".join(scope)
    _prune(store, now)
    store.changed()
    return payload


def _prune(store: Store, now: float) -> None:
    """Forget long-dead tokens so the state file does not grow forever."""
    tokens = store.state["access_tokens"]
    for key in [k for k, v in tokens.items() if v["expires_at"] < now - 86400]:
        del tokens[key]


def _id_token(client_id: str, now: float) -> str:
    """A JWT-shaped identity token (unsigned: nothing here should verify it)."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {
        "iss": "xero-sandbox",
        "aud": client_id,
        "sub": "sandbox-demo-user",
        "iat": int(now),
        "exp": int(now) + 300,
        "email": "demo.user@example.co.nz",
        "given_name": "Demo",
        "family_name": "User",
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_urlsafe(16)}"


def revoke(store: Store, req: Request) -> Response:
    """Revoke a refresh token: its grant ends and the app's connections are removed."""
    form = {k: v[-1] for k, v in req.form().items()}
    client_id, secret = _client_credentials(req, form)
    with store.lock:
        client = store.state["clients"].get(client_id)
        if client is None or client["client_secret"] != secret:
            return _invalid("invalid_client")
        record = store.state["refresh_tokens"].get(form.get("token", ""))
        if record and record["client_id"] == client_id:
            revoke_grant(store, record["auth_event_id"])
            _disconnect_client(store, client_id)
        store.changed()
    return Response(200)


def revoke_grant(store: Store, auth_event_id: str) -> None:
    for table in ("refresh_tokens", "access_tokens"):
        for record in store.state[table].values():
            if record.get("auth_event_id") == auth_event_id:
                record["revoked"] = True


def _disconnect_client(store: Store, client_id: str) -> None:
    connections = store.state["connections"]
    for key in [k for k, c in connections.items() if c["client_id"] == client_id]:
        del connections[key]


# Bearer tokens and Connections -----------------------------------------------------------


def token_record(store: Store, req: Request) -> dict | None:
    """The stored access token named by `Authorization: Bearer …`, valid or not."""
    auth = req.header("Authorization")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    return store.state["access_tokens"].get(token)


def bearer(store: Store, req: Request) -> tuple[dict | None, Response | None]:
    """The access token record behind `Authorization: Bearer …`, or the 401 to answer."""
    record = token_record(store, req)
    if record is None or record["revoked"]:
        body = wire.problem(401, "Unauthorized", "AuthenticationUnsuccessful")
        return None, Response.json(401, body, {"WWW-Authenticate": "Bearer"})
    if record["expires_at"] <= store.now():
        return None, Response.json(401, wire.token_expired(record["expires_at"]))
    return record, None


def tenant_ids_for(store: Store, token: dict) -> list[str]:
    if token["custom_tenant_id"]:
        return [token["custom_tenant_id"]]
    return [
        c["tenantId"]
        for c in store.state["connections"].values()
        if c["client_id"] == token["client_id"]
    ]


def _public(connection: dict) -> dict:
    return {k: v for k, v in connection.items() if k != "client_id"}


def connections(store: Store, req: Request) -> Response:
    with store.lock:
        token, denied = bearer(store, req)
        if denied:
            return denied
        rows = [
            _public(c)
            for c in store.state["connections"].values()
            if c["client_id"] == token["client_id"]
        ]
    wanted = req.arg("tenantId")
    return Response.json(200, [r for r in rows if not wanted or r["tenantId"] == wanted])


def delete_connection(store: Store, req: Request) -> Response:
    with store.lock:
        token, denied = bearer(store, req)
        if denied:
            return denied
        connection = store.state["connections"].get(req.params["id"])
        if connection is None or connection["client_id"] != token["client_id"]:
            return Response.not_found()
        del store.state["connections"][req.params["id"]]
        store.changed()
    return Response(204)
