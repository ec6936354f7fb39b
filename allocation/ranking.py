"""The ranking of approved orders: which order the allocation engine serves first.

Orders are compared criterion by criterion in the configured order (DOMAIN.md's
default: national priority, plan type rank, order type rank, need-by date, approval
time); the first criterion that differs decides. Equal on every criterion, the older
order (lower id) goes first, so a ranking is always total and repeatable.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from allocation.choices import Criterion
from allocation.models import RankingConfig
from orders.choices import OrderType, PlanType

# DOMAIN.md names the criteria and their order. It gives no rank tables: by default
# the types rank in the order orders.choices declares them, ready to be tuned in admin.
DEFAULT_CRITERIA: tuple[str, ...] = tuple(Criterion.values)
DEFAULT_PLAN_TYPE_RANKS: dict[str, int] = {v: n for n, v in enumerate(PlanType.values, 1)}
DEFAULT_ORDER_TYPE_RANKS: dict[str, int] = {v: n for n, v in enumerate(OrderType.values, 1)}
# A type missing from its rank table comes after every ranked one.
UNRANKED = 10_000
_NO_APPROVAL = datetime.datetime.max.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Ranking:
    criteria: tuple[str, ...] = DEFAULT_CRITERIA
    plan_type_ranks: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PLAN_TYPE_RANKS))
    order_type_ranks: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ORDER_TYPE_RANKS))

    def key(self) -> Callable:
        """The sort key of an order (anything with the order's ranked attributes and
        `id`): smaller sorts first."""
        plan, kind = self.plan_type_ranks, self.order_type_ranks
        getters = {
            Criterion.NATIONAL_PRIORITY: lambda o: o.national_priority,
            Criterion.PLAN_TYPE: lambda o: plan.get(o.plan_type, UNRANKED),
            Criterion.ORDER_TYPE: lambda o: kind.get(o.order_type, UNRANKED),
            Criterion.NEED_BY: lambda o: o.need_by,
            Criterion.APPROVED_AT: lambda o: o.approved_at or _NO_APPROVAL,
        }
        chosen = [getters[c] for c in self.criteria]
        return lambda o: (*(get(o) for get in chosen), o.id)

    def as_json(self) -> dict:
        return {
            "criteria": list(self.criteria),
            "plan_type_ranks": dict(self.plan_type_ranks),
            "order_type_ranks": dict(self.order_type_ranks),
        }

    @classmethod
    def from_json(cls, data: dict) -> Ranking:
        """The ranking as_json() recorded (a run's)."""
        return cls(
            criteria=tuple(data.get("criteria", ())),
            plan_type_ranks=data.get("plan_type_ranks", {}),
            order_type_ranks=data.get("order_type_ranks", {}),
        )

    def describe(self) -> list[str]:
        """The criteria in words, for people."""
        words = []
        for criterion in self.criteria:
            label = Criterion(criterion).label
            if criterion == Criterion.PLAN_TYPE:
                label += ": " + _ranks(self.plan_type_ranks, PlanType)
            elif criterion == Criterion.ORDER_TYPE:
                label += ": " + _ranks(self.order_type_ranks, OrderType)
            words.append(label)
        return [*words, "then the older order"]


def _ranks(ranks: dict[str, int], choices) -> str:
    ordered = sorted(choices, key=lambda c: (ranks.get(c.value, UNRANKED), c.value))
    return ", ".join(f"{c.label} {ranks.get(c.value, '(unranked)')}" for c in ordered)


def current_ranking() -> Ranking:
    """The ranking configured in the admin; the defaults when there is none."""
    config = (
        RankingConfig.objects.prefetch_related("criteria", "plan_type_ranks", "order_type_ranks")
        .filter(pk=1)
        .first()
    )
    if config is None:
        return Ranking()
    return Ranking(
        criteria=tuple(c.criterion for c in sorted(config.criteria.all(), key=_position)),
        plan_type_ranks={r.plan_type: r.rank for r in config.plan_type_ranks.all()},
        order_type_ranks={r.order_type: r.rank for r in config.order_type_ranks.all()},
    )


def _position(criterion) -> int:
    return criterion.position
