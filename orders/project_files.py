"""Planning system files: Parquet and CSV readers that yield one dict per row, and the
import of one file. Rows are numbered from 1 in file order (a CSV's header row is not
counted). Column names are matched loosely: " Project ID" reads as project_id.

A file is refused whole when it holds more than OMS_IMPORT_MAX_ROWS rows or more than
OMS_IMPORT_MAX_BYTES of data once decompressed. Both are known before any row is
imported: a Parquet file's footer gives its row count and the uncompressed size of
every column chunk, checked before anything is decompressed; its text is then read
dictionary-encoded in batches, each counted with its values written out before any of
its rows is (a value repeated in every row is small in the footer and large once
written out). A CSV file is plain text, so its size on disk is its size, and its rows
are counted in one pass before importing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings

from oms.actors import Actor
from oms.errors import DomainError
from oms.jobs import JobCounts
from orders.project_import import REQUIRED_COLUMNS, ImportResult, upsert_projects

# File imports are job runs of this name, made by the planning system's actor.
JOB = "import_projects"
PLANNING_ACTOR = Actor.system("planning-import")
READ_BATCH_ROWS = 10_000
# How many invalid rows a job run's detail lists.
INVALID_IN_DETAIL = 20


class ProjectFileError(DomainError):
    """The file cannot be imported at all (unknown type, unreadable, columns missing)."""

    code = "invalid_file"


class FileTooLargeError(ProjectFileError):
    """The file holds more rows or more data than an import takes."""

    code = "file_too_large"


@dataclass(frozen=True)
class Limits:
    rows: int
    bytes: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(rows=settings.OMS_IMPORT_MAX_ROWS, bytes=settings.OMS_IMPORT_MAX_BYTES)

    def check_rows(self, name: str, rows: int) -> None:
        if rows > self.rows:
            raise FileTooLargeError(
                f"{name} has more than {self.rows:,} rows; split it into smaller files "
                f"(OMS_IMPORT_MAX_ROWS)."
            )

    def check_bytes(self, name: str, size: int) -> None:
        if size > self.bytes:
            raise FileTooLargeError(
                f"{name} holds more than {_mib(self.bytes)} of data once decompressed; "
                f"split it into smaller files (OMS_IMPORT_MAX_BYTES)."
            )


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"


@dataclass
class RowSource:
    columns: list[str]
    rows: Iterator[dict]
    total: int | None = None


def column_name(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(header).strip().lower())


def is_known_file_type(path: Path) -> bool:
    return Path(path).suffix.lower() in _READERS


@contextmanager
def open_rows(
    path: Path,
    *,
    file: BinaryIO | None = None,
    batch_rows: int = READ_BATCH_ROWS,
    limits: Limits | None = None,
):
    """The rows of a .parquet or .csv file, read a record batch (or a line) at a time.
    The file is opened by path unless an open binary file is given (the path then only
    names it)."""
    path = Path(path)
    limits = limits or Limits.from_settings()
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise ProjectFileError(
            f"{path.name}: unknown file type {suffix or '(none)'}; use .parquet or .csv."
        )
    if file is None:
        if not path.is_file():
            raise ProjectFileError(f"{path}: no such file.")
        with (
            path.open("rb") as opened,
            _READERS[suffix](path.name, opened, batch_rows, limits) as source,
        ):
            yield source
        return
    with _READERS[suffix](path.name, file, batch_rows, limits) as source:
        yield source


@contextmanager
def _parquet_rows(name: str, file: BinaryIO, batch_rows: int, limits: Limits):
    try:
        schema = pq.ParquetFile(file).schema_arrow
        file.seek(0)
        # Text columns stay dictionary-encoded while read, so that a value repeated in
        # every row is counted (below) before it is ever written out row by row.
        parquet = pq.ParquetFile(
            file,
            read_dictionary=[
                field.name
                for field in schema
                if pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
            ],
        )
    except (pa.ArrowException, OSError) as exc:
        raise ProjectFileError(f"{name}: not a readable Parquet file ({exc}).") from exc
    metadata = parquet.metadata
    limits.check_rows(name, metadata.num_rows)
    limits.check_bytes(name, _parquet_uncompressed_bytes(metadata))
    columns = [column_name(column) for column in schema.names]
    # Small batches when rows are wide, so that one batch stays a small part of the cap.
    per_row = _parquet_uncompressed_bytes(metadata) // max(metadata.num_rows, 1)
    batch_rows = max(1, min(batch_rows, limits.bytes // 16 // max(per_row, 1)))

    def rows() -> Iterator[dict]:
        read = decoded = 0
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows):
                decoded += _decoded_bytes(batch)
                limits.check_bytes(name, decoded)
                for row in _written_out(batch, columns).to_pylist():
                    read += 1
                    yield row
        except (pa.ArrowException, OSError) as exc:
            raise ProjectFileError(f"{name}: unreadable after row {read} ({exc}).") from exc

    try:
        yield RowSource(columns=columns, rows=rows(), total=metadata.num_rows)
    finally:
        parquet.close()


def _written_out(batch: pa.RecordBatch, columns: list[str]) -> pa.RecordBatch:
    """The batch with its dictionaries decoded (much faster to turn into rows)."""
    arrays = [
        column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, names=columns)


def _decoded_bytes(batch: pa.RecordBatch) -> int:
    """The batch's size with every value written out, counted without writing them out:
    a dictionary-encoded text column counts its values' lengths row by row."""
    total = 0
    for column in batch.columns:
        if pa.types.is_dictionary(column.type) and (
            pa.types.is_string(column.type.value_type)
            or pa.types.is_large_string(column.type.value_type)
        ):
            lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
            total += (pc.sum(lengths).as_py() or 0) + column.indices.nbytes
        elif pa.types.is_dictionary(column.type):
            total += column.dictionary_decode().get_total_buffer_size()
        else:
            total += column.get_total_buffer_size()
    return total


def _parquet_uncompressed_bytes(metadata: pq.FileMetaData) -> int:
    """The data's size once decompressed, from the footer alone."""
    total = 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        total += max(
            row_group.total_byte_size,
            sum(row_group.column(c).total_uncompressed_size for c in range(row_group.num_columns)),
        )
    return total


@contextmanager
def _csv_rows(name: str, file: BinaryIO, batch_rows: int, limits: Limits):
    limits.check_bytes(name, file.seek(0, io.SEEK_END))  # plain text: its size is its data
    file.seek(0)
    counted = _csv_row_count(name, file)
    limits.check_rows(name, counted)
    file.seek(0)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        try:
            header = next(reader, [])
        except csv.Error as exc:
            raise ProjectFileError(f"{name}: unreadable header ({exc}).") from exc
        columns = [column_name(column) for column in header]

        def rows() -> Iterator[dict]:
            read = 0
            try:
                for values in reader:
                    if not any(value.strip() for value in values):
                        continue
                    read += 1
                    yield dict(zip(columns, values, strict=False))
            except (UnicodeDecodeError, csv.Error) as exc:
                raise ProjectFileError(f"{name}: unreadable after row {read} ({exc}).") from exc

        yield RowSource(columns=columns, rows=rows(), total=counted)
    finally:
        text.detach()


def _csv_row_count(name: str, file: BinaryIO) -> int:
    """The rows after the header (blank lines not counted), in one pass that keeps
    nothing. A file that cannot be decoded is refused here, before any row is imported;
    a line the CSV reader cannot parse is counted and left to the import to report."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()

    def lines() -> Iterator[str]:
        for line in file:
            yield decoder.decode(line)
        yield decoder.decode(b"", final=True)

    reader, read = csv.reader(lines()), -1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return max(read, 0)
        except UnicodeDecodeError as exc:
            where = "header" if read < 0 else f"after row {read}"
            raise ProjectFileError(f"{name}: unreadable {where} ({exc}).") from exc
        except csv.Error:
            values = ["?"]
        if read == -1 or any(value.strip() for value in values):
            read += 1


_READERS = {".parquet": _parquet_rows, ".csv": _csv_rows}


def import_project_file(
    path: Path,
    *,
    actor: Actor,
    file: BinaryIO | None = None,
    counts: JobCounts | None = None,
    batch_size: int = 1000,
    on_start: Callable[[int | None], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    invalid_in_detail: int = INVALID_IN_DETAIL,
    dry_run: bool = False,
) -> ImportResult:
    """Upsert the projects of one file. A file without the required columns is refused
    whole, and so is one past the caps (OMS_IMPORT_MAX_ROWS, OMS_IMPORT_MAX_BYTES); rows
    with problems are reported and the others imported. The file is read from `file`
    when given (an open binary file), else opened by path. The job run's detail lists
    the first `invalid_in_detail` rows with problems. A dry run reads and checks the
    whole file and changes nothing."""
    path = Path(path)
    with open_rows(path, file=file) as source:
        missing = [c for c in REQUIRED_COLUMNS if c not in source.columns]
        if missing:
            raise ProjectFileError(f"{path.name}: no column {', '.join(missing)}.")
        if on_start is not None:
            on_start(source.total)
        result = upsert_projects(
            source.rows,
            actor=actor,
            reason=f"planning import: {path.name}",
            batch_size=batch_size,
            counts=counts,
            on_progress=on_progress,
            keep_outcomes=False,
            dry_run=dry_run,
        )
    if counts is not None:
        counts.detail["rows"] = result.rows
        counts.detail["invalid_rows"] = [o.as_dict() for o in result.invalid[:invalid_in_detail]]
    return result
