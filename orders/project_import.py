"""Project master data from the planning system: the one place that validates project
rows and upserts them, for bulk files, the drop folder and the API alike.

A row is a mapping of column names to values (strings from CSV and JSON, typed values
from Parquet). Required: project_id, site_code, market, plan_type. Optional: name,
region (must be the market's region), status (new projects default to active),
latitude and longitude (both or neither), and one date per milestone
(site_acquired_on ... on_air_on). A column left out keeps the stored value; an empty
value clears an optional field. A project appears once per import: a repeat is
reported, not applied.

Rows are written in batches with set-based queries: per batch one query loads the
existing projects, new ones are inserted with `bulk_create` and changed ones updated
with `bulk_update`, each with its history written in bulk, stamped with the actor, the
reason and the correlation id as every other historical record is.
"""

from __future__ import annotations

import datetime
import enum
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from itertools import islice
from typing import Annotated, Any, Literal

import msgspec
from django.db import IntegrityError, transaction
from django.utils import timezone
from msgspec import UNSET, Meta, UnsetType
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from oms import audit, correlation, untrusted
from oms.actors import Actor
from oms.errors import Problem
from oms.jobs import JobCounts
from orders.choices import Milestone, PlanType, ProjectStatus
from orders.gates import lift_gates
from orders.models import Market, Project

REQUIRED_COLUMNS = ("project_id", "site_code", "market", "plan_type")
MILESTONE_FIELDS = tuple(m.value for m in Milestone)
# How many invalid rows an import keeps with their problems (the rest are counted).
INVALID_KEPT = 1000

_ABSENT = object()
_INVALID = object()
_COORDINATE_PLACES = Decimal("0.000001")
_TEXT_COLUMNS = {"project_id": 40, "site_code": 40, "name": 200}


class Outcome(enum.StrEnum):
    CREATED = "created"
    MODIFIED = "modified"
    UNCHANGED = "unchanged"
    INVALID = "invalid"


# How each outcome is counted in a job run.
JOB_COUNT = {
    Outcome.CREATED: "created",
    Outcome.MODIFIED: "modified",
    Outcome.UNCHANGED: "skipped",
    Outcome.INVALID: "failed",
}


@dataclass(frozen=True)
class RowOutcome:
    row: int
    project_id: str
    outcome: Outcome
    problems: tuple[Problem, ...] = ()

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "project_id": self.project_id,
            "outcome": self.outcome.value,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class ImportResult:
    counts: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    # Every row's outcome in input order (kept only when asked for).
    outcomes: list[RowOutcome] = field(default_factory=list)
    # The first INVALID_KEPT invalid rows.
    invalid: list[RowOutcome] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


# --- Validation -------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _is_blank(value) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _plain(value):
    """A Python value from a pyarrow scalar; other values as they are."""
    return value.as_py() if hasattr(value, "as_py") else value


def _text(value, *, max_length: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Invalid("invalid_type", "must be text")
    text = str(value).strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise _Invalid("invalid_characters", "must not contain control characters")
    if reason := untrusted.text_problem(text):
        raise _Invalid("invalid_text", reason)
    if len(text) > max_length:
        raise _Invalid("too_long", f"must be at most {max_length} characters")
    return text


def _choice(value, *, choices) -> str:
    text = _text(value, max_length=40)
    if text not in choices.values:
        raise _Invalid("invalid_choice", f"{text!r} is not one of {', '.join(choices.values)}")
    return text


def _coordinate(value, *, limit: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _Invalid("invalid_type", "must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Invalid("invalid_number", f"{value!r} is not a number") from None
    if not number.is_finite():
        raise _Invalid("invalid_number", f"{value!r} is not a number")
    if not -limit <= number <= limit:
        raise _Invalid("out_of_range", f"must be between -{limit} and {limit}")
    return number.quantize(_COORDINATE_PLACES, rounding=ROUND_HALF_UP)


def _date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for parse in (datetime.date.fromisoformat, datetime.datetime.fromisoformat):
            try:
                parsed = parse(text)
            except ValueError:
                continue
            return parsed.date() if isinstance(parsed, datetime.datetime) else parsed
        raise _Invalid("invalid_date", f"{text!r} is not a date (YYYY-MM-DD)")
    raise _Invalid("invalid_type", "must be a date (YYYY-MM-DD)")


def milestone_problems(dates: Mapping[str, datetime.date | None]) -> list[Problem]:
    """Reached milestones in order: none dated before an earlier reached one."""
    problems, previous = [], None
    for milestone in Milestone:
        reached_on = dates.get(milestone.value)
        if reached_on is None:
            continue
        if previous is not None and reached_on < previous[1]:
            problems.append(
                Problem(
                    code="milestone_order",
                    field=milestone.value,
                    message=f"{milestone.label} ({reached_on}) is before "
                    f"{previous[0].label.lower()} ({previous[1]}).",
                )
            )
        else:
            previous = (milestone, reached_on)
    return problems


# --- A plain row, in one conversion ------------------------------------------------------
# A row as Parquet (or the API, without blanks) gives it: text without surrounding
# spaces or control characters, choices as they are, coordinates as numbers, dates as
# dates or YYYY-MM-DD, None for a blank. It is read by one msgspec conversion into a
# ProjectRow; any other row is read column by column (_row_by_columns), which gives the
# same values and says what is wrong.


def _text_type(max_length: int) -> Any:
    return Annotated[str, Meta(min_length=1, max_length=max_length)]


def _optional(kind) -> Any:
    return kind | None | UnsetType


ProjectRow = msgspec.defstruct(
    "ProjectRow",
    [
        ("project_id", _text_type(40)),
        ("site_code", _text_type(40)),
        ("market", _text_type(20)),
        ("plan_type", Literal[tuple(PlanType.values)]),
        ("name", _optional(_text_type(200)), UNSET),
        ("region", _optional(_text_type(20)), UNSET),
        ("status", _optional(Literal[tuple(ProjectStatus.values)]), UNSET),
        ("latitude", _optional(Annotated[float, Meta(ge=-90, le=90)]), UNSET),
        ("longitude", _optional(Annotated[float, Meta(ge=-180, le=180)]), UNSET),
        *((column, _optional(datetime.date), UNSET) for column in MILESTONE_FIELDS),
    ],
    kw_only=True,
    frozen=True,
    gc=False,
    module=__name__,
)
_NUMBERS = (float, int)


def _plain_row(
    raw: dict, markets: Mapping[str, Market]
) -> tuple[dict | None, list[Problem]] | None:
    """The row's values, or its problems between columns, when the row is plain; else
    None."""
    try:
        row = msgspec.convert(raw, ProjectRow)
    except (msgspec.ValidationError, ValueError, TypeError, ArithmeticError):
        return None  # a signalling NaN Decimal does not even convert
    texts = [row.project_id, row.site_code, row.market]
    texts += [t for t in (row.name, row.region) if isinstance(t, str)]
    joined = "".join(texts)
    if (
        list(map(str.strip, texts)) != texts
        or not (joined.isascii() and joined.isprintable())
        or "/" in row.project_id
    ):
        return None
    coordinates = {"latitude": row.latitude, "longitude": row.longitude}
    numbers = [raw[name] for name, v in coordinates.items() if v is not None and v is not UNSET]
    if any(type(number) not in _NUMBERS for number in numbers):
        return None  # a Decimal, say: read as it is written, column by column
    problems: list[Problem] = []
    values: dict = {"external_id": row.project_id, "site_code": row.site_code}
    if row.name is not UNSET:
        values["name"] = row.name or ""
    region = row.region if isinstance(row.region, str) else None
    market = _market_of(row.market, region, markets, problems)
    if market is not None:
        values["market"] = market
    values["plan_type"] = row.plan_type
    if isinstance(row.status, str):
        values["status"] = row.status
    if any(v is not UNSET for v in coordinates.values()):
        given = {
            name: None if v is None or v is UNSET else _coordinate(raw[name], limit=limit)
            for (name, v), limit in zip(coordinates.items(), (90, 180), strict=True)
        }
        _pair_coordinates(given, values, problems)
    for column in MILESTONE_FIELDS:
        reached_on = getattr(row, column)
        if reached_on is not UNSET:
            values[column] = reached_on
    problems += milestone_problems(values)
    return (None, problems) if problems else (values, [])


def _market_of(code: str, region: str | None, markets, problems: list) -> Market | None:
    """The market of the code, if it is known and in the region given."""
    market = markets.get(code)
    if market is None:
        problems.append(
            Problem(code="unknown", field="market", message=f"Unknown market {code!r}.")
        )
        return None
    if region is not None and region != market.region.code:
        problems.append(
            Problem(
                code="region_mismatch",
                field="region",
                message=f"Market {market.code} is in region {market.region.code}, not {region}.",
            )
        )
        return None
    return market


def _pair_coordinates(given: dict, values: dict, problems: list) -> None:
    """Latitude and longitude come together: both given, or both cleared."""
    if (given["latitude"] is None) != (given["longitude"] is None):
        missing = "latitude" if given["latitude"] is None else "longitude"
        problems.append(
            Problem(
                code="coordinates_incomplete",
                field=missing,
                message="Give both latitude and longitude, or neither.",
            )
        )
        return
    values.update(given)


def validate_row(raw: Mapping, markets: Mapping[str, Market]) -> tuple[dict | None, list[Problem]]:
    """Check one row. Returns the model field values (for the columns given) and no
    problems, or None and what is wrong, field by field."""
    if type(raw) is dict and (plain := _plain_row(raw, markets)) is not None:
        return plain
    return _row_by_columns(raw, markets)


def _row_by_columns(
    raw: Mapping, markets: Mapping[str, Market]
) -> tuple[dict | None, list[Problem]]:
    """validate_row for any row: column by column, every problem reported."""
    if not isinstance(raw, Mapping):
        return None, [Problem(code="invalid_type", message="A project is an object of columns.")]
    problems: list[Problem] = []
    values: dict = {}

    def take(column: str, parse: Callable, *, required: bool = False):
        """The parsed value, None when blank, _ABSENT or _INVALID (reported)."""
        value = _plain(raw[column]) if column in raw else _ABSENT
        if isinstance(value, untrusted.OutOfRange):
            problems.append(
                Problem(code="out_of_range", field=column, message=f"{column} is out of range.")
            )
            return _INVALID
        if value is _ABSENT or _is_blank(value):
            if required:
                problems.append(
                    Problem(code="required", field=column, message=f"{column} is required.")
                )
                return _INVALID
            return None if value is not _ABSENT else _ABSENT
        try:
            return parse(value)
        except _Invalid as exc:
            problems.append(
                Problem(code=exc.code, field=column, message=f"{column} {exc.message}.")
            )
            return _INVALID

    for column, max_length in _TEXT_COLUMNS.items():
        text = take(column, partial(_text, max_length=max_length), required=column != "name")
        if text not in (_ABSENT, _INVALID):
            values["external_id" if column == "project_id" else column] = text or ""
    if "/" in values.get("external_id", ""):
        problems.append(
            Problem(
                code="invalid_characters", field="project_id", message="project_id has a slash."
            )
        )

    code = take("market", partial(_text, max_length=20), required=True)
    region = take("region", partial(_text, max_length=20))
    if isinstance(code, str):
        market = _market_of(code, region if isinstance(region, str) else None, markets, problems)
        if market is not None:
            values["market"] = market

    for column, choices in (("plan_type", PlanType), ("status", ProjectStatus)):
        choice = take(column, partial(_choice, choices=choices), required=column == "plan_type")
        if isinstance(choice, str):
            values[column] = choice

    _take_coordinates(raw, take, values, problems)

    for column in MILESTONE_FIELDS:
        reached_on = take(column, _date)
        if reached_on not in (_ABSENT, _INVALID):
            values[column] = reached_on
    problems += milestone_problems(values)
    return (None, problems) if problems else (values, [])


def _take_coordinates(raw: Mapping, take: Callable, values: dict, problems: list) -> None:
    """Latitude and longitude come together: both given, or both cleared."""
    given = {
        "latitude": take("latitude", partial(_coordinate, limit=90)),
        "longitude": take("longitude", partial(_coordinate, limit=180)),
    }
    if _INVALID in given.values() or all(v is _ABSENT for v in given.values()):
        return
    _pair_coordinates(
        {name: None if v is _ABSENT else v for name, v in given.items()}, values, problems
    )


def project_id_of(raw: Mapping) -> str:
    """The row's project id as given, for reporting."""
    value = _plain(raw.get("project_id")) if isinstance(raw, Mapping) else None
    return untrusted.printable(str(value).strip()[:100]) if isinstance(value, str | int) else ""


# --- Upsert -----------------------------------------------------------------------------


def markets_by_code() -> dict[str, Market]:
    return {m.code: m for m in Market.objects.select_related("region")}


def upsert_projects(
    rows: Iterable[Mapping],
    *,
    actor: Actor,
    reason: str = "planning import",
    batch_size: int = 1000,
    counts: JobCounts | None = None,
    on_progress: Callable[[int], None] | None = None,
    keep_outcomes: bool = True,
    dry_run: bool = False,
) -> ImportResult:
    """Create or update projects from rows (numbered from 1 in the order given).

    Invalid rows are reported and skipped; the others are written, one transaction per
    batch. Orders gated on a milestone that a project now reached are released. The
    job counts, when given, grow batch by batch; `on_progress` gets each batch's size.
    A dry run checks every row against the stored projects the same way and reports
    the same outcomes, and writes nothing (no project, no history, no gate lifted).
    """
    for perm in ("orders.add_project", "orders.change_project"):
        actor.require(perm, "create or change projects")
    markets = markets_by_code()
    seen: dict[str, int] = {}
    result = ImportResult()
    numbered = enumerate(rows, start=1)
    while batch := list(islice(numbered, batch_size)):
        for outcome in _import_batch(batch, markets, seen, actor, reason, dry_run=dry_run):
            result.counts[outcome.outcome] += 1
            if counts is not None:
                counts.add(JOB_COUNT[outcome.outcome])
            if keep_outcomes:
                result.outcomes.append(outcome)
            if outcome.outcome == Outcome.INVALID and len(result.invalid) < INVALID_KEPT:
                result.invalid.append(outcome)
        if on_progress is not None:
            on_progress(len(batch))
    return result


@dataclass
class _Plan:
    new: list[Project] = field(default_factory=list)
    changed: list[Project] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)
    reached: list[int] = field(default_factory=list)
    outcomes: dict[int, RowOutcome] = field(default_factory=dict)


def _import_batch(
    batch, markets, seen, actor: Actor, reason: str, *, dry_run: bool = False
) -> Iterator[RowOutcome]:
    outcomes: dict[int, RowOutcome] = {}
    valid: list[tuple[int, dict]] = []
    for number, raw in batch:
        values, problems = validate_row(raw, markets)
        if values is not None and values["external_id"] in seen:
            first = seen[values["external_id"]]
            problems = [
                Problem(
                    code="duplicate",
                    field="project_id",
                    message=f"Project {values['external_id']} is already in row {first}.",
                )
            ]
        if problems:
            outcomes[number] = RowOutcome(
                number, project_id_of(raw), Outcome.INVALID, tuple(problems)
            )
            continue
        seen[values["external_id"]] = number
        valid.append((number, values))
    if valid and dry_run:
        existing = Project.objects.filter(external_id__in=[v["external_id"] for _, v in valid])
        outcomes.update(_plan(valid, {p.external_id: p for p in existing}).outcomes)
    elif valid:
        plan = _write(valid, actor, reason)
        outcomes.update(plan.outcomes)
        if plan.reached:
            lift_gates(plan.reached, actor)
    return (outcomes[number] for number, _ in batch)


def _write(valid: list[tuple[int, dict]], actor: Actor, reason: str) -> _Plan:
    try:
        return _write_once(valid, actor, reason)
    except IntegrityError:
        # Someone else created one of the new projects meanwhile: plan the batch again.
        return _write_once(valid, actor, reason)


def _write_once(valid: list[tuple[int, dict]], actor: Actor, reason: str) -> _Plan:
    ids = [values["external_id"] for _, values in valid]
    with transaction.atomic(), audit.acting(actor, reason=reason):
        locked = Project.objects.select_for_update().filter(external_id__in=ids).order_by("pk")
        plan = _plan(valid, {p.external_id: p for p in locked})
        _save(plan, actor, reason)
    return plan


def _plan(valid: list[tuple[int, dict]], existing: dict[str, Project]) -> _Plan:
    plan = _Plan()
    for number, values in valid:
        external_id = values["external_id"]
        project = existing.get(external_id)
        if project is None:
            plan.new.append(Project(**values))
            plan.outcomes[number] = RowOutcome(number, external_id, Outcome.CREATED)
            continue
        changed = {name for name, value in values.items() if _differs(project, name, value)}
        if not changed:
            plan.outcomes[number] = RowOutcome(number, external_id, Outcome.UNCHANGED)
            continue
        for name in changed:
            setattr(project, name, values[name])
        problems = milestone_problems({f: getattr(project, f) for f in MILESTONE_FIELDS})
        if problems:
            plan.outcomes[number] = RowOutcome(
                number, external_id, Outcome.INVALID, tuple(problems)
            )
            continue
        plan.changed.append(project)
        plan.fields |= changed
        if changed & set(MILESTONE_FIELDS):
            plan.reached.append(project.pk)
        plan.outcomes[number] = RowOutcome(number, external_id, Outcome.MODIFIED)
    return plan


def _differs(project: Project, name: str, value) -> bool:
    if name == "market":
        return project.market_id != value.pk
    return getattr(project, name) != value


def _save(plan: _Plan, actor: Actor, reason: str) -> None:
    history = {
        "default_change_reason": reason,
        "custom_historical_attrs": historical_attrs(actor),
    }
    for project in (*plan.new, *plan.changed):
        project._history_user = actor.user if actor.is_person else None
    if plan.new:
        bulk_create_with_history(plan.new, Project, **history)
    if plan.changed:
        now = timezone.now()
        for project in plan.changed:
            project.updated_at = now
        fields = sorted(plan.fields | {"updated_at"})
        bulk_update_with_history(plan.changed, Project, fields, **history)


def historical_attrs(actor: Actor) -> dict:
    """What audit.stamp_historical_record puts on a historical record, for the bulk
    helpers of django-simple-history, which send no signal."""
    return {
        "actor_kind": actor.kind,
        "actor_name": actor.name,
        "correlation_id": correlation.get(),
    }
