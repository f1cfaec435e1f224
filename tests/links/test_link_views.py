"""The Search column (suggestions and Link), and the upload progress, as pages and partials."""

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import ContactLink, LinkEvent, UploadJob, XeroContact
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    UploadJobFactory,
    UploadRowFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def suggest_url(contact) -> str:
    return reverse("sync:xero_suggest", kwargs={"tab": "sales", "pk": contact.pk})


def link_url(contact) -> str:
    return reverse("sync:link_existing", kwargs={"tab": "sales", "pk": contact.pk})


@pytest.fixture
def connection():
    return XeroConnectionFactory()


def test_suggestions_show_active_matches_with_their_evidence(accountant_client, connection):
    XeroContactFactory(
        connection=connection, name="Smith Ltd", email="a@smith.nz", account_number="S1"
    )
    XeroContactFactory(connection=connection, name="Smith Ltd", email="b@smith.nz")
    XeroContactFactory(connection=connection, name="Smith Old", status=XeroContact.Status.ARCHIVED)
    contact = ContactFactory(name="Smith")
    page = accountant_client.get(suggest_url(contact), {"q": "smith"}, **HTMX).content.decode()
    assert page.count('aria-label="Link Smith to Smith Ltd"') == 2
    assert "a@smith.nz · account S1" in page and "b@smith.nz" in page
    assert "Smith Old" not in page
    assert "<html" not in page  # a partial for htmx


def test_without_javascript_the_search_is_a_page_with_link_buttons(accountant_client, connection):
    XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    page = accountant_client.get(suggest_url(contact), {"q": "tui"}).content.decode()
    assert "<h1>Link <bdi>Tui Books</bdi> to a Xero contact</h1>" in page
    assert f'action="{link_url(contact)}"' in page and "csrfmiddlewaretoken" in page


def test_hostile_names_are_shown_as_text_in_suggestions(accountant_client, connection):
    XeroContactFactory(connection=connection, name="<script>alert(1)</script> Ltd")
    contact = ContactFactory(name="<img src=x onerror=alert(2)>")
    page = accountant_client.get(suggest_url(contact), {"q": "script"}, **HTMX).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page


def test_picking_a_suggestion_links_the_contact_and_audits_it(
    accountant_client, connection, accountant
):
    xero_contact = XeroContactFactory(connection=connection, name="Summit Cycles Ltd")
    contact = ContactFactory(name="Summit Cycles")
    response = accountant_client.post(
        link_url(contact), {"xero_contact_id": str(xero_contact.contact_id)}, **HTMX
    )
    assert response.url.startswith(reverse("sync:contact_row", args=["sales", contact.pk]))
    link = ContactLink.objects.get(contact=contact)
    assert (link.xero_contact_id, link.xero_name) == (xero_contact.contact_id, "Summit Cycles Ltd")
    event = LinkEvent.objects.get()
    assert (event.action, event.actor) == ("link", accountant)


def test_a_second_omni_contact_for_one_xero_contact_is_refused_by_name(
    accountant_client, connection
):
    xero_contact = XeroContactFactory(connection=connection, name="Summit Cycles Ltd")
    ContactLinkFactory(
        connection=connection,
        contact=ContactFactory(name="Summit Cycles"),
        xero_contact_id=xero_contact.contact_id,
    )
    contact = ContactFactory(name="Summit Bikes")
    page = accountant_client.post(
        link_url(contact), {"xero_contact_id": str(xero_contact.contact_id)}, follow=True
    ).content.decode()
    assert "already linked to Summit Cycles" in page
    assert not ContactLink.objects.filter(contact=contact).exists()


def test_without_javascript_linking_asks_first(accountant_client, connection):
    xero_contact = XeroContactFactory(connection=connection, name="Bayview Cafe Ltd")
    contact = ContactFactory(name="Bayview Cafe")
    page = accountant_client.get(
        link_url(contact), {"xero_contact_id": str(xero_contact.contact_id)}
    ).content.decode()
    assert "Link <bdi>Bayview Cafe</bdi> to <bdi>Bayview Cafe Ltd</bdi>?" in page
    assert not ContactLink.objects.exists()


def test_a_viewer_may_search_but_not_link(viewer_client, connection):
    xero_contact = XeroContactFactory(connection=connection, name="Tui Books Ltd")
    contact = ContactFactory(name="Tui Books")
    page = viewer_client.get(suggest_url(contact), {"q": "tui"}, **HTMX).content.decode()
    assert "Tui Books Ltd" in page and "hx-post" not in page
    response = viewer_client.post(
        link_url(contact), {"xero_contact_id": str(xero_contact.contact_id)}
    )
    assert response.status_code == 403
    assert not ContactLink.objects.exists()


def test_an_outsider_sees_no_suggestions(client, outsider, connection):
    client.force_login(outsider)
    assert client.get(suggest_url(ContactFactory()), {"q": "a"}).status_code == 403


def test_a_contact_of_the_other_tab_is_not_found(accountant_client, connection):
    supplier_only = ContactFactory(is_customer=False, is_supplier=True)
    assert accountant_client.get(suggest_url(supplier_only), {"q": "a"}).status_code == 404


def test_progress_says_when_a_waiting_upload_goes_on(viewer_client, connection):
    job = UploadJobFactory(
        connection=connection,
        state=UploadJob.State.WAITING,
        resume_at=timezone.now() + timezone.timedelta(seconds=45),
        detail="Xero's per-minute call limit for this organisation is used up.",
    )
    UploadRowFactory(job=job)
    UploadRowFactory(job=job, state="done")
    page = viewer_client.get(reverse("sync:upload_progress"), **HTMX).content.decode()
    assert "Waiting for Xero:" in page and "1 of 2 uploaded" in page and "1 to go" in page
    assert "It goes on by itself at" in page
    assert 'hx-trigger="every 2s"' in page  # keeps itself current while it runs


def test_a_duplicate_row_offers_to_link_the_contact_xero_has(accountant_client, connection):
    contact = ContactFactory(name="Harbourside Deli")
    TransactionFactory = __import__(
        "tests.factories", fromlist=["TransactionFactory"]
    ).TransactionFactory
    TransactionFactory(contact=contact)
    UploadRowFactory(
        job=UploadJobFactory(connection=connection),
        contact=contact,
        state="duplicate",
        refusal="likely",
        evidence="email,tax_number",
        suggested_xero_contact_id=XeroContactFactory(connection=connection).contact_id,
        suggested_name="Harbour Deli",
    )
    page = accountant_client.get(
        reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
    ).content.decode()
    deli = "<strong><bdi>Harbour Deli</bdi></strong>"
    assert f"Xero already has {deli}, likely the same contact" in page
    assert "(same email, same tax number)" in page
    assert "Link to <bdi>Harbour Deli</bdi>" in page and "Create anyway" in page


def test_when_the_last_upload_finishes_the_polling_page_reloads(viewer_client, connection):
    progress = reverse("sync:upload_progress")
    UploadJobFactory(connection=connection, state=UploadJob.State.RUNNING)
    assert "HX-Refresh" not in viewer_client.get(progress, {"poll": 1}, **HTMX).headers
    UploadJob.objects.update(state=UploadJob.State.DONE)
    assert viewer_client.get(progress, {"poll": 1}, **HTMX).headers["HX-Refresh"] == "true"
