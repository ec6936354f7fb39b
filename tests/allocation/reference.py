"""A brute-force reference of the allocation policy, written apart from the engine, and
random small instances to compare the two on (Hypothesis).

The reference ranks with a comparison function over the configured criteria, checks
every order's configuration from scratch, recomputes what is available from the
initial stock and everything taken so far, and, with split, enumerates every way of
taking each line from the serving warehouses and keeps the one that takes the most
from the first-ranked warehouses (the policy's "in rank order").
"""

from __future__ import annotations

import datetime
import functools
import itertools
import math
from dataclasses import dataclass, field

from hypothesis import strategies as st

CRITERIA = ["national_priority", "plan_type", "order_type", "need_by", "approved_at"]
PLAN_TYPES = ["new_build", "coverage", "capacity"]
ORDER_TYPES = ["site_build", "radio", "power"]
DAY = datetime.date(2026, 12, 1)


@dataclass
class AOrder:
    market: int
    national_priority: int
    plan_type: str
    order_type: str
    need_by_days: int
    approved_seq: int | None  # when it was approved, in order; None: unknown
    gated: bool
    lines: list[tuple[int, int]]  # (item index, quantity), distinct items


@dataclass
class Instance:
    warehouses: int
    serving: dict[int, list[int]]  # market -> warehouses, rank order
    discontinued: set[int]  # item indexes
    items: int
    stock: dict[tuple[int, int], int]  # (warehouse, item) -> available; a key = a level
    orders: list[AOrder]
    criteria: list[str]
    plan_ranks: dict[str, int]
    order_ranks: dict[str, int]
    split: bool = False
    markets: int = field(default=2)


@dataclass(frozen=True)
class Outcome:
    result: str
    reason_code: str = ""
    placements: tuple = ()  # sorted (item, warehouse, quantity)


# --- Random instances -------------------------------------------------------------------


@st.composite
def instances(draw, *, max_orders=6, max_items=4, max_warehouses=3) -> Instance:
    warehouses = draw(st.integers(1, max_warehouses))
    markets = 2
    # Market 0 is always served; market 1 may have no serving warehouse.
    serving = {}
    for m in range(markets):
        ranked = draw(st.permutations(range(warehouses)))
        serving[m] = list(ranked[: draw(st.integers(1 - m, warehouses))])
    items = draw(st.integers(1, max_items))
    discontinued = (
        {draw(st.integers(0, items - 1))} if draw(st.sampled_from([0, 0, 0, 1])) else set()
    )
    stock = {}
    for w in range(warehouses):
        for i in range(items):
            if draw(st.integers(0, 5)):  # mostly stocked
                stock[(w, i)] = draw(st.integers(0, 6))
    orders = []
    count = draw(st.integers(1, max_orders))
    approvals = draw(st.permutations(range(count)))
    for n in range(count):
        chosen = draw(st.lists(st.integers(0, items - 1), min_size=1, max_size=items, unique=True))
        orders.append(
            AOrder(
                market=draw(st.integers(0, markets - 1)),
                national_priority=draw(st.integers(1, 3)),
                plan_type=draw(st.sampled_from(PLAN_TYPES)),
                order_type=draw(st.sampled_from(ORDER_TYPES)),
                need_by_days=draw(st.integers(0, 2)),
                approved_seq=approvals[n],
                gated=draw(st.sampled_from([False] * 7 + [True])),
                lines=[(i, draw(st.integers(1, 5))) for i in chosen],
            )
        )
    criteria = draw(
        st.permutations(CRITERIA).flatmap(lambda p: st.integers(0, 5).map(lambda n, p=p: p[:n]))
    )
    plan_ranks = {t: draw(st.integers(1, 3)) for t in PLAN_TYPES if draw(st.integers(0, 4))}
    order_ranks = {t: draw(st.integers(1, 3)) for t in ORDER_TYPES if draw(st.integers(0, 4))}
    return Instance(
        warehouses=warehouses,
        serving=serving,
        discontinued=discontinued,
        items=items,
        stock=stock,
        orders=orders,
        criteria=list(criteria),
        plan_ranks=plan_ranks,
        order_ranks=order_ranks,
        split=draw(st.booleans()),
        markets=markets,
    )


# --- The reference ----------------------------------------------------------------------


def reference(instance: Instance) -> dict[int, Outcome]:
    """Order index -> what the policy does with it."""
    outcomes: dict[int, Outcome] = {}
    taken: list[tuple[int, int, int]] = []  # (warehouse, item, quantity)

    def available(w: int, i: int) -> int:
        if (w, i) not in instance.stock:
            return 0
        return instance.stock[(w, i)] - sum(q for ww, ii, q in taken if (ww, ii) == (w, i))

    for n, order in enumerate(instance.orders):
        if order.gated:
            outcomes[n] = Outcome("gated")
    for n in _ranked(instance):
        order = instance.orders[n]
        reason = _mismatch(instance, order)
        if reason:
            outcomes[n] = Outcome("rejected", reason)
            continue
        serving = instance.serving[order.market]
        chosen = None
        if not instance.split:
            for w in serving:
                if all((w, i) in instance.stock and available(w, i) >= q for i, q in order.lines):
                    chosen = [(i, w, q) for i, q in order.lines]
                    break
        else:
            per_line = []
            for i, q in order.lines:
                ways = [
                    combo
                    for combo in itertools.product(*(range(available(w, i) + 1) for w in serving))
                    if sum(combo) == q
                ]
                if not ways:
                    per_line = None
                    break
                best = max(ways)  # the most from the first-ranked warehouses
                per_line += [(i, w, take) for w, take in zip(serving, best, strict=True) if take]
            chosen = per_line
        if chosen is None:
            outcomes[n] = Outcome("short")
            continue
        taken += [(w, i, q) for i, w, q in chosen]
        outcomes[n] = Outcome("allocated", placements=tuple(sorted(chosen)))
    return outcomes


def _ranked(instance: Instance) -> list[int]:
    def value(criterion, order):
        if criterion == "national_priority":
            return order.national_priority
        if criterion == "plan_type":
            return instance.plan_ranks.get(order.plan_type, math.inf)
        if criterion == "order_type":
            return instance.order_ranks.get(order.order_type, math.inf)
        if criterion == "need_by":
            return order.need_by_days
        return math.inf if order.approved_seq is None else order.approved_seq

    def compare(a: int, b: int) -> int:
        for criterion in instance.criteria:
            va, vb = value(criterion, instance.orders[a]), value(criterion, instance.orders[b])
            if va != vb:
                return -1 if va < vb else 1
        return -1 if a < b else 1

    candidates = [n for n, order in enumerate(instance.orders) if not order.gated]
    return sorted(candidates, key=functools.cmp_to_key(compare))


def _mismatch(instance: Instance, order: AOrder) -> str:
    serving = instance.serving[order.market]
    if not serving:
        return "no_serving_warehouse"
    found = set()
    for i, _ in order.lines:
        if i in instance.discontinued:
            found.add("discontinued_item")
        elif not any((w, i) in instance.stock for w in range(instance.warehouses)):
            found.add("unknown_item")
        elif not any((w, i) in instance.stock for w in serving):
            found.add("item_not_stocked")
    for reason in ("discontinued_item", "unknown_item", "item_not_stocked"):
        if reason in found:
            return reason
    return ""
