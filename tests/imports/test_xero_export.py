"""Reading Xero's contacts export: columns, bad rows and bad files, and the plan for Omni."""

from datetime import datetime

import pytest

from contacts.models import Contact
from sync.imports.xero_export import (
    DETAILS,
    MAX_BYTES,
    ImportFileError,
    contacts_file_as_csv,
    contacts_file_read,
    import_apply,
    import_plan,
)
from tests.factories import ContactFactory
from tests.xero_export import BAYVIEW, xero_csv, xero_xlsx

MAKERS = {"bayview.csv": xero_csv, "bayview.xlsx": xero_xlsx}


@pytest.mark.parametrize("name", MAKERS)
def test_xero_columns_become_omni_fields_and_the_others_are_ignored(name):
    parsed = contacts_file_read(name=name, data=MAKERS[name]([BAYVIEW]))
    assert parsed.problems == []
    (row,) = parsed.rows
    assert row.row == 2
    assert row.values == {
        "name": "Bayview Cafe Ltd",
        "account_number": "C1001",
        "email": "accounts@bayviewcafe.co.nz",
        "first_name": "Aroha",
        "last_name": "Ngata",
        "phone": "07 578 1234",
        "tax_number": "123-456-789",
        "postal_line1": "PO Box 412",
        "postal_line2": "Level 2, Harbour House",
        "postal_city": "Tauranga",
        "postal_region": "Bay of Plenty",
        "postal_postal_code": "3110",
        "postal_country": "New Zealand",
        "street_line1": "18 Marine Parade",
        "street_city": "Tauranga",
        "street_postal_code": "3110",
        "street_country": "New Zealand",
    }
    assert {"Website", "BankAccountName", "SkypeName", "FaxNumber"} <= set(parsed.ignored_columns)


def test_columns_may_come_in_any_order_with_or_without_the_star():
    header = ["TaxNumber", "EmailAddress", "ContactName", "MobileNumber", "City"]
    data = xero_csv(
        [{"ContactName": "Tui Books", "MobileNumber": "021 1", "City": "Napier"}], header
    )
    (row,) = contacts_file_read(name="t.csv", data=data).rows
    assert row.values == {"name": "Tui Books", "phone": "021 1", "postal_city": "Napier"}


def test_rows_are_numbered_as_the_sheet_numbers_them_below_blank_lines():
    rows = [{"ContactName": "Tui"}, {"ContactName": "", "EmailAddress": "x@y.nz"}]
    data = b"\r\n\r\n" + xero_csv(rows, encoding="utf-8")
    parsed = contacts_file_read(name="x.csv", data=data)
    assert parsed.rows[0].row == 4 and parsed.problems[0].row == 5


def test_a_workbook_kept_as_csv_reads_the_same():
    data = xero_xlsx([BAYVIEW, {"ContactName": ""}])
    kept = contacts_file_as_csv(name="b.xlsx", data=data)
    assert not kept.startswith(b"PK")
    assert contacts_file_read(name="b.xlsx", data=kept) == contacts_file_read(
        name="b.xlsx", data=data
    )


def test_excel_numbers_are_read_as_text():
    data = xero_xlsx([{"ContactName": "Tui Books", "AccountNumber": 1001}])  # type: ignore[dict-item]
    (row,) = contacts_file_read(name="t.xlsx", data=data).rows
    assert row.values["account_number"] == "1001"


def test_rows_with_errors_are_listed_with_their_row_numbers():
    rows = [
        {"ContactName": "Aroha Gift Store", "AccountNumber": "C1"},
        {"ContactName": "", "EmailAddress": "nameless@example.nz"},
        {"ContactName": "Bad Email Ltd", "EmailAddress": "not an email"},
        {"ContactName": "aroha gift  store"},
        {"ContactName": "Other Name", "AccountNumber": "c1"},
        {"ContactName": "Long Tax Ltd", "TaxNumber": "9" * 51},
        {},
        {"ContactName": "Fine Ltd"},
    ]
    parsed = contacts_file_read(name="x.csv", data=xero_csv(rows))
    assert [row.values["name"] for row in parsed.rows] == ["Aroha Gift Store", "Fine Ltd"]
    assert [(p.row, p.message) for p in parsed.problems] == [
        (3, "Row 3 has no ContactName: every contact needs a name."),
        (4, "Row 4 has an EmailAddress that is not valid: “not an email”."),
        (5, "Row 5 repeats the ContactName “aroha gift  store” of row 2."),
        (6, "Row 6 repeats the AccountNumber “c1” of row 2."),
        (7, "Row 7 has a TaxNumber longer than 50 characters."),
    ]


def test_rows_that_are_not_utf8_are_refused_and_the_others_kept():
    rows = [{"ContactName": "Café Rangi"}, {"ContactName": "Plain Ltd"}]
    parsed = contacts_file_read(name="x.csv", data=xero_csv(rows, encoding="cp1252"))
    assert [row.values["name"] for row in parsed.rows] == ["Plain Ltd"]
    (problem,) = parsed.problems
    assert problem.row == 2 and "not UTF-8" in problem.message


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_a_utf16_file_as_excel_saves_unicode_text_is_read(delimiter):
    # Excel's "Unicode Text" and some "CSV" saves are UTF-16 with a byte order mark.
    text = f"*ContactName{delimiter}EmailAddress\r\nCafé Rangi{delimiter}kia@ora.nz\r\n"
    for encoding in ("utf-16", "utf-16-be"):
        data = ("\ufeff" + text).encode(encoding)
        parsed = contacts_file_read(name="unicode.txt", data=data)
        assert [row.values for row in parsed.rows] == [
            {"name": "Café Rangi", "email": "kia@ora.nz"}
        ]
        assert (
            contacts_file_read(
                name="unicode.txt", data=contacts_file_as_csv(name="unicode.txt", data=data)
            )
            == parsed
        )


def test_excel_dates_are_read_as_the_dates_they_show():
    data = xero_xlsx([{"ContactName": "Tui Books", "AccountNumber": datetime(2024, 1, 2)}])  # type: ignore[dict-item]
    (row,) = contacts_file_read(name="t.xlsx", data=data).rows
    assert row.values["account_number"] == "2024-01-02"


def test_utf8_names_are_read_as_written():
    (row,) = contacts_file_read(name="x.csv", data=xero_csv([{"ContactName": "Café Rangi"}])).rows
    assert row.values["name"] == "Café Rangi"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "The file is empty."),
        ("blank.csv", b"\r\n\r\n", "The file is empty."),
        ("header.csv", xero_csv([]), "The file has a header but no contacts."),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a spreadsheet"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Old Excel files"),
        ("fake.xlsx", b"Hello, world\n", "no ContactName column"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not an Excel workbook"),
        ("other.csv", b"Name,Email\nTui,t@t.nz\n", "no ContactName column"),
        ("cut.txt", b"\xff\xfe*\x00C\x00\x00\xd8", "begins as UTF-16 text but is damaged"),
        (
            "cut-later.txt",
            "\ufeff*ContactName\r\nTui\r\n".encode("utf-16-le") + b"\x00\xd8",
            "begins as UTF-16 text but is damaged",
        ),
        (
            "long-quoted-cell.csv",
            b'*ContactName\r\n"' + b"x" * 200_000 + b'"\r\n',
            "a cell longer than 32,767 characters",
        ),
    ],
)
def test_files_that_cannot_be_imported_say_why(name, data, message):
    with pytest.raises(ImportFileError, match=message):
        contacts_file_read(name=name, data=data)


def test_a_file_over_the_limit_is_refused_before_it_is_read():
    data = xero_csv([BAYVIEW]) + b" " * (50 * 1024 * 1024)
    with pytest.raises(ImportFileError, match="The file is 50 MB; the largest omni-xero imports"):
        contacts_file_read(name="big.csv", data=data)
    assert len(data) > MAX_BYTES


@pytest.mark.django_db
def test_rows_match_omni_contacts_by_account_number_then_by_exact_name():
    by_account = ContactFactory(name="Bayview Cafe", account_number="C1001")
    by_name = ContactFactory(name="Tui Books", account_number="")
    rows = [
        {"ContactName": "Bayview Cafe Ltd", "AccountNumber": "C1001", "EmailAddress": "a@b.nz"},
        {"ContactName": "TUI BOOKS", "AccountNumber": "", "EmailAddress": ""},
        {"ContactName": "Brand New Ltd"},
    ]
    file = contacts_file_read(name="x.csv", data=xero_csv(rows))
    plan = import_plan(file, customers=False, suppliers=True, details=DETAILS)
    (update_account, update_name) = plan.updates
    assert update_account.contact == by_account
    assert update_account.changes["name"] == ("Bayview Cafe", "Bayview Cafe Ltd")
    assert update_account.changes["is_supplier"] == ("no", "yes")
    assert update_name.contact == by_name and update_name.changes["name"] == (
        "Tui Books",
        "TUI BOOKS",
    )
    (new,) = plan.new
    assert new.contact.name == "Brand New Ltd" and new.contact.pk is None
    assert Contact.objects.count() == 2  # planning writes nothing


@pytest.mark.django_db
def test_a_row_matching_several_omni_contacts_is_an_error_not_a_guess():
    ContactFactory(name="Harbourside Deli", account_number="H1")
    ContactFactory(name="Harbourside Deli", account_number="H2")
    file = contacts_file_read(name="x.csv", data=xero_csv([{"ContactName": "Harbourside Deli"}]))
    plan = import_plan(file, customers=True, suppliers=False)
    assert plan.rows == []
    assert plan.problems[0].message.startswith("Row 2 matches 2 Omni contacts (Harbourside Deli)")


@pytest.mark.django_db
def test_applying_a_plan_creates_and_updates_and_keeps_blank_cells_from_erasing():
    kept = ContactFactory(name="Bayview Cafe", account_number="C1001", phone="09 1", email="x@y.nz")
    rows = [
        {"ContactName": "Bayview Cafe", "AccountNumber": "C1001", "EmailAddress": "new@b.nz"},
        {"ContactName": "Fresh Ltd", "EmailAddress": "f@fresh.nz"},
    ]
    file = contacts_file_read(name="x.csv", data=xero_csv(rows))
    import_apply(import_plan(file, customers=True, suppliers=False, details=DETAILS))
    kept.refresh_from_db()
    assert (kept.email, kept.phone) == ("new@b.nz", "09 1")
    assert kept.details_fingerprint == kept.fingerprint()
    fresh = Contact.objects.get(name="Fresh Ltd")
    assert (fresh.is_customer, fresh.is_supplier, fresh.email) == (True, False, "f@fresh.nz")
