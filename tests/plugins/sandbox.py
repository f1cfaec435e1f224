"""pytest plugin: a real Xero sandbox process and the real xero-python SDK pointed at it.

Fixtures:
- `sandbox_server` (session): `python -m xero_sandbox` on a free port, temp state file,
  rate limits off; its `.url`.
- `sandbox` (function): the same server reset, as a `SandboxControl`.
- `sandbox_sdk` (function): an `SdkClient` holding `AccountingApi`/`IdentityApi` with a
  fresh token for the demo organisation.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_TENANT_ID = "b6a5e4c2-7d3f-4c1a-9e8b-2f0a1d3c5e71"
HARBOUR_TENANT_ID = "3c9d2e1f-5a4b-4e6d-8c7b-1a2b3c4d5e6f"
CLIENT_ID = "omni-xero-demo"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "http://127.0.0.1:8000/xero/callback"
# Where Django's test client says omni-xero's callback is (tests/xero); browser tests add
# their live server's with `SandboxControl.register_redirect_uri`.
TEST_CLIENT_CALLBACK = "http://testserver/accounting/xero/callback/"
DEFAULT_SCOPE = "openid profile email offline_access accounting.contacts accounting.transactions accounting.settings.read"  # noqa: E501


# Callables (method, url, status, headers, body) told about every answer the sandbox gives
# to `http()` or to the SDK; tests/sandbox uses this to validate answers against the spec.
RESPONSE_HOOKS: list[Callable[[str, str, int, dict, bytes], None]] = []


def _observe(method: str, url: str, status: int, headers: dict, body: bytes) -> None:
    for hook in list(RESPONSE_HOOKS):
        hook(method, url, status, headers, body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str, url: str, body: Any = None, *, form: bool = False, headers=None
) -> HttpAnswer:
    """One plain HTTP call (no redirects followed) for control and identity requests."""
    data = None
    sent = dict(headers or {})
    if body is not None:
        if form:
            data = urlencode(body, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with _opener.open(request, timeout=30) as response:
            answer = HttpAnswer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        answer = HttpAnswer(error.code, dict(error.headers), error.read())
    _observe(method, url, answer.status, answer.headers, answer.body)
    return answer


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class SandboxControl:
    """A small client for the sandbox's control API (see xero_sandbox/README.md)."""

    url: str
    demo_tenant_id: str = DEMO_TENANT_ID
    harbour_tenant_id: str = HARBOUR_TENANT_ID
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = http(method, self.url + path, body)
        if answer.status >= 400:
            raise AssertionError(f"{method} {path}: {answer.status} {answer.body[:300]!r}")
        return answer.json()

    def reset(self) -> dict:
        return self.call("POST", "/_sandbox/reset")

    def state(self) -> dict:
        return self.call("GET", "/_sandbox/state")

    def seed_contacts(self, tenant_id: str, contacts: list[dict]) -> list[str]:
        body = {"contacts": contacts}
        return self.call("POST", f"/_sandbox/organisations/{tenant_id}/contacts", body)[
            "ContactIDs"
        ]

    def generate_contacts(self, tenant_id: str, n: int) -> list[str]:
        path = f"/_sandbox/organisations/{tenant_id}/contacts"
        return self.call("POST", path, {"generate": n})["ContactIDs"]

    def contact(self, contact_id: str) -> dict:
        return self.call("GET", f"/_sandbox/contacts/{contact_id}")

    def documents(self, tenant_id: str, table: str = "invoices") -> list[dict]:
        return self.call("GET", f"/_sandbox/organisations/{tenant_id}/{table}")

    def archive(self, contact_id: str) -> dict:
        return self.call("POST", f"/_sandbox/contacts/{contact_id}/archive")

    def restore(self, contact_id: str) -> dict:
        return self.call("POST", f"/_sandbox/contacts/{contact_id}/restore")

    def merge(self, contact_id: str, into: str) -> dict:
        return self.call("POST", f"/_sandbox/contacts/{contact_id}/merge", {"into": into})

    def gdpr(self, contact_id: str) -> dict:
        return self.call("POST", f"/_sandbox/contacts/{contact_id}/gdpr")

    def fault(self, **spec: Any) -> dict:
        """e.g. `fault(status=503, count=2)`, `fault(kind="drop_after_commit")`."""
        return self.call("POST", "/_sandbox/faults", spec)

    def clear_faults(self) -> None:
        self.call("DELETE", "/_sandbox/faults")

    def rate_limits(self, **settings: Any) -> dict:
        """e.g. `rate_limits(enabled=True, minute=5)`; `day=`, `concurrent=`, `scale=`."""
        return self.call("POST", "/_sandbox/rate-limits", settings)

    def advance_clock(self, seconds: float) -> float:
        return self.call("POST", "/_sandbox/clock", {"advance": seconds})["now"]

    def expire_tokens(self, **body: Any) -> None:
        self.call("POST", "/_sandbox/tokens/expire", body)

    def webhook(self, **body: Any) -> dict:
        """Configure the app's webhook: `url`, `key`, and `intent`, `round_seconds`,
        `retry_seconds`, `retry_window`, `duplicates`, `reorder` (xero_sandbox/webhooks.py)."""
        return self.call("POST", "/_sandbox/webhooks", {"client_id": self.client_id, **body})

    def webhooks(self) -> list[dict]:
        return self.call("GET", "/_sandbox/webhooks")["webhooks"]

    def flush_webhooks(self) -> list[dict]:
        """One round of webhook deliveries now; the webhooks' state after it."""
        return self.call("POST", "/_sandbox/webhooks/flush")["webhooks"]

    def create_client(self, **body: Any) -> dict:
        return self.call("POST", "/_sandbox/clients", body)

    def create_organisation(self, **body: Any) -> dict:
        return self.call("POST", "/_sandbox/organisations", body)

    def register_redirect_uri(self, uri: str, client_id: str = CLIENT_ID) -> None:
        """Let the consent screen send this app back to `uri` (until the next reset)."""
        self.call("POST", f"/_sandbox/clients/{client_id}/redirect-uris", {"redirect_uri": uri})

    def authorize(
        self,
        client_id: str = CLIENT_ID,
        redirect_uri: str = REDIRECT_URI,
        scope: str = DEFAULT_SCOPE,
        state: str = "state-123",
        code_challenge: str = "",
        tenant_ids: list[str] | None = None,
        allow: bool = True,
    ) -> str:
        """Open the consent screen, press Allow (or Deny); returns the redirect URL."""
        form = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256" if code_challenge else "",
        }
        pressed: dict[str, str | list[str]] = {**form, "csrf": self.form_token(form)}
        pressed["tenant"] = tenant_ids or [self.demo_tenant_id]
        pressed["decision"] = "allow" if allow else "deny"
        answer = http("POST", self.url + "/identity/connect/authorize", pressed, form=True)
        assert answer.status == 302, answer.body
        return answer.headers["Location"]

    def form_token(self, query: dict[str, str]) -> str:
        """The CSRF token the consent screen's form carries, read from the screen."""
        page = http("GET", f"{self.url}/identity/connect/authorize?{urlencode(query)}")
        assert page.status == 200, page.body
        found = re.search(rb"name='csrf' value='([^']+)'", page.body)
        assert found, "the consent screen's form carries no CSRF token"
        return found.group(1).decode()

    def issue_token(self, scope: str = DEFAULT_SCOPE, tenant_ids: list[str] | None = None) -> dict:
        """The whole browser-free dance (consent + PKCE code exchange); the token JSON."""
        verifier, challenge = pkce_pair()
        location = self.authorize(scope=scope, code_challenge=challenge, tenant_ids=tenant_ids)
        code = parse_qs(urlsplit(location).query)["code"][0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": self.client_id,
            "code_verifier": verifier,
        }
        answer = http("POST", self.url + "/connect/token", form, form=True)
        assert answer.status == 200, answer.body
        return answer.json()


@dataclass
class _Server:
    url: str
    process: subprocess.Popen
    state_file: Path | None
    log: list[str] = field(default_factory=list)


def _drain(stream, sink: list[str]) -> None:
    for line in stream:
        sink.append(line)


def start_sandbox(state_file: Path | None, *options: str) -> _Server:
    """Start `python -m xero_sandbox` on a free port and wait for its ready line.

    The sandbox knows no app: omni-xero's demo app and its test callbacks are registered here.
    Without a state file its state lives in memory only: a bench's thousands of documents are
    not written out again after every burst of calls (that costs the sandbox more CPU, as
    they grow, than answering the calls).
    """
    command = [sys.executable, "-m", "xero_sandbox", "--host", "127.0.0.1", "--port", "0"]
    if state_file is not None:
        command += ["--state", str(state_file)]
    command += ["--quiet"]
    command += ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    command += ["--redirect-uri", f"{REDIRECT_URI} {TEST_CLIENT_CALLBACK}", *options]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None  # stdout=PIPE
    said: list[str] = []  # what it says before it is ready (a state file set aside, say)
    for line in process.stdout:
        if "ready at" in line:
            break
        said.append(line)
    else:
        process.kill()
        raise RuntimeError(f"sandbox did not start: {''.join(said)}")
    server = _Server(line.rsplit(" ", 1)[1].strip(), process, state_file, said)
    threading.Thread(target=_drain, args=(process.stdout, server.log), daemon=True).start()
    return server


def stop_sandbox(server: _Server) -> None:
    """SIGTERM (the sandbox saves its state on the way out), then wait."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[_Server]:
    """A `python -m xero_sandbox` subprocess on a free port; stopped after the session."""
    folder = Path(tempfile.mkdtemp(prefix="xero-sandbox-"))
    server = start_sandbox(folder / "state.json", "--rate-limits", "off")
    yield server
    stop_sandbox(server)


@pytest.fixture
def sandbox(sandbox_server: _Server) -> SandboxControl:
    """The sandbox, reset to its demo organisations, with limits off and no faults."""
    control = SandboxControl(sandbox_server.url)
    control.reset()
    control.rate_limits(enabled=False, minute=60, concurrent=5, day=None, scale=1.0)
    return control


# The real SDK, pointed at the sandbox ---------------------------------------------------------


@dataclass
class SdkClient:
    """xero-python objects for one test: `.accounting`, `.identity`, `.api_client`."""

    api_client: Any
    accounting: Any
    identity: Any
    tenant_id: str
    holder: dict  # {"token": …}: what the token saver last stored

    @property
    def token(self) -> dict:
        return self.holder["token"]


def make_sdk(
    control: SandboxControl, token: dict, tenant_id: str, *, retries: int = 0
) -> SdkClient:
    """Build an SDK client whose token refreshes go to the sandbox, not identity.xero.com."""
    import urllib3
    from xero_python.accounting import AccountingApi
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token
    from xero_python.identity import IdentityApi

    token_url = control.url + "/connect/token"

    class SandboxToken(OAuth2Token):
        # Per token, not class-wide: TokenApi's URLs are class attributes in xero-python's
        # xero_python/api_client/oauth2.py (https://github.com/XeroAPI/xero-python).
        def call_refresh_token_api(self, token_api):
            token_api.refresh_token_url = token_url
            return super().call_refresh_token_api(token_api)

    # Configuration copies its first instance forever; assign attributes instead.
    configuration = Configuration()
    configuration.oauth2_token = SandboxToken(control.client_id, control.client_secret)
    configuration.debug = False
    holder = {"token": _sdk_token(token)}
    api_client = ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: holder["token"],
        oauth2_token_saver=lambda new: holder.update(token=_sdk_token(new)),
    )
    api_client.set_oauth2_token(holder["token"])
    # Own retries in tests: urllib3 would otherwise retry 429s itself (three times),
    # sleeping through Retry-After before the SDK sees the error.
    pool_kw = api_client.rest_client.pool_manager.connection_pool_kw
    if retries:
        pool_kw["retries"] = urllib3.Retry(retries)  # urllib3's own 429/503 handling
    else:
        pool_kw["retries"] = urllib3.Retry(0, respect_retry_after_header=False)
    api_client.rest_client.pool_manager.clear()
    _watch(api_client.rest_client.pool_manager)
    return SdkClient(
        api_client,
        AccountingApi(api_client, base_url=control.url + "/api.xro/2.0"),
        IdentityApi(api_client, base_url=control.url),
        tenant_id,
        holder,
    )


def _watch(pool_manager: Any) -> None:
    """Report every answer the SDK receives to RESPONSE_HOOKS."""
    send = pool_manager.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = send(method, url, *args, **kwargs)
        _observe(method, url, response.status, dict(response.headers), response.data)
        return response

    pool_manager.request = request


def _sdk_token(token: dict) -> dict:
    """Only the keys the SDK accepts; `expires_at` added the way the SDK itself does."""
    allowed: tuple[str, ...] = ("access_token", "scope", "expires_in", "token_type", "expires_at")
    allowed += ("refresh_token", "id_token")
    out = {k: v for k, v in token.items() if k in allowed}
    if isinstance(out.get("scope"), str):
        out["scope"] = out["scope"].split()
    if "expires_at" not in out and out.get("expires_in"):
        out["expires_at"] = time.time() + out["expires_in"]
    return out


@pytest.fixture
def sandbox_sdk(sandbox: SandboxControl) -> SdkClient:
    """The real SDK with a fresh demo-organisation token (consent done without a browser)."""
    return make_sdk(sandbox, sandbox.issue_token(), sandbox.demo_tenant_id)
