"""OAuth2 and Connections, driven the way the app and the SDK drive Xero's identity."""

from urllib.parse import parse_qs, urlsplit

import pytest
from xero_python.exceptions import HTTPStatusException

from tests.plugins.sandbox import CLIENT_ID, REDIRECT_URI, http, make_sdk, pkce_pair


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _exchange(sandbox, code: str, verifier: str) -> tuple[int, dict]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "code_verifier": verifier,
    }
    answer = http("POST", sandbox.url + "/connect/token", form, form=True)
    return answer.status, answer.json()


def _refresh(sandbox, refresh_token: str) -> tuple[int, dict]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": CLIENT_ID,
        "client_secret": sandbox.client_secret,
    }
    answer = http("POST", sandbox.url + "/connect/token", form, form=True)
    return answer.status, answer.json()


def test_consent_screen_lists_demo_organisations(sandbox):
    url = sandbox.url + "/identity/connect/authorize?response_type=code&client_id=omni-xero-demo"
    url += f"&redirect_uri={REDIRECT_URI}&scope=offline_access&state=s1"
    page = http("GET", url)
    assert page.status == 200
    assert b"Demo Company (NZ)" in page.body and b"Harbour Wholesale Ltd" in page.body
    assert b"Allow access" in page.body and b"Deny" in page.body


def test_consent_screen_rejects_unknown_client(sandbox):
    url = sandbox.url + "/identity/connect/authorize?response_type=code&client_id=nobody"
    assert http("GET", url + f"&redirect_uri={REDIRECT_URI}").status == 400


def test_deny_redirects_with_access_denied(sandbox):
    location = sandbox.authorize(state="xyz", allow=False)
    assert location.startswith(REDIRECT_URI)
    assert _query(location) == {"error": "access_denied", "state": "xyz"}


def test_pkce_code_exchange_returns_only_xero_token_keys(sandbox):
    verifier, challenge = pkce_pair()
    location = sandbox.authorize(state="abc", code_challenge=challenge)
    params = _query(location)
    assert params["state"] == "abc"
    status, token = _exchange(sandbox, params["code"], verifier)
    assert status == 200
    assert set(token) == {"id_token", "access_token", "expires_in", "token_type"} | {
        "refresh_token",
        "scope",
    }
    assert token["expires_in"] == 1800 and token["token_type"] == "Bearer"


def test_code_is_single_use_and_verifier_must_match(sandbox):
    verifier, challenge = pkce_pair()
    code = _query(sandbox.authorize(code_challenge=challenge))["code"]
    assert _exchange(sandbox, code, pkce_pair()[0]) == (400, {"error": "invalid_grant"})
    assert _exchange(sandbox, code, verifier) == (400, {"error": "invalid_grant"})


def test_no_refresh_token_without_offline_access_and_no_id_token_without_openid(sandbox):
    token = sandbox.issue_token(scope="accounting.contacts")
    assert "refresh_token" not in token and "id_token" not in token
    assert token["scope"] == "accounting.contacts"


def test_refresh_tokens_rotate_with_a_30_minute_grace(sandbox):
    first = sandbox.issue_token()["refresh_token"]
    status, second = _refresh(sandbox, first)
    assert status == 200 and second["refresh_token"] != first
    sandbox.advance_clock(29 * 60)
    assert _refresh(sandbox, first)[0] == 200  # still inside the grace period
    sandbox.advance_clock(2 * 60)
    assert _refresh(sandbox, first) == (400, {"error": "invalid_grant"})
    assert _refresh(sandbox, second["refresh_token"])[0] == 200


def test_revoked_refresh_token_gives_invalid_grant(sandbox):
    refresh = sandbox.issue_token()["refresh_token"]
    sandbox.expire_tokens(refresh_token=refresh, revoke=True)
    assert _refresh(sandbox, refresh) == (400, {"error": "invalid_grant"})


def test_revocation_endpoint_ends_the_grant_and_connections(sandbox):
    token = sandbox.issue_token()
    form = {"token": token["refresh_token"], "client_id": CLIENT_ID}
    form["client_secret"] = sandbox.client_secret
    assert http("POST", sandbox.url + "/connect/revocation", form, form=True).status == 200
    assert _refresh(sandbox, token["refresh_token"]) == (400, {"error": "invalid_grant"})
    sdk = make_sdk(sandbox, sandbox.issue_token(), sandbox.demo_tenant_id)
    assert len(sdk.identity.get_connections()) == 1  # a new consent connects again


def test_sdk_lists_and_deletes_connections(sandbox):
    both = [sandbox.demo_tenant_id, sandbox.harbour_tenant_id]
    sdk = make_sdk(sandbox, sandbox.issue_token(tenant_ids=both), sandbox.demo_tenant_id)
    connections = sdk.identity.get_connections()
    assert {c.tenant_name for c in connections} == {"Demo Company (NZ)", "Harbour Wholesale Ltd"}
    assert all(c.tenant_type == "ORGANISATION" for c in connections)
    harbour = next(c for c in connections if c.tenant_id == sandbox.harbour_tenant_id)
    sdk.identity.delete_connection(harbour.id)
    assert [c.tenant_id for c in sdk.identity.get_connections()] == [sandbox.demo_tenant_id]
    with pytest.raises(HTTPStatusException) as refused:
        sdk.accounting.get_organisations(sandbox.harbour_tenant_id)
    assert refused.value.status == 403


def test_lowercase_connections_path_works(sandbox):
    token = sandbox.issue_token()
    auth = {"Authorization": "Bearer " + token["access_token"]}
    answer = http("GET", sandbox.url + "/connections", headers=auth)
    assert answer.status == 200 and answer.json()[0]["tenantId"] == sandbox.demo_tenant_id


def test_tenant_header_must_be_one_of_the_tokens_connections(sandbox_sdk, sandbox):
    with pytest.raises(HTTPStatusException) as refused:
        sandbox_sdk.accounting.get_organisations(sandbox.harbour_tenant_id)
    assert refused.value.status == 403
    assert b"AuthenticationUnsuccessful" in refused.value.body


def test_expired_access_token_gives_401_token_expired(sandbox, sandbox_sdk):
    sandbox.advance_clock(1801)  # the SDK's own clock still thinks the token is fresh
    with pytest.raises(HTTPStatusException) as refused:
        sandbox_sdk.accounting.get_organisations(sandbox.demo_tenant_id)
    assert refused.value.status == 401
    assert b"TokenExpired" in refused.value.body


def test_sdk_refreshes_an_expiring_token_against_the_sandbox(sandbox):
    token = sandbox.issue_token()
    token["expires_at"] = 0  # the SDK refreshes tokens that expire within 60 s
    sdk = make_sdk(sandbox, token, sandbox.demo_tenant_id)
    organisation = sdk.accounting.get_organisations(sandbox.demo_tenant_id).organisations[0]
    assert organisation.name == "Demo Company (NZ)"
    assert sdk.token["refresh_token"] != token["refresh_token"]
    assert sdk.token["access_token"] != token["access_token"]


def test_missing_scope_gives_401_authorization_unsuccessful(sandbox):
    sdk = make_sdk(
        sandbox, sandbox.issue_token(scope="accounting.contacts"), sandbox.demo_tenant_id
    )
    with pytest.raises(HTTPStatusException) as refused:
        sdk.accounting.get_invoices(sandbox.demo_tenant_id)
    assert refused.value.status == 401
    assert b"AuthorizationUnsuccessful" in refused.value.body


def test_granular_invoices_scope_reaches_invoices(sandbox):
    scope = "offline_access accounting.contacts accounting.invoices"
    sdk = make_sdk(sandbox, sandbox.issue_token(scope=scope), sandbox.demo_tenant_id)
    assert sdk.accounting.get_invoices(sandbox.demo_tenant_id).invoices == []


def test_client_credentials_custom_connection_needs_no_tenant_header(sandbox, monkeypatch):
    from xero_python.api_client.oauth2 import TokenApi

    sandbox.create_client(
        client_id="custom-1", client_secret="s3cret", tenantId=sandbox.harbour_tenant_id
    )
    monkeypatch.setattr(TokenApi, "client_credentials_token_url", sandbox.url + "/connect/token")
    sdk = make_sdk(sandbox, {"access_token": "none", "expires_in": 1, "token_type": "Bearer"}, "")
    sdk.api_client.configuration.oauth2_token.client_id = "custom-1"
    sdk.api_client.configuration.oauth2_token.client_secret = "s3cret"
    token = sdk.api_client.get_client_credentials_token()
    assert "refresh_token" not in token
    organisation = sdk.accounting.get_organisations("").organisations[0]
    assert organisation.name == "Harbour Wholesale Ltd"


def test_unknown_bearer_token_is_401(sandbox):
    answer = http(
        "GET",
        sandbox.url + "/api.xro/2.0/Organisation",
        headers={"Authorization": "Bearer nope", "xero-tenant-id": sandbox.demo_tenant_id},
    )
    assert answer.status == 401
