"""Connecting through omni-xero's own views to the sandbox, as an accountant would."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from sync.models import XeroConnection
from tests.plugins.sandbox import SandboxControl


def consent(sandbox: SandboxControl, authorize_url: str, **choices) -> str:
    """Press Allow (or Deny) on the sandbox's consent page for omni-xero's authorize URL."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    return sandbox.authorize(
        client_id=query["client_id"],
        redirect_uri=query["redirect_uri"],
        scope=query["scope"],
        state=query["state"],
        code_challenge=query["code_challenge"],
        **choices,
    )


def back_to_app(location: str) -> str:
    """The path and query of Xero's redirect back to omni-xero."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


class Waits(list[float]):
    """The waits recorded instead of slept through; time passes for the shared quota as if
    they had been slept (`pass_time` moves it on without a wait)."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.append(seconds)
        self.pass_time(seconds)

    def pass_time(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> Waits:
    """The waits between retries and for a slot of Xero's quota, recorded instead of slept
    through (the quota's clock moves on by each)."""
    recorded = Waits()
    monkeypatch.setattr("sync.xero.transport.sleep", recorded.sleep)
    monkeypatch.setattr("sync.connections.quota.clock", recorded.now)
    return recorded


@pytest.fixture
def later(waits, sandbox):
    """Move time on by `seconds` for the sandbox and the shared quota alike."""

    def move(seconds: float) -> None:
        sandbox.advance_clock(seconds)
        waits.pass_time(seconds)

    return move


@pytest.fixture
def connect(accountant_client, sandbox, xero_settings):
    """Run the whole connect flow; returns the final response (redirects followed)."""

    def run(**choices):
        start = accountant_client.post("/accounting/xero/connect/")
        assert start.status_code == 302
        location = consent(sandbox, start.url, **choices)
        return accountant_client.get(back_to_app(location), follow=True)

    return run


def connect_with(client, user, sandbox) -> XeroConnection:
    """Connect the demo organisation through the views, for tests whose threads need their
    own database connections (transaction=True), where the `connect` fixture cannot go."""
    client.force_login(user)
    start = client.post("/accounting/xero/connect/")
    client.get(back_to_app(consent(sandbox, start.url)))
    return XeroConnection.objects.get()


@pytest.fixture
def connection(connect, django_capture_on_commit_callbacks) -> XeroConnection:
    response = connect()
    assert response.status_code == 200
    return XeroConnection.objects.get()
