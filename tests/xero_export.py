"""Spreadsheets in the layout of Xero's contacts export, made in the tests as Xero makes them."""

import csv
import io
import zipfile

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


# --- Hostile workbooks, built part by part as a zip of XML strings ---------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006"
PARTS = {
    "[Content_Types].xml": (
        f'<Types xmlns="{PACKAGE}/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{PACKAGE}/relationships"><Relationship Id="rId1" '
        f'Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
        '<sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{PACKAGE}/relationships">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>'
    ),
}


def inline(ref: str, text: str) -> str:
    """A cell holding its text in the sheet itself."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


HEADER_ROW = row(1, inline("A1", "*ContactName"), inline("B1", "EmailAddress"))


def sheet_xml(rows: str, dimension: str = "A1:B2", doctype: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<worksheet xmlns="{MAIN}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    )


def shared_xml(*strings: str, doctype: str = "") -> str:
    items = "".join(f"<si><t>{text}</t></si>" for text in strings)
    return f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<sst xmlns="{MAIN}">{items}</sst>'


def workbook_zip(
    sheet: str | bytes, shared: str | bytes = "", extra: dict[str, str] | None = None
) -> bytes:
    """A workbook of one sheet made of the given XML (and any extra parts, by name),
    compressed as Excel does."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared or shared_xml())
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    return out.getvalue()


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") if n > 1 else "&lol;"}'
        f'{("&lol" + str(n - 1) + ";") * 9 if n > 1 else "&lol;" * 9}">'
        for n in range(1, 10)
    )
    + "]>"
)


def dimension_bomb() -> bytes:
    """Declares A1:XFD1048576 and holds one cell, the last."""
    return workbook_zip(
        sheet_xml(HEADER_ROW + row(1048576, inline("XFD1048576", "x")), "A1:XFD1048576")
    )


def huge_shared_cell(size: int) -> bytes:
    """One contact whose name, a shared string, is `size` characters."""
    return workbook_zip(
        sheet_xml(HEADER_ROW + row(2, '<c r="A2" t="s"><v>0</v></c>')), shared_xml("x" * size)
    )


def huge_inline_cell(size: int) -> bytes:
    return workbook_zip(sheet_xml(HEADER_ROW + row(2, inline("A2", "x" * size))))


def zip_bomb(size: int) -> bytes:
    """A sheet padded with `size` bytes of spaces (that pack a thousandfold)."""
    return workbook_zip(sheet_xml(HEADER_ROW + " " * size + row(2, inline("A2", "Tui Books"))))


def too_many_columns(columns: int = 16_384) -> bytes:
    from openpyxl.utils import get_column_letter

    header = "".join(inline(f"{get_column_letter(n)}1", f"Extra{n}") for n in range(2, columns))
    return workbook_zip(
        sheet_xml(row(1, inline("A1", "*ContactName"), header) + row(2, inline("A2", "Tui")))
    )


def too_many_rows(contacts: int) -> bytes:
    """`contacts` rows under the header, declaring every column Excel has."""
    rows = "".join(row(n, inline(f"A{n}", f"Contact {n}")) for n in range(2, contacts + 2))
    return workbook_zip(sheet_xml(HEADER_ROW + rows, f"A1:XFD{contacts + 1}"))


def truncated_sheet() -> bytes:
    whole = sheet_xml(HEADER_ROW + row(2, inline("A2", "Tui Books")))
    return workbook_zip(whole[: len(whole) // 2])


def external_entity() -> bytes:
    doctype = '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return workbook_zip(sheet_xml(HEADER_ROW + row(2, inline("A2", "&xxe;")), doctype=doctype))


def billion_laughs() -> bytes:
    shared = shared_xml("&lol9;", doctype=LAUGHS.replace("lolz", "sst"))
    return workbook_zip(sheet_xml(HEADER_ROW + row(2, '<c r="A2" t="s"><v>0</v></c>')), shared)


def styles_bomb(formats: int) -> bytes:
    """A contact whose workbook declares `formats` cell formats: openpyxl builds them all, at
    about a kilobyte each, from a part that packs a thousandfold."""
    formats_xml = f'<cellXfs count="{formats}">{"<xf/>" * formats}</cellXfs>'
    styles = f'<styleSheet xmlns="{MAIN}">{formats_xml}</styleSheet>'
    return workbook_zip(
        sheet_xml(HEADER_ROW + row(2, inline("A2", "Tui Books"))), extra={"xl/styles.xml": styles}
    )


def many_shared_strings(count: int) -> bytes:
    """A contact in a workbook whose shared strings are `count` tiny texts: each costs openpyxl
    some 160 bytes however short, and the part stays far below its size limit."""
    items = "".join(f"<si><t>{n}</t></si>" for n in range(count))
    shared = f'<sst xmlns="{MAIN}">{items}</sst>'
    return workbook_zip(sheet_xml(HEADER_ROW + row(2, '<c r="A2" t="s"><v>0</v></c>')), shared)


def csv_with_nul(after: int = 8192) -> bytes:
    """Xero's CSV, well past `after` bytes, then a row whose name holds a NUL."""
    rows = [{"ContactName": f"Contact {n}"} for n in range(after // 10)]
    return xero_csv([*rows, {"ContactName": "Tui\x00Books"}])
