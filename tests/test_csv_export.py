"""The one CSV writer: which cells it neutralises, by column."""

import csv
import io
from decimal import Decimal

import pytest

from sync.csv_export import csv_lines, text, value

COLUMNS = [text("name"), value("amount"), value("text amount"), value("date")]


def written(*rows):
    return list(csv.reader(io.StringIO("".join(csv_lines(COLUMNS, rows)))))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_persons_text_that_a_spreadsheet_would_run_gets_a_quote(start):
    header, row = written([f"{start}1+1", Decimal("-12.50"), "-12.50", "2026-12-01"])
    assert header == ["name", "amount", "text amount", "date"]
    assert row == [f"'{start}1+1", "-12.50", "-12.50", "2026-12-01"]


def test_text_that_starts_otherwise_is_written_as_it_is():
    (_header, row) = written(["Tui Books = best", 5, "5", ""])
    assert row == ["Tui Books = best", "5", "5", ""]


def test_a_row_with_a_cell_too_few_is_refused():
    with pytest.raises(ValueError):
        written(["Tui", 1, "1"])
