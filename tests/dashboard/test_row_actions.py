"""A row's own actions (Link, Accept, Dismiss, Unlink, Relink, Upload): with htmx each answers
with that row alone, to be swapped in place of the old one, its outcome in it and announced;
without JavaScript the same URLs go back to the list."""

import json
import re
from urllib.parse import quote

import pytest
from django.urls import reverse

from sync.models import ContactLink, DismissedSuggestion, InvalidReason, LinkStatus
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    TransactionFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
HERE = "/accounting/xero/sales/customers/?linked=unlinked&page=2"


def url(name: str, contact) -> str:
    return reverse(f"sync:{name}", kwargs={"tab": "sales", "pk": contact.pk})


def customer(name: str, **fields):
    contact = ContactFactory(name=name, **fields)
    TransactionFactory(contact=contact)
    return contact


@pytest.fixture
def demo():
    return XeroConnectionFactory(organisation_name="Demo Company (NZ)")


def row_alone(response, contact) -> str:
    """The answer to an htmx row action: the row's fragment only."""
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert "<table" not in html and "<html" not in html and "contacts-region" not in html
    assert html.strip().startswith(f'<tr id="contact-{contact.pk}"')
    assert len(re.findall(r"<tr\b", html)) == 1
    return html


def announced(response) -> str:
    trigger = json.loads(response.headers["HX-Trigger-After-Settle"])
    return trigger["row-done"]["message"]


def test_link_from_the_search_column_answers_with_the_linked_row(accountant_client, demo):
    xero = XeroContactFactory(connection=demo, name="Summit Cycles Ltd")
    summit = customer("Summit Cycles")
    response = accountant_client.post(
        url("link_existing", summit),
        {"xero_contact_id": str(xero.contact_id), "next": HERE},
        headers=HTMX,
        follow=True,
    )
    html = row_alone(response, summit)
    assert '<span class="badge ok">Linked</span>' in html
    assert "Linked to Summit Cycles Ltd in Xero." in html  # the row's own message
    assert announced(response) == "Summit Cycles: Linked to Summit Cycles Ltd in Xero."
    # The row's next actions go back to the list as it was.
    assert f"next={quote(HERE, safe='/')}" in html
    assert ContactLink.objects.get(contact=summit).xero_contact_id == xero.contact_id


def test_a_refused_link_answers_with_the_row_saying_why(accountant_client, demo):
    xero = XeroContactFactory(connection=demo, name="Summit Cycles Ltd")
    ContactLinkFactory(
        connection=demo, contact=customer("Summit Cycles"), xero_contact_id=xero.contact_id
    )
    bikes = customer("Summit Bikes")
    response = accountant_client.post(
        url("link_existing", bikes), {"xero_contact_id": str(xero.contact_id)}, headers=HTMX
    )
    html = row_alone(accountant_client.get(response.url, headers=HTMX), bikes)
    assert "already linked to Summit Cycles" in html and "No linked contact" in html


def test_accepting_a_suggestion_answers_with_the_linked_row(accountant_client, demo):
    XeroContactFactory(connection=demo, name="Bayview Cafe Ltd", email="hi@bayview.nz")
    bayview = customer("Bayview Cafe", email="hi@bayview.nz")
    page = accountant_client.get(reverse("sync:subtab", args=["sales", "customers"]))
    accept = re.search(
        r'<form method="post" action="([^"]+/link/)" hx-post="[^"]+".*?name="xero_contact_id" '
        r'value="([^"]+)"',
        page.content.decode(),
        re.S,
    )
    assert accept, "the suggestion's Accept is an htmx form"
    response = accountant_client.post(
        accept.group(1), {"xero_contact_id": accept.group(2)}, headers=HTMX, follow=True
    )
    html = row_alone(response, bayview)
    assert '<span class="badge ok">Linked</span>' in html and "Accept" not in html


def test_dismissing_a_suggestion_answers_with_the_row_without_it(accountant_client, demo):
    xero = XeroContactFactory(connection=demo, name="Bayview Cafe Ltd", email="hi@bayview.nz")
    bayview = customer("Bayview Cafe", email="hi@bayview.nz")
    response = accountant_client.post(
        url("suggestion_dismiss", bayview),
        {"xero_contact_id": str(xero.contact_id)},
        headers=HTMX,
        follow=True,
    )
    html = row_alone(response, bayview)
    assert "Suggestion dismissed." in html and "Bayview Cafe Ltd" not in html
    assert "No linked contact" in html
    assert DismissedSuggestion.objects.filter(contact=bayview).exists()


def test_unlinking_one_row_asks_then_answers_with_the_unlinked_row(accountant_client, demo):
    link = ContactLinkFactory(connection=demo, contact=customer("Tui Books"), xero_name="Tui Ltd")
    tui = link.contact
    dialog = accountant_client.get(url("unlink", tui), {"next": HERE}, headers=HTMX)
    form = dialog.content.decode()
    assert f'hx-post="{url("unlink", tui)}" hx-target="#contact-{tui.pk}"' in form
    assert ContactLink.objects.filter(pk=link.pk).exists()  # asking changes nothing

    response = accountant_client.post(url("unlink", tui), {"next": HERE}, headers=HTMX, follow=True)
    html = row_alone(response, tui)
    assert "No linked contact" in html and "Unlinked from Tui Ltd." in html
    assert announced(response) == "Tui Books: Unlinked from Tui Ltd."
    assert not ContactLink.objects.filter(pk=link.pk).exists()


def merged(demo, name: str, survivor):
    return ContactLinkFactory(
        connection=demo,
        contact=customer(name),
        xero_name=f"{name} Old",
        status=LinkStatus.INVALID,
        invalid_reason=InvalidReason.MERGED,
        merged_into_xero_contact_id=survivor.contact_id,
    )


def test_relinking_one_row_answers_with_the_row_linked_to_its_survivor(accountant_client, demo):
    survivor = XeroContactFactory(connection=demo, name="Seaside Surf Group")
    link = merged(demo, "Seaside Surf", survivor)
    page = accountant_client.get(reverse("sync:subtab", args=["sales", "customers"]))
    assert "Relink to <bdi>Seaside Surf Group</bdi></button>" in page.content.decode()

    response = accountant_client.post(url("relink", link.contact), headers=HTMX, follow=True)
    html = row_alone(response, link.contact)
    assert "Now linked to Seaside Surf Group." in html
    assert "Merged into" not in html and "badge bad" not in html
    assert "Relink to" not in html and "Unlink" in html
    link.refresh_from_db()
    assert link.xero_contact_id == survivor.contact_id and link.is_valid


def test_uploading_one_row_answers_with_the_uploaded_row(accountant_client, connection):
    aroha = customer("Aroha Gift Store")
    response = accountant_client.post(url("upload_one", aroha), headers=HTMX, follow=True)
    html = row_alone(response, aroha)
    assert '<span class="badge ok">Uploaded</span>' in html
    assert "Created in Xero and linked." in html
    assert ContactLink.objects.get(contact=aroha).xero_name == "Aroha Gift Store"


@pytest.mark.parametrize("action", ["link_existing", "suggestion_dismiss", "unlink", "relink"])
def test_without_javascript_a_row_action_goes_back_to_the_list(accountant_client, demo, action):
    survivor = XeroContactFactory(connection=demo, name="Seaside Surf Group")
    contact = merged(demo, "Seaside Surf", survivor).contact
    data = {"next": HERE, "xero_contact_id": str(survivor.contact_id)}
    response = accountant_client.post(url(action, contact), data)
    assert (response.status_code, response.url) == (302, HERE)


def test_without_javascript_an_upload_of_one_row_goes_back_to_the_list(
    accountant_client, connection
):
    aroha = customer("Aroha Gift Store")
    response = accountant_client.post(url("upload_one", aroha), {"next": HERE})
    assert (response.status_code, response.url) == (302, HERE)
    page = accountant_client.get(reverse("sync:subtab", args=["sales", "customers"]))
    assert "Created in Xero and linked." in page.content.decode()  # shown in its row


def test_the_row_alone_is_only_for_htmx(accountant_client, demo):
    tui = customer("Tui Books")
    response = accountant_client.get(url("contact_row", tui), {"next": HERE})
    assert (response.status_code, response.url) == (302, HERE)


def test_a_viewer_cannot_act_on_a_row(viewer_client, demo):
    survivor = XeroContactFactory(connection=demo, name="Seaside Surf Group")
    link = merged(demo, "Seaside Surf", survivor)
    for action in ("relink", "upload_one", "unlink"):
        assert viewer_client.post(url(action, link.contact), headers=HTMX).status_code == 403
    assert not ContactLink.objects.get(pk=link.pk).is_valid


def test_the_bulk_relink_names_each_row_it_skipped_and_why(accountant_client, demo):
    survivor = XeroContactFactory(connection=demo, name="Seaside Surf Group")
    good = merged(demo, "Seaside Surf", survivor)
    taken = XeroContactFactory(connection=demo, name="Harbour Group")
    ContactLinkFactory(
        connection=demo, contact=customer("Harbour Deli"), xero_contact_id=taken.contact_id
    )
    blocked = merged(demo, "Harbour Cafe", taken)
    gone = merged(demo, "Kauri Coast", XeroContactFactory.build(connection=demo))
    valid = ContactLinkFactory(connection=demo, contact=customer("Tui Books"), xero_name="Tui Ltd")
    unlinked = customer("Bayview Cafe")
    chosen = [good.contact, blocked.contact, gone.contact, valid.contact, unlinked]
    response = accountant_client.post(
        reverse("sync:contacts_action", kwargs={"tab": "sales"}),
        {"action": "relink", "contact": [c.pk for c in chosen]},
        follow=True,
    )
    page = response.content.decode()
    skipped = re.search(r"Skipped 4: (.*?)\.</li>", page).group(1)
    assert "Harbour Cafe (Harbour Group in Xero is already linked to Harbour Deli" in skipped
    assert "Kauri Coast (The Xero contact Kauri Coast Old was merged into is not in" in skipped
    assert "Tui Books (Tui Ltd was not merged in Xero)" in skipped
    assert "Bayview Cafe (it has no linked contact)" in skipped
    assert "Relinked 1 contact to survivors." in page
    good.refresh_from_db()
    assert good.xero_contact_id == survivor.contact_id
