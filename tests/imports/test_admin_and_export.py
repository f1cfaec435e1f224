"""The import from Django admin, and the CSV exports of links and link events."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Contact
from sync.models import ContactImport, ContactLink
from tests.factories import (
    ContactLinkFactory,
    LinkEventFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)
from tests.xero_export import BAYVIEW, xero_csv

pytestmark = pytest.mark.django_db


def test_an_admin_imports_through_the_same_preview_and_link_on_import(admin_client):
    connection = XeroConnectionFactory()
    XeroContactFactory(connection=connection, name="Bayview Cafe Ltd")
    changelist = admin_client.get(reverse("admin:contacts_contact_changelist")).content.decode()
    assert reverse("admin:contacts_contact_import_xero") in changelist
    response = admin_client.post(
        reverse("admin:contacts_contact_import_xero"),
        {"file": SimpleUploadedFile("bayview.csv", xero_csv([BAYVIEW])), "role": "customers"},
    )
    preview_url = response.url
    page = admin_client.get(preview_url).content.decode()
    assert "Links to Bayview Cafe Ltd" in page and not Contact.objects.exists()
    response = admin_client.post(preview_url)
    done = ContactImport.objects.get()
    assert response.url == reverse("sync:import_result", kwargs={"pk": done.pk})
    assert ContactLink.objects.get().method == "import"


def test_admin_import_refuses_a_bad_file_on_its_form(admin_client):
    page = admin_client.post(
        reverse("admin:contacts_contact_import_xero"),
        {"file": SimpleUploadedFile("x.csv", b"Name,Email\nTui,t@t.nz\n"), "role": "customers"},
    ).content.decode()
    assert "The file has no ContactName column" in page
    assert not ContactImport.objects.exists()


def rows_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_staff_export_the_links_with_who_and_how(admin_client, admin_user):
    link = ContactLinkFactory(
        contact__name="Tui Books", xero_name="Tui Books Ltd", created_by=admin_user
    )
    header, row = rows_of(admin_client.get(reverse("sync:export_links")))
    assert header[:3] == ["Omni contact", "Omni account number", "Xero contact"]
    assert row[0] == "Tui Books" and row[2] == "Tui Books Ltd"
    assert row[3] == str(link.xero_contact_id)
    assert row[5:9] == ["Valid", "", "Existing Xero contact", "ada"]


def test_staff_export_the_link_events(admin_client, accountant):
    LinkEventFactory(contact__name="Tui Books", actor=accountant, detail="Imported: Tui")
    header, row = rows_of(admin_client.get(reverse("sync:export_link_events")))
    assert header[1:5] == ["Action", "Omni contact", "Organisation", "Who"]
    assert row[1:3] == ["Linked", "Tui Books"] and row[4] == "alex" and row[7] == "Imported: Tui"


def test_the_admin_actions_export_the_selected_rows(admin_client):
    first, _second = ContactLinkFactory(), ContactLinkFactory()
    response = admin_client.post(
        reverse("admin:sync_contactlink_changelist"),
        {"action": "export_csv", "_selected_action": [first.pk]},
    )
    assert [row[0] for row in rows_of(response)[1:]] == [first.contact.name]
    event = LinkEventFactory()
    response = admin_client.post(
        reverse("admin:sync_linkevent_changelist"),
        {"action": "export_csv", "_selected_action": [event.pk]},
    )
    assert len(rows_of(response)) == 2


def test_accountants_may_not_export(accountant_client):
    response = accountant_client.get(reverse("sync:export_links"))
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert accountant_client.get(reverse("sync:export_link_events")).status_code == 302
