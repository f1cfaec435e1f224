"""Spreadsheets in the layout of Xero's contacts export, made in the tests as Xero makes them."""

import csv
import io

import openpyxl

# Xero's export columns, in its order (the required one starred).
HEADER = [
    "*ContactName",
    "AccountNumber",
    "EmailAddress",
    "FirstName",
    "LastName",
    "POAttentionTo",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "SAAttentionTo",
    "SAAddressLine1",
    "SAAddressLine2",
    "SAAddressLine3",
    "SAAddressLine4",
    "SACity",
    "SARegion",
    "SAPostalCode",
    "SACountry",
    "PhoneNumber",
    "FaxNumber",
    "MobileNumber",
    "DDINumber",
    "SkypeName",
    "BankAccountName",
    "BankAccountNumber",
    "BankAccountParticulars",
    "TaxNumber",
    "AccountsReceivableTaxCodeName",
    "AccountsPayableTaxCodeName",
    "Website",
    "Discount",
]


def _table(rows: list[dict[str, str]], header: list[str] | None) -> list[list[str]]:
    header = header or HEADER
    return [header] + [[row.get(column.lstrip("*"), "") for column in header] for row in rows]


def xero_csv(
    rows: list[dict[str, str]], header: list[str] | None = None, encoding: str = "utf-8-sig"
) -> bytes:
    """The CSV Xero exports (UTF-8 with a byte order mark)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(_table(rows, header))
    return out.getvalue().encode(encoding)


def xero_xlsx(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Contacts"
    for line in _table(rows, header):
        sheet.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


BAYVIEW = {
    "ContactName": "Bayview Cafe Ltd",
    "AccountNumber": "C1001",
    "EmailAddress": "accounts@bayviewcafe.co.nz",
    "FirstName": "Aroha",
    "LastName": "Ngata",
    "POAddressLine1": "PO Box 412",
    "POAddressLine2": "Level 2",
    "POAddressLine3": "Harbour House",
    "POCity": "Tauranga",
    "PORegion": "Bay of Plenty",
    "POPostalCode": "3110",
    "POCountry": "New Zealand",
    "SAAddressLine1": "18 Marine Parade",
    "SACity": "Tauranga",
    "SAPostalCode": "3110",
    "SACountry": "New Zealand",
    "PhoneNumber": "07 578 1234",
    "MobileNumber": "021 555 0101",
    "TaxNumber": "123-456-789",
    "Website": "https://bayviewcafe.co.nz",
    "BankAccountName": "Bayview Cafe",
}
