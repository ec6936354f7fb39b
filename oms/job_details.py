"""What a job run recorded, for a person to read: its counts in words (a dry run says
what it would have done), its detail as labelled fields, and its lists of rows as
tables. Each job writes its detail as plain JSON (oms.jobs); this module knows the
keys the jobs write and shows any other key readably too, never as Python's repr."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from oms.models import JobRun


@dataclass(frozen=True)
class Part:
    """A piece of a value: text, and where it links to, if anywhere."""

    text: str
    url: str = ""


@dataclass(frozen=True)
class Field:
    label: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


@dataclass
class JobReport:
    counts: str
    dry_run: bool
    fields: list[Field] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


# key -> (label, label in a dry run)
LABELS = {
    "file": ("File", "File"),
    "sha256": ("File checksum (SHA-256)", "File checksum (SHA-256)"),
    "duplicate_of": ("Same content as", "Same content as"),
    "imported_by_job_run": ("Imported before by", "Imported before by"),
    "outcome": ("Outcome", "Outcome"),
    "rows": ("Rows read", "Rows read"),
    "total_rows": ("Rows in the file", "Rows in the file"),
    "uploaded_by": ("Uploaded by", "Uploaded by"),
    "source": ("Sent by", "Sent by"),
    "events": ("Events in the batch", "Events in the batch"),
    "invalid": ("Events put in the dead letters", "Events put in the dead letters"),
    "allocation_run": ("Allocation run", "Allocation run"),
    "dry_run": ("Dry run", "Dry run"),
    "trigger": ("Started by", "Started by"),
    "eligible": ("Eligible orders", "Eligible orders"),
    "allocated": ("Orders allocated", "Orders that would be allocated"),
    "short": ("Orders short of stock", "Orders that would be short of stock"),
    "rejected": ("Orders rejected to draft", "Orders that would be rejected to draft"),
    "gated": ("Orders gated", "Orders gated"),
    "changed": ("Orders changed during the run", "Orders changed during the run"),
    "units_reserved": ("Units reserved", "Units that would be reserved"),
    "levels": ("Stock levels checked", "Stock levels checked"),
    "movements": ("Ledger movements", "Ledger movements"),
    "differences": ("Differences found", "Differences found"),
}
# Keys shown as tables, with their titles (any other list of objects is a table too).
TABLES = {
    "invalid_rows": "Rows with problems",
    "sample": "Differences between stock levels and the ledger",
    "unreadable_lines": "Lines that could not be read",
}
COUNTS = (
    ("created", "created", "would create"),
    ("modified", "modified", "would modify"),
    ("skipped", "skipped", "would skip"),
    ("failed", "failed", "failed"),
)


def counts_text(run: JobRun) -> str:
    """ "created 3, modified 0, skipped 1, failed 0"; a dry run says what it would have
    done and that nothing changed (and a count of 0 it would not have done is left out)."""
    if not run.dry_run:
        return ", ".join(f"{done} {getattr(run, key)}" for key, done, _ in COUNTS)
    would = [f"{words} {getattr(run, key)}" for key, _, words in COUNTS if getattr(run, key)]
    return f"{', '.join(would) or 'would change nothing'} — dry run, nothing changed"


def job_report(run: JobRun) -> JobReport:
    dry_run = run.dry_run
    report = JobReport(counts=counts_text(run), dry_run=dry_run)
    detail = run.detail if isinstance(run.detail, dict) else {"detail": run.detail}
    # The keys it knows in the order of LABELS (the database keeps its own order).
    order = {key: n for n, key in enumerate(LABELS)}
    for key, value in sorted(detail.items(), key=lambda kv: order.get(kv[0], len(order))):
        if key in TABLES or _is_rows(value):
            table = _table(key, value, run)
            if table is not None:
                report.tables.append(table)
            continue
        label = LABELS.get(key, (_words(key),) * 2)[1 if dry_run else 0]
        report.fields.append(Field(label, _parts(key, value)))
    return report


def _parts(key: str, value: object) -> tuple[Part, ...]:
    if key == "allocation_run" and _is_id(value):
        return (Part(f"Allocation run #{value}", _url("allocation:run", value)),)
    if key == "imported_by_job_run" and _is_id(value):
        return (Part(f"Job run #{value}", _url("job", value)),)
    if key == "invalid" and isinstance(value, list):
        return tuple(Part(str(v), _url("orders:design_event", str(v))) for v in value) or (
            Part("none"),
        )
    if key == "dry_run" and isinstance(value, bool):
        return (Part("yes: nothing was changed" if value else "no"),)
    if key == "trigger" and isinstance(value, str):
        return (Part(_words(value)),)
    if isinstance(value, list):
        return tuple(Part(_text(v)) for v in value) or (Part("none"),)
    if isinstance(value, dict):
        return tuple(Part(f"{_words(str(k))}: {_text(v)}") for k, v in value.items()) or (
            Part("none"),
        )
    if _is_id(value) or value == 0:
        return (Part(f"{value:,}"),)
    return (Part(_text(value)),)


def _table(key: str, value: object, run: JobRun) -> Table | None:
    title = TABLES.get(key, _words(key))
    if not isinstance(value, list) or not value:
        return None
    if key == "invalid_rows":
        return _invalid_rows(title, value, run)
    if key == "sample":
        columns = ("warehouse", "item", "field", "level", "ledger")
        heads = ("Warehouse", "Item", "Field", "Stock level says", "Ledger says")
        rows = [tuple(_text(d.get(c)) for c in columns) for d in value if isinstance(d, dict)]
        note = _kept_note(len(rows), run.detail.get("differences"), "differences")
        return Table(title, heads, rows, note)
    if all(not isinstance(v, dict | list) for v in value):
        return Table(title, (_words(key),), [(_text(v),) for v in value])
    keys = list(dict.fromkeys(k for v in value if isinstance(v, dict) for k in v))
    rows = [tuple(_text(v.get(k)) for k in keys) for v in value if isinstance(v, dict)]
    return Table(title, tuple(_words(k) for k in keys), rows)


def _invalid_rows(title: str, value: list, run: JobRun) -> Table:
    """One row per problem: row, project, field, problem."""
    rows: list[tuple[str, ...]] = []
    for row in value:
        if not isinstance(row, dict):
            rows.append(("", "", "", _text(row)))
            continue
        number, project = _text(row.get("row")), _text(row.get("project_id"))
        problems = row.get("problems") or [{}]
        for problem in problems if isinstance(problems, list) else [problems]:
            problem = problem if isinstance(problem, dict) else {"message": problem}
            rows.append(
                (
                    number,
                    project or "—",
                    _text(problem.get("field")) or "—",
                    _text(problem.get("message")) or "—",
                )
            )
    note = _kept_note(len(value), run.failed, "rows with problems")
    return Table(title, ("Row", "Project", "Field", "Problem"), rows, note)


def _kept_note(shown: int, total: object, what: str) -> str:
    if isinstance(total, int) and not isinstance(total, bool) and total > shown:
        return f"The first {shown} of the {total} {what} are kept here."
    return ""


def _is_rows(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _url(name: str, arg: object) -> str:
    try:
        return reverse(name, args=[arg])
    except NoReverseMatch:
        return ""


def _words(key: str) -> str:
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else key


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_words(str(k))}: {_text(v)}" for k, v in value.items())
    return str(value)
