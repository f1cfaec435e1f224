"""Names from outside the app are isolated where the pages show them: a right-to-left
override (U+202E) in one turns round only that name, never the text beside it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sync.models import SyncItem
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    SyncItemFactory,
    SyncRunFactory,
    TransactionFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)
from transactions.models import SyncState

pytestmark = pytest.mark.django_db

# Shows as "Bayview Cafe fdp.exe" reversed: an override left open would reverse what follows.
OVERRIDE = "Bayview \N{RIGHT-TO-LEFT OVERRIDE}exe.pdf"


def isolated(text: str) -> str:
    return f"<bdi>{text}</bdi>"


@pytest.fixture
def connection():
    return XeroConnectionFactory(
        organisation_name=f"{OVERRIDE} Org", connected_at=timezone.now() + timedelta(days=1)
    )


@pytest.fixture
def contact(connection):
    contact = ContactFactory(name=OVERRIDE, first_name=OVERRIDE)
    ContactLinkFactory(contact=contact, connection=connection, xero_name=f"{OVERRIDE} Ltd")
    return contact


def test_the_customers_list_isolates_omni_and_xero_names(viewer_client, contact, connection):
    TransactionFactory(contact=contact)
    page = viewer_client.get(
        reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "customers"})
    ).content.decode()
    assert isolated(OVERRIDE) in page and isolated(f"{OVERRIDE} Ltd") in page
    assert isolated(f"{OVERRIDE} Org") in page  # the organisation shown


def test_the_invoices_list_isolates_numbers_references_names_and_xero_messages(
    viewer_client, contact
):
    TransactionFactory(
        contact=contact,
        number=f"{OVERRIDE}-1",
        reference=f"{OVERRIDE} ref",
        sync_state=SyncState.FAILED,
        last_error=f"Xero refused it: {OVERRIDE} is archived.",
    )
    page = viewer_client.get(
        reverse("sync:subtab", kwargs={"tab": "sales", "subtab": "invoices"})
    ).content.decode()
    for text in [OVERRIDE, f"{OVERRIDE}-1", f"{OVERRIDE} ref"]:
        assert isolated(text) in page, text
    assert isolated(f"Xero refused it: {OVERRIDE} is archived.") in page


def test_the_search_column_results_isolate_xero_names(accountant_client, connection):
    XeroContactFactory(connection=connection, name=f"{OVERRIDE} Holdings")
    contact = ContactFactory(name=OVERRIDE)
    url = reverse("sync:xero_suggest", kwargs={"tab": "sales", "pk": contact.pk})
    page = accountant_client.get(url, {"q": "bayview"}).content.decode()
    assert isolated(f"{OVERRIDE} Holdings") in page and isolated(OVERRIDE) in page


def test_the_contact_page_isolates_its_names_and_history(viewer_client, contact):
    url = reverse("sync:contact_detail", kwargs={"tab": "sales", "pk": contact.pk})
    page = viewer_client.get(url).content.decode()
    assert f'<h2 id="contact-title">{isolated(OVERRIDE)}</h2>' in page
    assert isolated(f"{OVERRIDE} Ltd") in page and isolated(f"{OVERRIDE} Org") in page


def test_the_errors_view_isolates_names_numbers_and_xero_messages(viewer_client, contact):
    TransactionFactory(
        contact=contact,
        number=f"{OVERRIDE}-2",
        sync_state=SyncState.FAILED,
        last_error=f"Xero refused it: {OVERRIDE} is archived.",
    )
    page = viewer_client.get(reverse("sync:errors")).content.decode()
    assert isolated(OVERRIDE) in page and isolated(f"{OVERRIDE}-2") in page
    assert isolated(f"Xero refused it: {OVERRIDE} is archived.") in page


def test_the_sync_log_isolates_names_numbers_and_xero_messages(viewer_client, contact, connection):
    run = SyncRunFactory(connection=connection)
    SyncItemFactory(
        run=run,
        state=SyncItem.State.FAILED,
        transaction=TransactionFactory(contact=contact, number=f"{OVERRIDE}-3"),
        message=f"Xero refused it: {OVERRIDE} is archived.",
    )
    page = viewer_client.get(reverse("sync:sync_run", args=[run.pk])).content.decode()
    assert isolated(OVERRIDE) in page and isolated(f"{OVERRIDE}-3") in page
    assert isolated(f"Xero refused it: {OVERRIDE} is archived.") in page
