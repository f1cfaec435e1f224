"""The rows of an XLSX workbook's first sheet, read in bounded memory and time whatever the
file holds (a zip bomb, a sheet that declares a million rows, one huge cell, entities).

A workbook is a zip of XML parts, and openpyxl trusts both. So before openpyxl opens it, the
zip's directory is checked (how many parts, how much they unpack to, how far each is
compressed), and every XML part is run through expat in small pieces: a document type (where
entities and their expansion live) is refused, and so is any text longer than a cell may
hold or any tag that keeps growing; a part openpyxl builds whole (the styles) may hold only
so many elements, and the shared strings only so many texts. Python's zipfile never gives
more of a part than the size its directory declares (it stops there, then fails the part's
CRC check), so the declared sizes are a true bound. openpyxl then streams the first sheet in
read-only mode, its declared dimension ignored, at most MAX_COLUMNS + 1 cells a row.

Every failure is a WorkbookError whose `limit` says which bound was passed, or none when the
file is simply not a workbook that can be read; xero_export words them for the accountant.
"""

import io
import zipfile
import zlib
from collections.abc import Iterator
from xml.parsers import expat

MAX_COLUMNS = 100  # Xero's contacts export has 36
MAX_CELL = 32_767  # characters: Excel's own limit for a cell
SHEET_ROWS = 1_048_576  # Excel's last row
MAX_PARTS = 200  # a workbook Xero or Excel writes has about a dozen
MAX_UNPACKED = 100 * 2**20  # all parts together; 50,000 contacts in Xero's layout unpack to ~45 MB
MAX_SHARED_STRINGS = 32 * 2**20  # openpyxl holds this part whole in memory
# openpyxl keeps each shared string at ~150 bytes however short it is: 300,000 (six texts of
# each of 50,000 contacts) cost ~45 MB, where a 30 MB part of tiny ones cost 140 MB.
MAX_SHARED_ITEMS = 300_000
MAX_RATIO = 100  # unpacked / packed, for parts over RATIO_FROM (Apache POI's bound)
RATIO_FROM = 2**20
# Elements of a part openpyxl builds whole into objects (the styles above all), each costing
# about a kilobyte: 20,000 cell formats are ~20 MB, where Excel writes a few dozen.
MAX_ELEMENTS = 20_000
MAX_TOKEN = 2**20  # bytes of one XML tag, comment or declaration not yet parsed
CHUNK = 64 * 1024


class WorkbookError(Exception):
    """The workbook cannot be read; `limit` names the bound it passes, if any."""

    def __init__(self, limit: str = "") -> None:
        super().__init__(limit or "unreadable")
        self.limit = limit


# What openpyxl, zipfile, zlib and the XML parser raise on a damaged or hand-made file.
# SyntaxError covers ElementTree's ParseError; OSError covers zipfile's reads and seeks.
READ_ERRORS = (
    SyntaxError,
    expat.ExpatError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    NotImplementedError,  # zipfile: a compression method it does not know
    RecursionError,
)


def _parts_check(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise WorkbookError("unpacked")
    if sum(part.file_size for part in parts) > MAX_UNPACKED:
        raise WorkbookError("unpacked")
    for part in parts:
        if part.file_size > RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise WorkbookError("unpacked")
        if part.filename.endswith("sharedStrings.xml") and part.file_size > MAX_SHARED_STRINGS:
            raise WorkbookError("unpacked")
    return parts


def _column(ref: str) -> int:
    """A cell reference's column number: "C7" is 3."""
    number = 0
    for letter in ref.rstrip("0123456789").upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


class _Scan:
    """One XML part fed to expat in pieces: no document type, no text over MAX_CELL
    characters, no token over MAX_TOKEN bytes, and in a sheet no value right of column
    MAX_COLUMNS (which openpyxl, reading MAX_COLUMNS + 1 cells a row, would not see), in a
    part built whole no more than MAX_ELEMENTS elements. `started` once anything XML was seen."""

    def __init__(self, *, sheet: bool, whole: bool, shared: bool) -> None:
        self.parser = expat.ParserCreate()
        self.sheet = sheet
        self.elements = 0 if whole else None  # counted only where openpyxl builds them all
        self.strings = 0 if shared else None
        self.started = False
        self.text = 0  # characters of the text run under way
        self.seen = 0  # the byte where expat last reported something
        self.column = 0  # of the sheet's cell under way
        parser = self.parser
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        parser.CommentHandler = self._event
        parser.ProcessingInstructionHandler = self._event
        parser.XmlDeclHandler = self._event

    def _doctype(self, *args: object) -> None:
        raise WorkbookError()  # Excel writes none; entities (and their expansion) live here

    def _event(self, *args: object) -> None:
        self.started = True
        self.seen = self.parser.CurrentByteIndex

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self._event()
        self.text = 0
        if self.elements is not None:
            self.elements += 1
            if self.elements > MAX_ELEMENTS:
                raise WorkbookError("formatting")
        local = name.rpartition(":")[2]
        if self.strings is not None and local == "si":
            self.strings += 1
            if self.strings > MAX_SHARED_ITEMS:
                raise WorkbookError("strings")
        if not self.sheet:
            return
        if local == "row":
            self.column = 0
        elif local == "c":
            ref = attributes.get("r")
            self.column = _column(ref) if ref else self.column + 1
        elif local in ("v", "t") and self.column > MAX_COLUMNS:
            raise WorkbookError("columns")

    def _end(self, name: str) -> None:
        self._event()
        self.text = 0

    def _characters(self, data: str) -> None:
        self._event()
        self.text += len(data)
        if self.text > MAX_CELL:
            raise WorkbookError("cell")

    def feed(self, chunk: bytes, fed: int, final: bool = False) -> None:
        self.parser.Parse(chunk, final)
        if fed - self.seen > MAX_TOKEN:
            raise WorkbookError()  # a tag or comment a megabyte long is no spreadsheet's


def _xml_check(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    sheet = part.filename.startswith("xl/worksheets/")
    # openpyxl streams the sheet and keeps only the strings of sharedStrings.xml (bounded by
    # MAX_SHARED_STRINGS and MAX_SHARED_ITEMS); every other XML part it parses becomes a tree
    # of objects.
    shared = part.filename.endswith("sharedStrings.xml")
    scan, fed = _Scan(sheet=sheet, whole=not sheet and not shared, shared=shared), 0
    with archive.open(part) as stream:
        try:
            while chunk := stream.read(CHUNK):
                fed += len(chunk)
                scan.feed(chunk, fed)
            scan.feed(b"", fed, final=True)
        except expat.ExpatError:
            if scan.started:
                raise WorkbookError() from None
            # Not XML at all (a picture, a printer's settings): openpyxl parses no such part
            # as XML, and if it tries, it fails on it as expat did.


def _parts_scan(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part in _parts_check(archive):
            _xml_check(archive, part)


def _empty(value: object) -> bool:
    return value is None or value == ""


def workbook_rows(data: bytes) -> Iterator[list[object]]:
    """The first sheet's rows as openpyxl gives the cells' values, trailing empty cells cut
    (a blank row is []), numbered from row 1 without gaps; raise WorkbookError."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        _parts_scan(data)
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except WorkbookError:
        raise
    except (*READ_ERRORS, InvalidFileException):
        raise WorkbookError() from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared size may be A1:XFD1048576, or wrong
        number = 0
        for cells in sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True):
            number += 1
            if number > SHEET_ROWS:
                raise WorkbookError()
            if cells.count(None) == len(cells):
                yield []
                continue
            if not _empty(cells[-1]):
                raise WorkbookError("columns")
            values = list(cells)
            while values and _empty(values[-1]):
                values.pop()
            yield values
    except WorkbookError:
        raise
    except READ_ERRORS:
        raise WorkbookError() from None
    finally:
        workbook.close()
