"""Downloads of back-office lists as CSV or Excel, streamed.

Every export goes through `csv_response` or `xlsx_response`: the caller gives a file
name, a header and an iterable of rows (tuples of str, int, date, datetime, bool or
None), read in chunks from the database, and the rows are written one by one, so the
memory an export takes does not grow with the number of rows:

- CSV is written in blocks of about 64 kB as the rows come;
- Excel is written with openpyxl's write-only workbook (rows go to a temporary file as
  they are appended) into a spooled temporary file, which is then sent in blocks.

A cell a spreadsheet would read as a formula (a text starting with =, +, -, @, tab or
carriage return) is neutralised: prefixed with a single quote in CSV, written as a
text cell in Excel. Times are written in the server's time zone (TIME_ZONE), which the
header of a time column names."""

from __future__ import annotations

import csv
import datetime
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": "CSV", "xlsx": "Excel"}

# Text starting with one of these is a formula (or starts one) in Excel, LibreOffice and
# Google Sheets when a CSV is opened (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BLOCK_SIZE = 64 * 1024
# The Excel file is built in memory up to this size, then in a temporary file on disk.
XLSX_IN_MEMORY = 4 * 1024 * 1024

Row = Sequence[object]


# --- File names -------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9]+")
NAME_PART_MAX = 40
NAME_MAX = 150


def _safe(text: str, limit: int = NAME_PART_MAX) -> str:
    """Runs of anything but ASCII letters and digits as one hyphen."""
    return _UNSAFE.sub("-", text).strip("-")[:limit].strip("-")


def export_filename(
    stem: str,
    extension: str,
    *,
    query: QueryDict | None = None,
    names: Iterable[str] = (),
    today: datetime.date | None = None,
) -> str:
    """`stem_name-value-value_..._YYYY-MM-DD.extension`, naming every filter among
    `names` that `query` sets, in letters, digits, hyphens and underscores only, e.g.
    orders_status-draft-approved_market-NYC_2026-12-03.csv."""
    parts = ["_".join(_safe(word, NAME_MAX) for word in stem.split("_"))]
    for name in names:
        values = [v for v in (query.getlist(name) if query else []) if v.strip()]
        if values:
            part = _safe(f"{name}-{'-'.join(values)}")
            if part:
                parts.append(part)
    day = (today or timezone.localdate()).isoformat()
    name = "_".join(parts)[: NAME_MAX - len(day) - len(extension) - 2].rstrip("-._")
    return f"{name}_{day}.{extension}"


def _attachment(response: HttpResponse | StreamingHttpResponse, filename: str) -> None:
    # The name holds only safe characters (export_filename), so it needs no escaping.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"


def time_header(label: str) -> str:
    """The header of a column of times: the label and the zone they are written in."""
    return f"{label} ({settings.TIME_ZONE})"


def _local(value: datetime.datetime) -> datetime.datetime:
    """An aware time as the naive time in TIME_ZONE (Excel has no time zones)."""
    if timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


# --- CSV --------------------------------------------------------------------------------


def csv_cell(value: object) -> object:
    """A value as CSV writes it: text a spreadsheet would run as a formula is prefixed
    with a single quote; times in TIME_ZONE to the second; booleans yes or no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Buffer:
    """What csv.writer writes into: the text of the rows since the last block."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def take(self) -> bytes:
        block = "".join(self.parts).encode("utf-8")
        self.parts.clear()
        self.size = 0
        return block


def csv_chunks(header: Row, rows: Iterable[Row]) -> Iterator[bytes]:
    """The CSV file in blocks of about BLOCK_SIZE bytes: a UTF-8 byte order mark (so
    Excel reads accents right), the header, then the rows as they come."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([csv_cell(v) for v in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        if buffer.size >= BLOCK_SIZE:
            yield buffer.take()
    yield buffer.take()


def csv_response(filename: str, header: Row, rows: Iterable[Row]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_chunks(header, rows), content_type=CSV_CONTENT_TYPE)
    _attachment(response, filename)
    return response


# --- Excel ------------------------------------------------------------------------------


def _xlsx_text(sheet: WriteOnlyWorksheet, value: str) -> Cell | str:
    """Text as a text cell: never a formula or an error code, without the control
    characters XML cannot hold."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith("=") or value in ERROR_CODES:
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    if isinstance(value, str):
        return _xlsx_text(sheet, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return _local(value)
    return value


_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\']+")


def xlsx_chunks(
    header: Row, rows: Iterable[Row], *, sheet_title: str = "Export"
) -> Iterator[bytes]:
    """The Excel workbook in blocks: one sheet, the header in bold and frozen above the
    rows. Built in full before its first block (a zip's directory comes last)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_SHEET_UNSAFE.sub(" ", sheet_title)[:31] or "Export")
    sheet.freeze_panes = "A2"
    for index, label in enumerate(header):
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(len(str(label)) + 2, 12)
    bold = Font(bold=True)
    header_cells = []
    for label in header:
        # openpyxl takes any value a cell can hold here; its stubs list fewer types.
        cell = WriteOnlyCell(sheet, _xlsx_cell(sheet, label))  # type: ignore[arg-type]
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    with tempfile.SpooledTemporaryFile(max_size=XLSX_IN_MEMORY) as file:
        workbook.save(file)
        file.seek(0)
        while block := file.read(BLOCK_SIZE):
            yield block


def xlsx_response(
    filename: str, header: Row, rows: Iterable[Row], *, sheet_title: str = "Export"
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        xlsx_chunks(header, rows, sheet_title=sheet_title), content_type=XLSX_CONTENT_TYPE
    )
    _attachment(response, filename)
    return response


def export_response(
    fmt: str, filename_stem: str, header: Row, rows: Iterable[Row], **name_parts: Any
) -> StreamingHttpResponse:
    """The CSV or Excel (`fmt`: csv or xlsx) download of the rows."""
    filename = export_filename(filename_stem, fmt, **name_parts)
    if fmt == "xlsx":
        return xlsx_response(filename, header, rows, sheet_title=filename_stem)
    return csv_response(filename, header, rows)


def export_urls(csv_name: str, xlsx_name: str, query: QueryDict, args: Sequence = ()) -> dict:
    """The links of a list's exports (URL names), with the list's filters, search and
    sort (`query`, without the page)."""
    suffix = f"?{query.urlencode()}" if query else ""
    return {
        "export_csv_url": reverse(csv_name, args=args) + suffix,
        "export_xlsx_url": reverse(xlsx_name, args=args) + suffix,
    }


# --- Refusals ---------------------------------------------------------------------------


def refused(
    request: HttpRequest, errors: Mapping[str, Sequence[str]], *, back: str
) -> HttpResponse:
    """400: the export was asked with filter values OMS does not accept; each parameter
    is named with what is wrong with it, nothing is exported, and `back` leads to the
    list with the same filters (which shows the same errors)."""
    problems = [(name, " ".join(str(m) for m in messages)) for name, messages in errors.items()]
    context = {"problems": problems, "back": back}
    return render(request, "oms/export_refused.html", context, status=400)
