"""Every page says where it is in its title, starts with a skip link, and the 403, 404 and
500 pages are the app's own, saying what to do."""

import html
import re

import pytest
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import get_resolver
from django.utils.functional import SimpleLazyObject

from sync.dashboard.tabs import TABS
from tests.factories import XeroConnectionFactory

XERO = "/accounting/xero"
SUBTABS = [
    (f"{XERO}/{tab}/{sub.slug}/", f"{sub.label} · {label} · Xero integration")
    for tab, (label, subs) in TABS.items()
    for sub in subs
]
OTHER_PAGES = [
    (f"{XERO}/admin/", "Settings · Admin · Xero integration"),
    (f"{XERO}/log/", "Sync log · Admin · Xero integration"),
    (f"{XERO}/errors/", "Errors · Admin · Xero integration"),
    (f"{XERO}/discrepancies/", "Discrepancies · Admin · Xero integration"),
    (f"{XERO}/import/", "Import contacts from Xero · Xero integration"),
]


def title(response) -> str:
    found = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert found, "the page has no <title>"
    return html.unescape(found.group(1)).strip()


def the_app_page(response, status: int, heading: str) -> str:
    """A page in the app's layout (its top bar) with this status and heading."""
    page = html.unescape(response.content.decode())
    assert response.status_code == status
    assert 'class="topbar"' in page and 'href="/static/css/app.css"' in page
    assert f'<h1 id="error-title">{heading}</h1>' in page
    return page


@pytest.mark.parametrize(("url", "expected"), SUBTABS + OTHER_PAGES)
def test_each_page_has_a_title_naming_it_and_where_it_is(accountant_client, url, expected):
    XeroConnectionFactory()
    response = accountant_client.get(url)
    assert response.status_code == 200
    assert title(response) == expected


def test_the_skip_link_is_first_and_leads_to_a_focusable_main(accountant_client):
    XeroConnectionFactory()
    page = accountant_client.get(f"{XERO}/sales/customers/").content.decode()
    body = page.split("<body", 1)[1]
    first_link = re.search(r"<a [^>]*>(.*?)</a>", body)
    assert first_link and first_link.group(1) == "Skip to content"
    target = re.search(r'href="#([\w-]+)"', first_link.group(0)).group(1)
    assert re.search(rf'<main id="{target}" tabindex="-1">', page), "no focusable target"


def test_a_page_the_user_may_not_see_is_the_apps_403_saying_whom_to_ask(client, outsider):
    client.force_login(outsider)
    page = the_app_page(client.get(f"{XERO}/sales/customers/"), 403, "You cannot open this page")
    assert "ask an admin to add you" in page and 'href="/"' in page
    assert title(client.get(f"{XERO}/sales/customers/")) == "Not allowed · omni-xero"


def test_a_403_with_a_reason_shows_it(accountant_client):
    XeroConnectionFactory()
    response = accountant_client.post(f"{XERO}/admin/settings/", {})
    page = the_app_page(response, 403, "You cannot open this page")
    assert "Only admins can change these settings." in page


def test_a_missing_page_is_the_apps_404_with_the_way_back(accountant_client):
    response = accountant_client.get(f"{XERO}/sales/no-such-subtab/")
    page = the_app_page(response, 404, "Page not found")
    assert "Check the address" in page and 'href="/"' in page
    assert "No such subtab" not in page  # Http404's message is for developers


def test_the_500_page_renders_without_a_database_or_a_request_context():
    """No db fixture: any query while rendering fails this test. The request's user is
    loaded lazily, as the auth middleware leaves it: looking it up would be a query."""
    request = RequestFactory().get("/accounting/xero/")
    request.user = SimpleLazyObject(lambda: User.objects.get(username="alex"))
    handler = get_resolver().resolve_error_handler(500)
    response = handler(request)
    page = the_app_page(response, 500, "Something went wrong")
    assert "Try again in a minute" in page and "tell your admin" in page
    assert "Log out" not in page  # no user is looked up


def test_an_unexpected_error_in_a_view_shows_the_500_page(client, accountant, monkeypatch):
    from sync.dashboard import contacts

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(contacts, "shell_context", broken)
    client.raise_request_exception = False
    client.force_login(accountant)
    page = the_app_page(client.get(f"{XERO}/sales/customers/"), 500, "Something went wrong")
    assert "boom" not in page
