"""Playwright drives Debian's chromium (its own browser download is blocked on these machines)."""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from sync.links import mirror
from sync.models import XeroConnection

# Playwright's sync API runs an event loop in this thread; the ORM would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Browser tests need Debian's chromium: apt-get install -y chromium")
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_ARGS}


@pytest.fixture
def login(page, live_server):
    """Log a user in through the login page, as a person would."""

    def login_as(user, password="correct horse battery staple"):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        # The click starts a navigation; wait until it has left the login page, or the
        # test's next step (a reload, a goto) races it ("Not attached to an active page").
        page.wait_for_url(lambda url: "/login/" not in url)
        page.wait_for_load_state()
        return page

    return login_as


@pytest.fixture
def screenshot(page, request):
    """Save a full-page screenshot under var/screenshots/ for a person to look at."""

    def take(name: str):
        path = os.path.join("var", "screenshots", f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return take


AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(
            f"axe-core is not installed ({AXE} is missing): `make setup` installs it with npm "
            "(apt-get install -y npm first)"
        )
    return AXE.read_text()


@pytest.fixture
def axe(page, axe_source):
    """Run axe-core (package-lock.json's version) on the page as it is now: its violations,
    each with its rule, impact, help and the first elements it found."""

    def run() -> list[dict]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=axe_source)
        return page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.length,
                            targets: v.nodes.slice(0, 3).map(n => n.target.join(" ") + "  "
                                                             + n.html.slice(0, 120))}))"""
        )

    return run


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in SERIOUS]


@pytest.fixture
def xero_settings(xero_settings, sandbox, live_server):
    """The suite's sandbox settings, with the live server's callback registered in the sandbox
    (its consent screen sends the browser back only to a registered redirect URI)."""
    sandbox.register_redirect_uri(f"{live_server.url}/accounting/xero/callback/")
    return xero_settings


@pytest.fixture
def connected(login, accountant, xero_settings, sandbox) -> Page:
    """Logged in as the accountant, connected to the sandbox's Demo Company, htmx ready."""
    page = login(accountant)
    page.get_by_role("button", name="Connect to Xero").click()
    page.get_by_role("button", name="Allow access").click()
    expect(page.get_by_role("status").first).to_contain_text("Connected to Demo Company (NZ)")
    page.wait_for_function("window.htmx !== undefined && document.readyState === 'complete'")
    return page


def refreshed() -> None:
    """What the worker does after connecting (not running in tests)."""
    mirror.xero_contacts_refresh(connection=XeroConnection.objects.get())
