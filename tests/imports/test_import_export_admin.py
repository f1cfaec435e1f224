"""The Contact admin's Import, through django-import-export: Xero's export read and checked by
sync.imports.xero_export, a dry-run preview, a confirmation in one transaction that links on
import as the dashboard does."""

import shutil
import tempfile
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from sync.imports import services as imports
from sync.models import ContactImport, ContactLink, ImportFile, LinkEvent
from tests.factories import ContactFactory, UserFactory, XeroConnectionFactory, XeroContactFactory
from tests.xero_export import BAYVIEW, xero_csv, xero_xlsx

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:contacts_contact_import")
CONFIRM = reverse("admin:contacts_contact_process_import")
KAURI = {"ContactName": "Kauri Coast Outfitters", "AccountNumber": "C1002"}


def upload(
    client, data: bytes, name: str = "contacts.csv", role: str = "customers", **choice: object
):
    file = SimpleUploadedFile(name, data)
    form = {"resource": "0", "format": "0", "import_file": file, "role": role, **choice}
    return client.post(IMPORT, form)


def confirm(client, preview):
    form = preview.context["confirm_form"]
    return client.post(CONFIRM, {**form.initial, "role": form.initial["role"]}, follow=True)


def shown(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_contact_admins_import_button_is_django_import_exports(admin_client):
    changelist = admin_client.get(reverse("admin:contacts_contact_changelist")).content.decode()
    assert f"href='{IMPORT}'" in changelist
    page = admin_client.get(IMPORT).content.decode()
    assert "Xero contacts export (CSV or XLSX)" in page
    assert 'name="role"' in page and "Suppliers" in page


def test_staff_without_the_add_permission_may_not_import(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(IMPORT).status_code == 403


@pytest.mark.parametrize("make", [xero_csv, xero_xlsx])
def test_the_dry_run_preview_lists_new_and_updated_rows_and_writes_nothing(admin_client, make):
    ContactFactory(name="Kauri Coast", account_number="C1002", email="old@kauri.nz")
    # Xero's columns without their `*`, in another order, with a column omni-xero ignores.
    header = ["Website", "AccountNumber", "ContactName", "EmailAddress", "POCity"]
    data = make([BAYVIEW, {**KAURI, "EmailAddress": "new@kauri.nz"}], header)
    name = "contacts.xlsx" if make is xero_xlsx else "c.csv"
    preview = upload(admin_client, data, name=name, mode="update", details=["name", "email"])
    page = preview.content.decode()
    assert "Confirm import" in page
    rows = preview.context["result"].valid_rows()
    assert [(r.import_type, r.object_repr) for r in rows] == [
        ("new", "Bayview Cafe Ltd"),
        ("update", "Kauri Coast"),  # matched by its account number, renamed on import
    ]  # the default, Link only, would update none: see test_import_plan.py
    kauri = "".join(rows[1].diff)
    assert "<del" in kauri and ">old</del>" in kauri and ">new</ins><span>@kauri.nz" in kauri
    assert "<th>EmailAddress</th>" in page and "Tauranga" in page
    assert not ContactImport.objects.exists()
    assert Contact.objects.get().email == "old@kauri.nz"


def test_row_errors_show_the_spreadsheet_row_numbers_and_nothing_can_be_confirmed(admin_client):
    ContactFactory(name="Twin", account_number="")
    ContactFactory(name="twin ", account_number="")
    data = xero_csv(
        [
            BAYVIEW,
            {"AccountNumber": "C9"},
            {"ContactName": "Tui Books", "EmailAddress": "not-an-email"},
            {"ContactName": "Twin"},
        ]
    )
    preview = upload(admin_client, data)
    page = preview.content.decode()
    assert "Some rows failed to validate" in page and "Confirm import" not in page
    invalid = {row.number: row.error_count for row in preview.context["result"].invalid_rows}
    assert invalid == {3: 1, 4: 1, 5: 1}  # the header is row 1, as in the spreadsheet
    assert "Row 3 has no ContactName" in page
    assert "Row 4 has an EmailAddress that is not valid" in page
    assert "Row 5 matches 2 Omni contacts" in page
    assert Contact.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Name,Email\nTui,t@t.nz\n", "The file has no ContactName column"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "Old Excel files (.xls) cannot be read"),
        (xero_csv([]), "The file has a header but no contacts."),
    ],
)
def test_a_bad_file_gets_a_clear_message_and_writes_nothing(admin_client, data, message):
    page = upload(admin_client, data).content.decode()
    assert message in page and "Confirm import" not in page
    assert not Contact.objects.exists() and not ContactImport.objects.exists()


def test_confirming_imports_and_links_the_exact_matches_audited_as_the_admin(
    admin_client, admin_user
):
    connection = XeroConnectionFactory()
    bayview = XeroContactFactory(connection=connection, name="Bayview Cafe Ltd")
    XeroContactFactory(connection=connection, name="Kauri Coast Outfitters")
    XeroContactFactory(connection=connection, name="Kauri Coast Outfitters")
    preview = upload(admin_client, xero_csv([BAYVIEW, KAURI]), name="export.csv", role="both")
    assert not Contact.objects.exists()

    done_page = confirm(admin_client, preview)
    assert done_page.redirect_chain[-1][0] == reverse("admin:contacts_contact_changelist")
    done = ContactImport.objects.get()
    assert (done.created_by, done.connection, done.confirmed_at is not None) == (
        admin_user,
        connection,
        True,
    )
    [message] = shown(done_page)
    assert "Imported export.csv: 2 new, 0 updated, 1 linked to Xero, 1 to review." in message
    review = reverse("sync:import_result", kwargs={"pk": done.pk})
    assert f'<a href="{review}">Review them</a>' in done_page.content.decode()
    assert set(Contact.objects.values_list("name", "is_customer", "is_supplier")) == {
        ("Bayview Cafe Ltd", True, True),
        ("Kauri Coast Outfitters", True, True),
    }
    link = ContactLink.objects.get()
    assert (link.contact.name, link.xero_contact_id, link.method, link.created_by) == (
        "Bayview Cafe Ltd",
        bayview.contact_id,
        "import",
        admin_user,
    )
    event = LinkEvent.objects.get()
    assert (event.action, event.contact_name, event.actor) == (
        "link",
        "Bayview Cafe Ltd",
        admin_user,
    )
    assert [row.contact_name for row in imports.import_review(done)] == ["Kauri Coast Outfitters"]


def test_a_preview_on_one_web_node_is_confirmed_on_another(
    admin_client, settings, tmp_path, monkeypatch
):
    """The file waits in the database, not in the temporary folder of the node that took
    it: another node, with a disk of its own, confirms it."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # the upload itself is written to the disk
    settings.FILE_UPLOAD_TEMP_DIR = str(first)
    monkeypatch.setattr(tempfile, "tempdir", str(first))
    preview = upload(admin_client, xero_csv([BAYVIEW, KAURI]), name="export.csv")
    assert "Confirm import" in preview.content.decode()
    assert [path for path in first.rglob("*") if path.is_file()] == []
    shutil.rmtree(first)

    settings.FILE_UPLOAD_TEMP_DIR = str(second)
    monkeypatch.setattr(tempfile, "tempdir", str(second))
    browser = Client()
    browser.cookies = admin_client.cookies  # the same browser, sent to the other node
    done_page = confirm(browser, preview)
    assert "Imported export.csv: 2 new" in shown(done_page)[0]
    assert not ImportFile.objects.exists()  # gone once imported


def test_a_file_never_confirmed_goes_after_a_day(admin_client):
    upload(admin_client, xero_csv([BAYVIEW]))
    ImportFile.objects.update(created_at=timezone.now() - timedelta(hours=25))
    upload(admin_client, xero_csv([KAURI]))
    assert ImportFile.objects.count() == 1


def test_confirming_a_file_gone_meanwhile_says_so(admin_client):
    preview = upload(admin_client, xero_csv([BAYVIEW]))
    ImportFile.objects.update(created_at=timezone.now() - timedelta(hours=25))
    done_page = confirm(admin_client, preview)
    assert done_page.redirect_chain[-1][0] == IMPORT
    assert shown(done_page) == ["That import was not found: it has expired. Choose the file again."]
    assert not Contact.objects.exists()


def test_confirming_writes_nothing_when_any_part_fails(admin_client, monkeypatch):
    connection = XeroConnectionFactory()
    XeroContactFactory(connection=connection, name="Bayview Cafe Ltd")
    preview = upload(admin_client, xero_csv([BAYVIEW, KAURI]))

    def refuse(**kwargs):
        raise RuntimeError("Xero link table is locked")

    monkeypatch.setattr(imports, "contacts_link_many", refuse)
    done_page = confirm(admin_client, preview)
    assert done_page.redirect_chain[-1][0] == IMPORT
    assert shown(done_page) == ["Nothing was imported. Xero link table is locked"]
    assert not Contact.objects.exists()
    assert not ContactImport.objects.exists() and not LinkEvent.objects.exists()


def test_the_admin_import_links_only_by_default_and_changes_no_omni_contact(admin_client):
    ContactFactory(name="Kauri Coast", account_number="C1002", email="old@kauri.nz")
    preview = upload(admin_client, xero_csv([{**KAURI, "EmailAddress": "new@kauri.nz"}]))
    rows = preview.context["result"].valid_rows()
    assert [(r.import_type, r.object_repr) for r in rows] == [("skip", "Kauri Coast")]
    confirm(admin_client, preview)
    kauri = Contact.objects.get()
    assert (kauri.name, kauri.email) == ("Kauri Coast", "old@kauri.nz")
    assert ContactImport.objects.get().details == []
