"""Import from a Xero export: preview, confirm in one transaction, link on import, review,
and the pages an accountant goes through."""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from contacts.models import Contact
from sync.imports import services as imports
from sync.imports.xero_export import DETAILS
from sync.models import ContactImport, ContactLink, ImportedContact, LinkEvent, XeroContact
from tests.factories import (
    ContactFactory,
    ContactLinkFactory,
    UserFactory,
    XeroConnectionFactory,
    XeroContactFactory,
)
from tests.xero_export import BAYVIEW, xero_csv, xero_xlsx

pytestmark = pytest.mark.django_db

ROWS = [
    BAYVIEW,  # one Xero contact by name and account number: linked
    {"ContactName": "Harbourside Deli"},  # two Xero contacts of that name: to review
    {"ContactName": "Kauri Coast Outfitters", "AccountNumber": "K-9"},  # name one, number other
    {"ContactName": "Nobody In Xero Ltd"},  # no match: to review
    {"ContactName": "", "EmailAddress": "x@y.nz"},  # an error: not imported
]


@pytest.fixture
def connection():
    connection = XeroConnectionFactory()
    XeroContactFactory(connection=connection, name="Bayview Cafe Ltd", account_number="C1001")
    XeroContactFactory(connection=connection, name="Harbourside Deli")
    XeroContactFactory(connection=connection, name="Harbourside Deli", email="x@deli.nz")
    XeroContactFactory(connection=connection, name="Kauri Coast Outfitters")
    XeroContactFactory(connection=connection, name="Kauri Outdoors", contact_number="K-9")
    XeroContactFactory(
        connection=connection, name="Nobody In Xero Ltd", status=XeroContact.Status.ARCHIVED
    )
    return connection


def start(
    user, connection, data=None, name="contacts.csv", customers=True, suppliers=False, details=()
):
    return imports.contacts_import_start(
        user=user,
        connection=connection,
        file_name=name,
        data=xero_csv(ROWS) if data is None else data,
        customers=customers,
        suppliers=suppliers,
        details=list(details),
    )


def test_the_preview_counts_new_updates_errors_and_links_and_writes_nothing(accountant, connection):
    ContactFactory(name="Bayview Cafe", account_number="C1001")
    preview = imports.contacts_import_preview(
        token=start(accountant, connection, details=DETAILS).token, user=accountant
    )
    assert [r.planned.contact.name for r in preview.updates] == ["Bayview Cafe"]
    assert [r.planned.contact.name for r in preview.new] == [
        "Harbourside Deli",
        "Kauri Coast Outfitters",
        "Nobody In Xero Ltd",
    ]
    assert [len(r.matches) for r in preview.rows] == [1, 2, 2, 0]
    assert preview.rows[0].matches[0].name == "Bayview Cafe Ltd"
    assert [p.row for p in preview.plan.problems] == [6]
    assert Contact.objects.count() == 1 and not ContactLink.objects.exists()


def test_confirming_imports_and_links_exactly_one_match_with_method_import(accountant, connection):
    done = imports.contacts_import_confirm(
        token=start(accountant, connection).token, user=accountant
    )
    assert (done.created_count, done.linked_count, done.review_count, done.problem_count) == (
        4,
        1,
        3,
        1,
    )
    link = ContactLink.objects.get()
    assert (link.contact.name, link.xero_name, link.method) == (
        "Bayview Cafe Ltd",
        "Bayview Cafe Ltd",
        "import",
    )
    event = LinkEvent.objects.get()
    assert (event.actor, event.detail) == (
        accountant,
        "Imported from a spreadsheet: Bayview Cafe Ltd",
    )
    review = {row.contact_name: row.outcome for row in imports.import_review(done)}
    assert review == {
        "Harbourside Deli": ImportedContact.Outcome.AMBIGUOUS,
        "Kauri Coast Outfitters": ImportedContact.Outcome.AMBIGUOUS,
        "Nobody In Xero Ltd": ImportedContact.Outcome.NO_MATCH,
    }
    assert done.file_data == b""  # nothing of the file is kept once imported


def test_an_xlsx_export_imports_like_the_csv(accountant, connection):
    token = start(accountant, connection, data=xero_xlsx(ROWS), name="contacts.xlsx").token
    done = imports.contacts_import_confirm(token=token, user=accountant)
    assert (done.created_count, done.linked_count) == (4, 1)


def test_a_match_linked_to_another_contact_is_not_taken_and_goes_to_review(accountant, connection):
    bayview = XeroContact.objects.get(name="Bayview Cafe Ltd")
    ContactLinkFactory(connection=connection, xero_contact_id=bayview.contact_id)
    done = imports.contacts_import_confirm(
        token=start(accountant, connection).token, user=accountant
    )
    row = done.rows.get(contact_name="Bayview Cafe Ltd")
    assert row.outcome == ImportedContact.Outcome.REFUSED and "already linked" in row.message
    assert done.linked_count == 0


def test_two_rows_matching_one_xero_contact_link_only_the_first(accountant, connection):
    rows = [
        {"ContactName": "Bayview Cafe Ltd"},
        {"ContactName": "Bayview Cafe (old)", "AccountNumber": "C1001"},
    ]
    done = imports.contacts_import_confirm(
        token=start(accountant, connection, data=xero_csv(rows)).token, user=accountant
    )
    first, second = done.rows.all()
    assert first.outcome == ImportedContact.Outcome.LINKED
    assert second.outcome == ImportedContact.Outcome.REFUSED
    assert "already linked to Bayview Cafe Ltd" in second.message
    assert ContactLink.objects.get().contact.name == "Bayview Cafe Ltd"


def test_a_customer_and_its_supplier_record_may_share_the_xero_contact(accountant, connection):
    supplier = ContactFactory(
        name="Bayview Cafe Supplies",
        email="accounts@bayview.nz",
        is_customer=False,
        is_supplier=True,
        account_number="S1",
    )
    bayview = XeroContact.objects.get(name="Bayview Cafe Ltd")
    ContactLinkFactory(connection=connection, contact=supplier, xero_contact_id=bayview.contact_id)
    rows = [
        {
            "ContactName": "Bayview Cafe Ltd",
            "AccountNumber": "C1001",
            "EmailAddress": "accounts@bayview.nz",
        }
    ]
    imports.contacts_import_confirm(
        token=start(accountant, connection, data=xero_csv(rows)).token, user=accountant
    )
    assert ContactLink.objects.filter(xero_contact_id=bayview.contact_id).count() == 2


def test_nothing_is_half_imported_when_confirming_fails(accountant, connection, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(imports, "contacts_link_many", broken)
    token = start(accountant, connection).token
    with pytest.raises(RuntimeError):
        imports.contacts_import_confirm(token=token, user=accountant)
    assert not Contact.objects.exists() and not ImportedContact.objects.exists()
    assert ContactImport.objects.get().confirmed_at is None


def test_a_token_is_only_good_for_its_uploader_and_once(accountant, connection):
    token = start(accountant, connection).token
    someone = UserFactory()
    with pytest.raises(imports.ImportRefused, match="expired or was started by someone else"):
        imports.contacts_import_preview(token=token, user=someone)
    with pytest.raises(imports.ImportRefused, match="expired or was started by someone else"):
        imports.contacts_import_confirm(token=token, user=someone)
    imports.contacts_import_confirm(token=token, user=accountant)
    with pytest.raises(imports.ImportRefused, match="has been imported already"):
        imports.contacts_import_confirm(token=token, user=accountant)
    assert Contact.objects.count() == 4


def test_a_stale_token_is_refused(accountant, connection):
    started = start(accountant, connection)
    ContactImport.objects.filter(pk=started.pk).update(
        created_at=started.created_at - imports.IMPORT_TTL
    )
    with pytest.raises(imports.ImportRefused, match="expired"):
        imports.contacts_import_confirm(token=started.token, user=accountant)


def test_a_file_that_cannot_be_used_is_not_kept(accountant, connection):
    with pytest.raises(imports.ImportRefused, match="The file is empty"):
        start(accountant, connection, data=b"")
    assert not ContactImport.objects.exists()


# --- The pages ---------------------------------------------------------------------------------


def upload(client, data, name="contacts.csv", role="customers"):
    return client.post(
        reverse("sync:import_upload"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "role": role},
    )


def test_upload_preview_confirm_and_review_pages(accountant_client, connection):
    response = upload(accountant_client, xero_csv(ROWS), role="both")
    token = ContactImport.objects.get().token
    assert response.url == reverse("sync:import_preview", kwargs={"token": token})
    page = accountant_client.get(response.url).content.decode()
    assert "<strong>4</strong> new contacts" in page
    assert "<strong>1</strong> to link to Xero" in page
    assert "Row 6 has no ContactName" in page
    assert not Contact.objects.exists()
    response = accountant_client.post(reverse("sync:import_confirm", kwargs={"token": token}))
    result = accountant_client.get(response.url).content.decode()
    assert "Imported contacts.csv: 4 new, 0 updated, 1 linked to Xero, 3 to review." in result
    assert result.count('id="review-row-') == 3
    assert Contact.objects.filter(is_customer=True, is_supplier=True).count() == 4


def test_a_preview_on_one_web_node_and_the_import_on_another(
    accountant_client, connection, settings, tmp_path, monkeypatch
):
    """Web nodes behind a load balancer share the database alone: the node that takes the
    upload keeps nothing on its disk, and another, with a disk of its own, previews and
    imports the file."""

    def node(name: str) -> Path:
        disk = tmp_path / name
        disk.mkdir()
        settings.VAR_DIR, settings.MEDIA_ROOT = disk, disk / "media"
        settings.FILE_UPLOAD_TEMP_DIR = str(disk)
        monkeypatch.setattr(tempfile, "tempdir", str(disk))
        return disk

    first = node("first")
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # the upload itself is written to the disk
    preview_url = upload(accountant_client, xero_csv(ROWS), role="both").url
    assert [path for path in first.rglob("*") if path.is_file()] == []
    shutil.rmtree(first)

    node("second")
    browser = Client()
    browser.cookies = accountant_client.cookies  # the same browser, sent to the other node
    assert "<strong>4</strong> new contacts" in browser.get(preview_url).content.decode()
    token = ContactImport.objects.get().token
    response = browser.post(reverse("sync:import_confirm", kwargs={"token": token}))
    result = browser.get(response.url).content.decode()
    assert "Imported contacts.csv: 4 new, 0 updated, 1 linked to Xero, 3 to review." in result


def test_a_bad_file_is_shown_on_the_form_and_nothing_kept(accountant_client, connection):
    page = upload(accountant_client, b"Name,Email\nTui,t@t.nz\n").content.decode()
    assert "The file has no ContactName column" in page
    assert not ContactImport.objects.exists()


def test_a_50_mb_upload_is_refused_with_its_size(accountant_client, connection):
    page = upload(accountant_client, b"x" * (50 * 1024 * 1024)).content.decode()
    assert "The file is 50 MB; the largest omni-xero imports is 20 MB." in page
    assert not ContactImport.objects.exists()


def test_someone_elses_token_gets_a_clear_message(accountant_client, connection, admin_user):
    token = start(admin_user, connection).token
    response = accountant_client.get(
        reverse("sync:import_preview", kwargs={"token": token}), follow=True
    )
    assert "That import was not found: it has expired or was started by someone else." in (
        response.content.decode()
    )
    response = accountant_client.post(reverse("sync:import_confirm", kwargs={"token": token}))
    assert not Contact.objects.exists()


def test_viewers_may_not_import(viewer_client, connection):
    assert upload(viewer_client, xero_csv(ROWS)).status_code == 403
    assert viewer_client.get(reverse("sync:import_upload")).status_code == 403


def test_the_preview_says_what_becomes_of_each_rows_link(accountant_client, connection):
    ContactFactory(name="Bayview Cafe", account_number="C1001")
    response = upload(accountant_client, xero_csv(ROWS))
    page = accountant_client.get(response.url).content.decode()
    assert "Links to <bdi>Bayview Cafe Ltd</bdi>" in page
    assert page.count("To review: 2 Xero contacts match") == 2
    assert page.count("To review: no Xero contact matches") == 1


def test_a_big_preview_shows_the_first_rows_and_says_how_many(accountant_client, connection):
    rows = [{"ContactName": f"Shop {n}"} for n in range(250)]
    response = upload(accountant_client, xero_csv(rows))
    page = accountant_client.get(response.url).content.decode()
    assert "The first 200 of 250 are shown." in page
    assert "Shop 199" in page and "Shop 249" not in page


def test_without_a_connection_everything_imported_is_for_review(accountant):
    done = imports.contacts_import_confirm(token=start(accountant, None).token, user=accountant)
    assert (done.created_count, done.linked_count, done.review_count) == (4, 0, 4)
    assert len(imports.import_review(done)) == 4
    assert not ContactLink.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_clicks_on_import_at_once_import_once(accountant, connection):
    """The second waits on the import's row lock, then finds it imported. The first is held
    as it records the import done, its transaction open, until the second is seen waiting.
    (Without the lock both would read it unconfirmed and import every row twice.)"""
    from django.db import connection as db
    from django.db.models.signals import post_save

    from tests.concurrency import at_once_overlapping

    if db.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (CI runs this with DATABASE_URL)")
    token = start(accountant, connection).token
    failures = at_once_overlapping(
        lambda: imports.contacts_import_confirm(token=token, user=accountant),
        signal=post_save,
        sender=ContactImport,
    )
    assert [str(f) for f in failures] == ["contacts.csv has been imported already."]
    assert Contact.objects.count() == 4 and ContactLink.objects.count() == 1


def test_the_demo_sample_is_offered_for_download_and_reads_cleanly(accountant_client):
    from sync.imports.views import SAMPLE
    from sync.imports.xero_export import contacts_file_read

    response = accountant_client.get(reverse("sync:import_sample"))
    body = b"".join(response.streaming_content)
    assert response["Content-Disposition"] == 'attachment; filename="xero-customers-export.csv"'
    parsed = contacts_file_read(name=SAMPLE.name, data=body)
    assert len(parsed.rows) == 8 and parsed.problems == []


def test_an_import_outlives_the_account_of_whoever_made_it(accountant_client, connection):
    someone = UserFactory(username="leaver")
    done = imports.contacts_import_confirm(token=start(someone, connection).token, user=someone)
    someone.delete()
    page = accountant_client.get(reverse("sync:import_result", kwargs={"pk": done.pk}))
    assert "by a former user" in page.content.decode()
    assert ImportedContact.objects.filter(contact_import=done).count() == 4
