"""Reads for allocation runs: querysets and shapes for the back office and the API."""

from collections.abc import Iterator
from typing import Any

from django.db.models import F, QuerySet

from allocation.choices import ACTIVE_STATUSES, Result
from allocation.models import AllocationOutcome, AllocationRun
from orders.models import Order


def run_list() -> QuerySet[AllocationRun]:
    return AllocationRun.objects.order_by("-requested_at", "-id")


def active_run() -> AllocationRun | None:
    return AllocationRun.objects.filter(status__in=ACTIVE_STATUSES).first()


def last_run() -> AllocationRun | None:
    """The most recent run, dry or not, finished or not."""
    return run_list().first()


def run_outcomes(run: AllocationRun) -> QuerySet[AllocationOutcome]:
    """The run's outcomes in ranking order (gated and changed orders, which have no
    rank, last), with what the pages and the API show of each order."""
    return (
        AllocationOutcome.objects.filter(run=run)
        .select_related("order__project__market")
        .order_by(F("rank").asc(nulls_last=True), "id")
    )


def latest_outcome(order: Order) -> AllocationOutcome | None:
    """What the last run that saw the order did with it, and why."""
    return (
        AllocationOutcome.objects.filter(order=order)
        .select_related("run")
        .order_by("-run_id")
        .first()
    )


# --- Exports ----------------------------------------------------------------------------

EXPORT_CHUNK = 2000


def outcome_export_header() -> list[str]:
    return [
        "Rank",
        "Order",
        "Project",
        "Site",
        "Market",
        "Priority",
        "Need by",
        "Result",
        "Reason",
        "Warehouses",
        "Units",
        "Short of items",
        "Why",
    ]


def outcome_export_rows(outcomes: QuerySet[AllocationOutcome]) -> Iterator[tuple[Any, ...]]:
    """The rows of an export of a run's outcomes (a filtered, ordered queryset from
    run_outcomes), with the explanation in words as the run page gives it: one query,
    read EXPORT_CHUNK rows at a time."""
    results = dict(Result.choices)
    reasons = dict(AllocationOutcome._meta.get_field("reason_code").flatchoices)
    rows = outcomes.values_list(
        "rank",
        "order__number",
        "order__project__external_id",
        "order__project__site_code",
        "order__project__market__code",
        "order__national_priority",
        "order__need_by",
        "result",
        "reason_code",
        "warehouses",
        "units",
        "blocked_by",
        "explanation",
    )
    for *head, result, reason_code, warehouses, units, blocked_by, explanation in rows.iterator(
        chunk_size=EXPORT_CHUNK
    ):
        reason = reasons.get(reason_code, reason_code)
        yield (
            *head,
            results.get(result, result),
            reason,
            warehouses,
            units,
            blocked_by.strip(),
            explanation_text(result, reason, explanation or {}),
        )


def explanation_text(result: str, reason: str, e: dict) -> str:
    """Why a run did what it did with an order, in the words of the run page, on one
    line (allocation/partials/explanation.html)."""
    if result == Result.ALLOCATED:
        units = e.get("units", 0)
        return f"{units} unit{'' if units == 1 else 's'} from {', '.join(e.get('warehouses', []))}"
    if result == Result.SHORT:
        if e.get("lines"):
            parts = []
            for line in e["lines"]:
                if line.get("best_available"):
                    where = " + ".join(
                        f"{w.get('warehouse')} {w.get('available')}" for w in line.get("where", [])
                    )
                    best = f"best {line['best_available']} ({where})"
                else:
                    best = "none available"
                parts.append(f"{line.get('item')}: needs {line.get('needed')}, {best}")
            return "; ".join(parts)
        lacks = "; ".join(
            f"{w.get('warehouse')} lacks "
            + ", ".join(
                f"{m.get('item')} ({m.get('available')} of {m.get('needed')})"
                for m in w.get("missing", [])
            )
            for w in e.get("warehouses", [])
        )
        return f"No one warehouse has every line: {lacks}"
    if result == Result.REJECTED:
        problems = "; ".join(str(p.get("message", "")) for p in e.get("problems", []))
        return f"{reason}: {problems}"
    if result == Result.GATED:
        return str(e.get("gate", ""))
    return str(e.get("message", ""))
