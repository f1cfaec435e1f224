"""The one writer of the CSV files the app serves, safe to open in a spreadsheet."""

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, CSV Injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    title: str
    written_by_person: bool


def text(title: str) -> Column:
    """A column someone outside the app may have written: a name, a reference, an account
    or transaction number, a username, a message from Xero."""
    return Column(title, written_by_person=True)


def value(title: str) -> Column:
    """A column the app writes itself: its ids, dates and times, amounts, the labels of its
    choices. Left as it is, so that -12.50 stays a number."""
    return Column(title, written_by_person=False)


class _Echo:
    """A file that hands back what is written: csv.writer into a streaming response."""

    def write(self, line: str) -> str:
        return line


def csv_lines(columns: Sequence[Column], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header and the rows as CSV lines, one at a time (for a streaming response).

    Which cells are neutralised is decided by their column, never by what the cell looks
    like: in a `text` column a cell that starts with =, +, -, @, a tab or a carriage return
    gets a single quote in front (OWASP's advice), so the spreadsheet shows it as text and
    runs nothing, even when the text is "-5" (a person's "-5" is not the app's number). A
    `value` column is written as it is, so the app's own amounts and dates stay numbers.
    """
    writer = csv.writer(_Echo())
    yield writer.writerow([column.title for column in columns])
    for row in rows:
        yield writer.writerow(
            [
                _neutralised(cell) if column.written_by_person else cell
                for column, cell in zip(columns, row, strict=True)
            ]
        )


def _neutralised(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
