"""Hostile spreadsheets (bombs, damaged and hand-made workbooks, a NUL in a CSV) get a clear
message from the dashboard's import and the admin's, and nothing is written or kept.

The files are built here, part by part (tests/xero_export.py); the memory each costs is
measured by bench/import_memory.py."""

import tempfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from contacts.models import Contact
from sync.imports.xero_export import contacts_file_as_csv, contacts_file_read
from sync.models import ContactImport
from tests import xero_export as make

pytestmark = pytest.mark.django_db

UNREADABLE = "The file is not an Excel workbook omni-xero can read: it is damaged, or was not"
UNPACKED = "The workbook unpacks to more data than a contacts export holds"
COLUMNS = "The file has more than 100 columns; Xero's contacts export has 36."
FORMATTING = "The workbook holds more formatting or structure than a contacts export"
STRINGS = "The workbook holds more than 300,000 different texts"
CELL = "The file has a cell longer than 32,767 characters (Excel's own limit)"

HOSTILE = {
    "declared-dimension-bomb.xlsx": (make.dimension_bomb, COLUMNS),
    "huge-shared-string.xlsx": (lambda: make.huge_shared_cell(100_000), CELL),
    "huge-inline-string.xlsx": (lambda: make.huge_inline_cell(100_000), CELL),
    "huge-packed-cell.xlsx": (lambda: make.huge_shared_cell(2_000_000), UNPACKED),
    "zip-bomb.xlsx": (lambda: make.zip_bomb(50 * 2**20), UNPACKED),
    "too-many-columns.xlsx": (make.too_many_columns, COLUMNS),
    "many-shared-strings.xlsx": (lambda: make.many_shared_strings(300_001), STRINGS),
    "styles-bomb.xlsx": (lambda: make.styles_bomb(20_001), FORMATTING),
    "too-many-rows.xlsx": (
        lambda: make.too_many_rows(50_001),
        "The file has more than 50,000 contacts. Split it into smaller files.",
    ),
    "truncated-sheet.xlsx": (make.truncated_sheet, UNREADABLE),
    "external-entity.xlsx": (make.external_entity, UNREADABLE),
    "billion-laughs.xlsx": (make.billion_laughs, UNREADABLE),
    "nul-after-8-kb.csv": (make.csv_with_nul, "Row 821 holds a NUL character"),
}


@pytest.fixture(scope="module", params=list(HOSTILE))
def hostile(request) -> tuple[str, bytes, str]:
    build, message = HOSTILE[request.param]
    return request.param, build(), message


def test_the_dashboard_import_refuses_a_hostile_file_with_a_clear_message(
    accountant_client, hostile
):
    name, data, message = hostile
    response = accountant_client.post(
        reverse("sync:import_upload"),
        {"file": SimpleUploadedFile(name, data), "role": "customers"},
    )
    assert response.status_code == 200
    assert escape(message) in response.content.decode()
    assert not Contact.objects.exists() and not ContactImport.objects.exists()


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    """The folder import-export keeps an uploaded file in until it is confirmed."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _admin_import(client, name: str, data: bytes):
    return client.post(
        reverse("admin:contacts_contact_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile(name, data),
            "role": "customers",
        },
    )


def test_the_admin_import_refuses_a_hostile_file_with_a_clear_message(
    admin_client, hostile, temp_folder
):
    name, data, message = hostile
    response = _admin_import(admin_client, name, data)
    assert response.status_code == 200
    page = response.content.decode()
    assert escape(message) in page and "Confirm import" not in page
    assert not Contact.objects.exists() and not ContactImport.objects.exists()
    assert list(temp_folder.iterdir()) == []  # the refused file's copy is not left behind


OVER_THE_LIMIT = b"ContactName\r\n" + b"x" * (20 * 2**20)
TOO_BIG = "The file is 20 MB; the largest omni-xero imports is 20 MB."


def test_a_file_over_the_limit_is_refused_by_the_admin_import_before_it_is_read(
    admin_client, temp_folder
):
    response = _admin_import(admin_client, "big.csv", OVER_THE_LIMIT)
    assert escape(TOO_BIG) in response.content.decode()
    assert list(temp_folder.iterdir()) == []  # import-export never copied it
    assert not Contact.objects.exists() and not ContactImport.objects.exists()


def test_a_file_over_the_limit_is_refused_by_the_dashboard_import(accountant_client):
    response = accountant_client.post(
        reverse("sync:import_upload"), {"file": SimpleUploadedFile("big.csv", OVER_THE_LIMIT)}
    )
    assert escape(TOO_BIG) in response.content.decode()
    assert not Contact.objects.exists() and not ContactImport.objects.exists()


def test_entities_are_never_expanded_even_where_a_file_is_read():
    # The entity's file would be read into the contact's name; the file is refused instead.
    for data in (make.external_entity(), make.billion_laughs()):
        with pytest.raises(Exception, match="not an Excel workbook"):
            contacts_file_read(name="x.xlsx", data=data)


def test_a_contact_below_a_million_blank_rows_keeps_the_sheets_row_number():
    # The sheet declares A1:B2 (wrongly): the declared dimension is not trusted.
    data = make.workbook_zip(
        make.sheet_xml(make.HEADER_ROW + make.row(1048576, make.inline("A1048576", "Tui")))
    )
    parsed = contacts_file_read(name="far.xlsx", data=data)
    assert [(row.row, row.values) for row in parsed.rows] == [(1048576, {"name": "Tui"})]
    kept = contacts_file_as_csv(name="far.xlsx", data=data)
    assert contacts_file_read(name="far.xlsx", data=kept) == parsed


def test_blank_rows_do_not_count_as_contacts():
    rows = "".join(make.row(n, make.inline(f"A{n}", f"Contact {n}")) for n in range(60_000, 60_010))
    data = make.workbook_zip(make.sheet_xml(make.HEADER_ROW + rows))
    parsed = contacts_file_read(name="sparse.xlsx", data=data)
    assert [row.row for row in parsed.rows] == list(range(60_000, 60_010))
