"""The policy: rank the approved orders, then walk the ranking and give each order all
of its lines or nothing. Pure: it reads the demand and the stock it is given and
returns the decisions; it touches no database.

- An order whose market no active warehouse serves, or with a line whose item is not
  active, that no warehouse stocks, or that no serving warehouse stocks, is a
  configuration mismatch: it is rejected (the run sends it back to DRAFT).
- Otherwise, without split, the order takes every line from the first serving
  warehouse (by rank) that has all of them; with split, each line takes from the
  serving warehouses in rank order until it is filled, provided every line can be.
- An order that cannot be served takes nothing (its stock stays for the orders after
  it) and gets a per-line explanation: needed, best available, where.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from allocation.choices import Result
from allocation.engine.demand import Demand, OrderDemand, Stock
from allocation.ranking import Ranking
from catalog.choices import ItemLifecycle
from orders.choices import ReasonCode
from warehouse.ledger.reservations import Placement

# When an order has several mismatches, the reason code is the first of these it has.
REASON_PRECEDENCE = [
    ReasonCode.NO_SERVING_WAREHOUSE,
    ReasonCode.DISCONTINUED_ITEM,
    ReasonCode.UNKNOWN_ITEM,
    ReasonCode.ITEM_NOT_STOCKED,
]


@dataclass(slots=True)
class Decision:
    order: OrderDemand
    result: str
    rank: int | None = None
    placements: list[Placement] = field(default_factory=list)
    warehouse_ids: list[int] = field(default_factory=list)
    reason_code: str = ""
    explanation: dict = field(default_factory=dict)
    blocked_by: list[str] = field(default_factory=list)

    @property
    def units(self) -> int:
        return sum(p.quantity for p in self.placements)


@dataclass
class Plan:
    decisions: list[Decision]
    blocking: list[dict]

    def count(self, result: str) -> int:
        return sum(1 for d in self.decisions if d.result == result)


@dataclass
class _Blocker:
    orders: int = 0
    needed: int = 0
    worst_shortfall: int = 0
    warehouses: set = field(default_factory=set)


class _Shelves:
    """Stock as the walk uses it: per warehouse, item -> available and item -> level."""

    def __init__(self, stock: Stock):
        self.available: dict[int, dict[int, int]] = defaultdict(dict)
        self.level: dict[int, dict[int, int]] = defaultdict(dict)
        for (warehouse, item), level in stock.levels.items():
            self.available[warehouse][item] = stock.available[level]
            self.level[warehouse][item] = level


def walk(
    orders: list[OrderDemand],
    demand: Demand,
    stock: Stock,
    ranking: Ranking,
    *,
    split: bool,
    first_rank: int = 1,
) -> Plan:
    """Decide for every order: gated ones are only reported, the others ranked and
    served in rank order from `stock` (which is not changed). The first order ranked
    gets `first_rank` (a run taken up again goes on from where it stopped)."""
    shelves = _Shelves(stock)
    code = demand.warehouses
    # The items an order of a market may have without a mismatch: active, and stocked
    # by a warehouse serving the market.
    active = {i for i, item in demand.items.items() if item.lifecycle == ItemLifecycle.ACTIVE}
    fine = {
        market: set().union(*(shelves.level[w].keys() & active for w in serving))
        for market, serving in demand.serving.items()
    }
    stocked = stock.stocked_items
    decisions = [
        Decision(order, Result.GATED, explanation={"gate": order.gate_reason})
        for order in orders
        if order.gated
    ]
    blockers: dict[int, _Blocker] = defaultdict(_Blocker)
    ranked = sorted((o for o in orders if not o.gated), key=ranking.key())
    place = _split if split else _whole
    for rank, order in enumerate(ranked, start=first_rank):
        serving = demand.serving.get(order.market_id, [])
        allowed = fine.get(order.market_id)
        if not allowed or not allowed.issuperset([item for _, item, _ in order.lines]):
            problems = _mismatches(order, serving, demand, shelves, stocked)
            if problems:
                decisions.append(_rejected(order, rank, problems))
                continue
        placed = place(order.lines, serving, shelves)
        if placed is not None:
            used = []
            for placement in placed:
                shelves.available[placement.warehouse_id][placement.item_id] -= placement.quantity
                if placement.warehouse_id not in used:
                    used.append(placement.warehouse_id)
            decisions.append(
                Decision(
                    order,
                    Result.ALLOCATED,
                    rank,
                    placements=placed,
                    warehouse_ids=used,
                    explanation={
                        "warehouses": [code[w] for w in used],
                        "units": sum(p.quantity for p in placed),
                    },
                )
            )
            continue
        decision, shortfalls = _short(order, rank, serving, demand, shelves, split)
        decisions.append(decision)
        for item_id, needed, shortfall in shortfalls:
            blocker = blockers[item_id]
            blocker.orders += 1
            blocker.needed += needed
            blocker.worst_shortfall = max(blocker.worst_shortfall, shortfall)
            blocker.warehouses.update(serving)
    return Plan(decisions, _blocking(blockers, demand, shelves))


def _whole(
    lines: list[tuple[int, int, int]], serving: list[int], shelves: _Shelves
) -> list[Placement] | None:
    """Every line from the first serving warehouse that has them all, or None."""
    for warehouse in serving:
        shelf = shelves.available[warehouse]
        for _, item_id, needed in lines:
            if shelf.get(item_id, 0) < needed:
                break
        else:
            level = shelves.level[warehouse]
            return [
                Placement(line_id, level[item_id], needed, warehouse, item_id)
                for line_id, item_id, needed in lines
            ]
    return None


def _split(
    lines: list[tuple[int, int, int]], serving: list[int], shelves: _Shelves
) -> list[Placement] | None:
    """Each line from the serving warehouses in rank order, or None when some line
    cannot be filled by all of them together."""
    placed = []
    for line_id, item_id, needed in lines:
        left = needed
        for warehouse in serving:
            quantity = shelves.available[warehouse].get(item_id, 0)
            if not quantity:
                continue
            take = min(quantity, left)
            placed.append(
                Placement(line_id, shelves.level[warehouse][item_id], take, warehouse, item_id)
            )
            left -= take
            if not left:
                break
        if left:
            return None
    return placed


def _mismatches(
    order: OrderDemand, serving: list[int], demand: Demand, shelves: _Shelves, stocked: set[int]
) -> list[dict]:
    if not serving:
        market = demand.markets.get(order.market_id, str(order.market_id))
        return [
            {
                "code": ReasonCode.NO_SERVING_WAREHOUSE,
                "item": "",
                "message": f"No active warehouse serves market {market}.",
            }
        ]
    problems = []
    for _, item_id, _ in order.lines:
        item = demand.items[item_id]
        if item.lifecycle != ItemLifecycle.ACTIVE:
            hint = f"; use {item.successor} instead" if item.successor else ""
            problems.append(
                {
                    "code": ReasonCode.DISCONTINUED_ITEM,
                    "item": item.code,
                    "message": f"{item.code} is {item.lifecycle}{hint}.",
                }
            )
        elif item_id not in stocked:
            problems.append(
                {
                    "code": ReasonCode.UNKNOWN_ITEM,
                    "item": item.code,
                    "message": f"{item.code} is unknown to every warehouse (no stock level).",
                }
            )
        elif not any(item_id in shelves.level[w] for w in serving):
            market = demand.markets.get(order.market_id, str(order.market_id))
            problems.append(
                {
                    "code": ReasonCode.ITEM_NOT_STOCKED,
                    "item": item.code,
                    "message": f"No warehouse serving {market} stocks {item.code}.",
                }
            )
    return problems


def _rejected(order: OrderDemand, rank: int, problems: list[dict]) -> Decision:
    codes = {p["code"] for p in problems}
    reason = next(code for code in REASON_PRECEDENCE if code in codes)
    return Decision(
        order,
        Result.REJECTED,
        rank,
        reason_code=reason,
        explanation={"problems": problems},
    )


def _short(
    order: OrderDemand,
    rank: int,
    serving: list[int],
    demand: Demand,
    shelves: _Shelves,
    split: bool,
) -> tuple[Decision, list[tuple[int, int, int]]]:
    """The decision for an order that cannot be served, and per blocking item
    (item id, needed, shortfall)."""
    code = demand.warehouses
    items = demand.items
    shelf_list = [shelves.available[w] for w in serving]
    lines = []
    shortfalls = []
    blocked = []
    for _, item_id, needed in order.lines:
        quantities = [shelf.get(item_id, 0) for shelf in shelf_list]
        best = sum(quantities) if split else max(quantities)
        if best >= needed:
            continue
        if split:
            where = [
                {"warehouse": code[w], "available": q}
                for w, q in zip(serving, quantities, strict=True)
                if q > 0
            ]
        else:
            where = (
                [{"warehouse": code[serving[quantities.index(best)]], "available": best}]
                if best
                else []
            )
        item = items[item_id]
        lines.append({"item": item.code, "needed": needed, "best_available": best, "where": where})
        blocked.append(item.code)
        shortfalls.append((item_id, needed, needed - best))
    explanation: dict = {"lines": lines}
    if not lines:
        # Without split: every line is somewhere, but no one warehouse has them all.
        per_warehouse = [
            (
                w,
                [
                    (item_id, needed, shelf.get(item_id, 0))
                    for _, item_id, needed in order.lines
                    if shelf.get(item_id, 0) < needed
                ],
            )
            for w, shelf in zip(serving, shelf_list, strict=True)
        ]
        explanation["warehouses"] = [
            {
                "warehouse": code[w],
                "missing": [
                    {"item": items[i].code, "needed": n, "available": q} for i, n, q in missing
                ],
            }
            for w, missing in per_warehouse
        ]
        _, nearest = min(per_warehouse, key=lambda wm: len(wm[1]))
        blocked = [items[i].code for i, _, _ in nearest]
        shortfalls = [(i, n, n - q) for i, n, q in nearest]
    decision = Decision(order, Result.SHORT, rank, explanation=explanation, blocked_by=blocked)
    return decision, shortfalls


def _blocking(blockers: dict[int, _Blocker], demand: Demand, shelves: _Shelves) -> list[dict]:
    """Per item that kept orders short: how many orders, how much they need, how much
    is left in the warehouses serving them, and the units that would unblock them."""
    rows: list[dict[str, Any]] = []
    for item_id, blocker in blockers.items():
        left = sum(shelves.available[w].get(item_id, 0) for w in blocker.warehouses)
        item = demand.items[item_id]
        rows.append(
            {
                "item": item.code,
                "description": item.description,
                "orders": blocker.orders,
                "needed": blocker.needed,
                "available": left,
                "units_to_unblock": max(blocker.needed - left, blocker.worst_shortfall),
            }
        )
    rows.sort(key=lambda r: (-r["orders"], -r["units_to_unblock"], r["item"]))
    return rows
