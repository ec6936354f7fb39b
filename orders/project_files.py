"""Planning system files: Parquet and CSV readers that yield one dict per row, and the
import of one file. Rows are numbered from 1 in file order (a CSV's header row is not
counted). Column names are matched loosely: " Project ID" reads as project_id."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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


@dataclass
class RowSource:
    columns: list[str]
    rows: Iterator[dict]
    total: int | None = None


def column_name(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(header).strip().lower())


@contextmanager
def open_rows(path: Path, *, batch_rows: int = READ_BATCH_ROWS):
    """The rows of a .parquet or .csv file, read a record batch (or a line) at a time."""
    path = Path(path)
    readers = {".parquet": _parquet_rows, ".csv": _csv_rows}
    suffix = path.suffix.lower()
    if suffix not in readers:
        raise ProjectFileError(
            f"{path.name}: unknown file type {suffix or '(none)'}; use .parquet or .csv."
        )
    if not path.is_file():
        raise ProjectFileError(f"{path}: no such file.")
    with readers[suffix](path, batch_rows) as source:
        yield source


@contextmanager
def _parquet_rows(path: Path, batch_rows: int):
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ProjectFileError(f"{path.name}: not a readable Parquet file ({exc}).") from exc
    columns = [column_name(name) for name in parquet.schema_arrow.names]

    def rows() -> Iterator[dict]:
        read = 0
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows):
                for row in batch.rename_columns(columns).to_pylist():
                    read += 1
                    yield row
        except (pa.ArrowException, OSError) as exc:
            raise ProjectFileError(f"{path.name}: unreadable after row {read} ({exc}).") from exc

    try:
        yield RowSource(columns=columns, rows=rows(), total=parquet.metadata.num_rows)
    finally:
        parquet.close()


@contextmanager
def _csv_rows(path: Path, batch_rows: int):
    with path.open(newline="", encoding="utf-8-sig") as file:
        try:
            reader = csv.reader(file)
            header = next(reader, [])
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ProjectFileError(f"{path.name}: unreadable header ({exc}).") from exc
        columns = [column_name(name) for name in header]

        def rows() -> Iterator[dict]:
            read = 0
            try:
                for values in reader:
                    if not any(value.strip() for value in values):
                        continue
                    read += 1
                    yield dict(zip(columns, values, strict=False))
            except (UnicodeDecodeError, csv.Error) as exc:
                raise ProjectFileError(
                    f"{path.name}: unreadable after row {read} ({exc})."
                ) from exc

        yield RowSource(columns=columns, rows=rows())


def import_project_file(
    path: Path,
    *,
    actor: Actor,
    counts: JobCounts | None = None,
    batch_size: int = 1000,
    on_start: Callable[[int | None], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Upsert the projects of one file. A file without the required columns is refused
    whole; rows with problems are reported and the others imported."""
    path = Path(path)
    with open_rows(path) as source:
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
        )
    if counts is not None:
        counts.detail["rows"] = result.rows
        counts.detail["invalid_rows"] = [o.as_dict() for o in result.invalid[:INVALID_IN_DETAIL]]
    return result
