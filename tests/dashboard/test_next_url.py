"""Every view that returns to a `next` page follows it only when it is a page of this site."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory

OFF_SITE = [
    "https://evil.example/accounting/xero/",
    "//evil.example/accounting/xero/",
    "\\\\evil.example/accounting/xero/",
    "/\\evil.example/accounting/xero/",
    "javascript:alert(1)",
    "ftp://evil.example/",
]
ON_SITE = "/accounting/xero/sales/customers/?sort=-name&page=2"
INVOICES = "/accounting/xero/sales/invoices/?state=refused"


def contact_urls(contact):
    kw = {"tab": "sales", "pk": contact.pk}
    return [
        ("post", reverse("sync:contacts_action", kwargs={"tab": "sales"}), {"action": "upload"}),
        ("get", reverse("sync:unlink", kwargs=kw), {}),
        ("post", reverse("sync:switch_organisation"), {"connection": "999"}),
        ("post", reverse("sync:resync_refused"), {}),
        ("post", reverse("sync:link_existing", kwargs=kw), {}),
        ("get", reverse("sync:link_existing", kwargs=kw), {}),
        ("post", reverse("sync:suggestion_dismiss", kwargs=kw), {}),
        ("post", reverse("sync:suggestions_accept", kwargs={"tab": "sales"}), {}),
    ]


def redirected_to(response) -> str:
    assert response.status_code == 302, response.status_code
    return response["Location"]


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_an_off_site_next_is_never_followed(accountant_client, next_url):
    contact = ContactFactory()
    for method, url, data in contact_urls(contact):
        response = getattr(accountant_client, method)(url, {**data, "next": next_url})
        location = redirected_to(response)
        assert location.startswith("/accounting/xero/"), (url, location)
        assert "evil" not in location and "javascript" not in location, (url, location)
    transactions = reverse(
        "sync:transactions_action", kwargs={"tab": "sales", "subtab": "invoices"}
    )
    response = accountant_client.post(transactions, {"action": "skip", "next": next_url})
    assert redirected_to(response) == "/accounting/xero/sales/invoices/"
    # The search page carries the page to return to in its forms: never an off-site one.
    search = reverse("sync:xero_suggest", kwargs={"tab": "sales", "pk": contact.pk})
    page = accountant_client.get(search, {"q": "Bay", "next": next_url}).content.decode()
    assert "evil" not in page and "javascript:" not in page


def test_the_list_as_it_was_is_returned_to(accountant_client):
    contact = ContactFactory()
    for method, url, data in contact_urls(contact):
        response = getattr(accountant_client, method)(url, {**data, "next": ON_SITE})
        assert redirected_to(response) == ON_SITE, url
    transactions = reverse(
        "sync:transactions_action", kwargs={"tab": "sales", "subtab": "invoices"}
    )
    response = accountant_client.post(transactions, {"action": "skip", "next": INVOICES})
    assert redirected_to(response) == INVOICES


def test_a_plain_http_next_is_not_followed_from_an_https_page(accountant_client):
    contact = ContactFactory()
    for method, url, data in contact_urls(contact):
        next_url = f"http://testserver{ON_SITE}"
        response = getattr(accountant_client, method)(url, {**data, "next": next_url}, secure=True)
        assert redirected_to(response) != next_url, url
