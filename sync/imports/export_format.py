"""Xero's contacts export as a django-import-export format, read and checked by xero_import.

The dataset it makes holds one line per spreadsheet row that has anything in it: the row's
number as the spreadsheet numbers it, the row's problems (blank for a good row) and the Omni
fields xero_import read from it. `contacts_file_of` turns it back into what xero_import
plans from, so the admin's import follows the same rules as the dashboard's.
"""

import tablib
from import_export.formats.base_formats import Format

from sync.imports.xero_export import (
    JOINED,
    SOURCES,
    ContactsFile,
    FileRow,
    RowProblem,
    contacts_file_read,
)

ROW = "row"
PROBLEMS = "problems"
FIELDS = [*SOURCES, *JOINED]


def contacts_dataset(file: ContactsFile) -> tablib.Dataset:
    problems: dict[int, list[str]] = {}
    for problem in file.problems:
        problems.setdefault(problem.row, []).append(problem.message)
    lines = [(row.row, "", *(row.values.get(name, "") for name in FIELDS)) for row in file.rows]
    lines += [(row, "\n".join(found), *([""] * len(FIELDS))) for row, found in problems.items()]
    return tablib.Dataset(*sorted(lines), headers=[ROW, PROBLEMS, *FIELDS])


def contacts_file_of(dataset: tablib.Dataset) -> ContactsFile:
    """The checked rows a contacts_dataset holds, as contacts_file_read gave them."""
    rows, problems = [], []
    for line in dataset.dict:
        number = int(line[ROW])
        if line[PROBLEMS]:
            problems += [RowProblem(number, text) for text in line[PROBLEMS].split("\n")]
        else:
            rows.append(FileRow(number, {name: line[name] for name in FIELDS if line[name]}))
    return ContactsFile(rows, problems, ignored_columns=[])


class XeroContactsExport(Format):  # type: ignore[misc]
    """The CSV or XLSX file Xero's Contacts → Export gives; import only."""

    def __init__(self, encoding: str | None = None) -> None:
        self.encoding = encoding  # import-export passes one; the file's bytes are read as such

    def get_title(self) -> str:
        return "Xero contacts export (CSV or XLSX)"

    def create_dataset(self, in_stream: bytes | str) -> tablib.Dataset:
        """Raises xero_import.ImportFileError when no part of the file can be used."""
        data = in_stream.encode() if isinstance(in_stream, str) else in_stream
        return contacts_dataset(contacts_file_read(name="", data=data))

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def get_extension(self) -> str:
        return "csv"

    def get_content_type(self) -> str:
        return "text/csv"

    def can_import(self) -> bool:
        return True

    def can_export(self) -> bool:
        return False
