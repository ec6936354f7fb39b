"""The demo's orders, made through the same services as in production: orders driven
to every status, coordinators' notes, orders the allocation run must reject, and orders
from design events."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import User
from django.utils import timezone

from catalog.choices import ItemCategory, ItemLifecycle, Unit
from catalog.models import Item
from oms import correlation
from oms.actors import Actor
from oms.errors import InsufficientStock
from oms.shell.demo.data import (
    DEMO_NOTES,
    DEMO_WAREHOUSE,
    DESIGN_SOURCE,
    MILESTONE_FIELDS,
    MISMATCHES,
    ORDER_TYPE_CATEGORIES,
    SEEDER,
    STORY,
)
from orders import gates, ingestion
from orders import services as order_services
from orders.choices import OrderStatus, OrderType, PlanType, ReasonCode
from orders.models import DesignStream, Market, Order, Project, Region
from warehouse.integration import callbacks
from warehouse.integration.releases import release_order
from warehouse.ledger.choices import Condition
from warehouse.ledger.models import Warehouse, WarehouseMarket
from warehouse.ledger.services import stock_receive


def orders(projects, items, today) -> None:
    """About 200 orders, each from a design event for its project and order type (the
    streams whose project may have that order), driven to the status STORY gives it."""
    rng = random.Random(3)
    by_category: dict[str, list[Item]] = {}
    for item in items.values():
        if item.is_active:
            by_category.setdefault(item.category, []).append(item)
    targets = [status for status, weight in STORY.items() for _ in range(weight)]
    rng.shuffle(targets)
    streams = [
        (project, order_type)
        for project in projects
        for order_type in OrderType.values
        if gates.creation_problem(project, order_type) is None
    ]
    rng.shuffle(streams)
    start = timezone.now() - datetime.timedelta(days=30)
    for (project, order_type), target in zip(streams, targets, strict=False):
        pool = [i for c in ORDER_TYPE_CATEGORIES[order_type] for i in by_category[c]]
        chosen = rng.sample(pool, rng.randint(2, 6))
        kits = {}
        if order_type == OrderType.SITE_BUILD:
            kits["KIT-GROUND"] = 1
        elif order_type == OrderType.RADIO and rng.random() < 0.5:
            kits["KIT-SECTOR"] = 3
        order = send_design(
            project,
            order_type,
            event_id=f"demo-{project.external_id}-{order_type}",
            occurred_at=start,
            need_by=today + datetime.timedelta(days=rng.randint(-10, 90)),
            priority=rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 4, 2, 1])[0],
            items={i.code: rng.randint(1, 4) for i in chosen},
            kits=kits,
        )
        _drive(order, target, project)


def send_design(
    project: Project,
    order_type: str,
    *,
    event_id: str,
    occurred_at: datetime.datetime,
    need_by: datetime.date,
    priority: int,
    items: dict[str, int],
    kits: dict[str, int] | None = None,
) -> Order:
    """A design event from the engineering system, received and processed as in
    production; the order it made or changed."""
    payload = {
        "event_id": event_id,
        "type": "design_approved",
        "project_id": project.external_id,
        "order_type": order_type,
        "occurred_at": occurred_at.isoformat(),
        "need_by": need_by.isoformat(),
        "national_priority": priority,
        "items": [{"item": code, "quantity": q} for code, q in items.items()],
        "kits": [{"kit": code, "quantity": q} for code, q in (kits or {}).items()],
    }
    event = ingestion.process(ingestion.receive(payload, received_from=DESIGN_SOURCE).event)
    return event.order


def notes() -> None:
    """A coordinator's notes on one order of each of a few kinds."""
    coordinator = Actor.person(User.objects.get(username="coordinator"))
    for status, text in DEMO_NOTES.items():
        orders = Order.objects.order_by("id")
        if status == "rejected":
            order = orders.exclude(reason_code="").first()
        else:
            order = orders.filter(status=status, reason_code="").first()
        if order is not None:
            _act(order_services.order_add_note, order=order, actor=coordinator, text=text)


def _drive(order: Order, target: str, project: Project) -> None:
    """Take an order through the real services to its demo status. An order whose
    stock is short, or whose project has not reached its release milestone, stays
    APPROVED, as it would in production."""
    if target == OrderStatus.DRAFT:
        return
    if target == OrderStatus.CANCELLED:
        _act(
            order_services.order_cancel,
            order=order,
            actor=SEEDER,
            reason_code=ReasonCode.NO_LONGER_NEEDED,
            reason_text="Site dropped from this year's plan.",
        )
        return
    if not project.is_active:
        return
    order = _act(order_services.order_approve, order=order, actor=SEEDER)
    if target == "rejected":
        _act(
            order_services.order_reject,
            order=order,
            actor=SEEDER,
            reason_code=ReasonCode.DATA_MISMATCH,
            reason_text="Antenna count does not match the site survey.",
        )
        return
    if target == OrderStatus.APPROVED or order.gated:  # a gated order waits, approved
        return
    try:
        order = _allocate_somewhere(order, project)
    except InsufficientStock:
        return
    if target == OrderStatus.ALLOCATED:
        return
    order = _act(release_order, order=order, actor=SEEDER)
    # The warehouse answers through the same callbacks as the warehouse system.
    release = order.releases.get()
    _act(
        callbacks.release_accepted,
        release=release,
        event_id=f"demo-{release.release_id}:accepted",
        actor=DEMO_WAREHOUSE,
    )
    if target == OrderStatus.RELEASED:
        return
    _act(
        callbacks.release_completed,
        release=release,
        event_id=f"demo-{release.release_id}:completed",
        lines=[callbacks.ShippedLine(line["item"], line["quantity"]) for line in release.lines],
        actor=DEMO_WAREHOUSE,
    )
    if target == OrderStatus.CLOSED:
        return
    lines = list(order.lines.select_related("item"))
    full = target == OrderStatus.FULLY_RETURNED
    _act(
        callbacks.release_returned,
        release=release,
        event_id=f"demo-{release.release_id}:return:1",
        lines=[
            callbacks.ReturnedLine(
                item=line.item.code,
                quantity=line.released_quantity if full else 1,
                condition=Condition.GOOD if n else Condition.DAMAGED,
                reason="Site scope reduced" if n else "Damaged in transit",
            )
            for n, line in enumerate(lines if full else lines[:1])
        ],
        actor=DEMO_WAREHOUSE,
    )


def _act(service, **kwargs):
    """One action of the demo under a correlation id of its own, as one request or
    callback would be, so the order's timeline shows it as one entry."""
    with correlation.use(None):
        return service(**kwargs)


def _allocate_somewhere(order: Order, project: Project) -> Order:
    """Allocate from the serving warehouses in rank order, the first that has it all."""
    served = WarehouseMarket.objects.filter(market=project.market).order_by("rank")
    for serving in served.select_related("warehouse"):
        try:
            return _act(
                order_services.order_allocate,
                order=order,
                warehouse=serving.warehouse,
                actor=SEEDER,
            )
        except InsufficientStock:
            continue
    raise InsufficientStock(f"No warehouse serving {project.market} has {order.number}.")


def mismatched_orders(projects, items, warehouses, today) -> None:
    """Approved orders the allocation run must reject, each for another configuration
    mismatch: a market no warehouse serves (Anchorage), an item discontinued after
    approval, an item no warehouse knows, an item no serving warehouse stocks; and one
    gated approved order, which the run reports and leaves alone. Each comes from a
    design event for a site of its own."""
    region = Region.objects.get(code="WEST")
    anchorage = Market.objects.create(code="ANC", name="Anchorage", region=region)
    ready = [p for p in projects if p.is_active and not gates.release_gate(p, OrderType.RADIO)]
    by_market = {}
    for project in ready:
        by_market.setdefault(project.market.code, project)
    start = timezone.now() - datetime.timedelta(days=10)
    for n, (market, (code, description, lifecycle, stocked_at)) in enumerate(MISMATCHES):
        if market == "ANC":
            project = _site_like(ready[0], n, market=anchorage, name="Anchorage Harbor 1")
        else:
            template = by_market[market]
            project = _site_like(template, n, market=template.market, name=f"{template.name} B")
        item = Item.objects.create(
            code=code, description=description, category=ItemCategory.RADIO, unit=Unit.EACH
        )
        for warehouse in stocked_at:
            stock_receive(
                warehouse=warehouses[warehouse],
                item=item,
                quantity=10,
                reason="opening stock (demo)",
                actor=SEEDER,
            )
        order = send_design(
            project,
            OrderType.RADIO,
            event_id=f"demo-mismatch-{code}",
            occurred_at=start,
            need_by=today + datetime.timedelta(days=20),
            priority=2,
            items={code: 2, "JMP-02": 4},
        )
        _act(order_services.order_approve, order=order, actor=SEEDER)
        if lifecycle != ItemLifecycle.ACTIVE:
            item.lifecycle = lifecycle
            item.save()
    template = next(p for p in projects if p.is_active and gates.release_gate(p, OrderType.RADIO))
    gated = _site_like(template, len(MISMATCHES), market=template.market, name=f"{template.name} C")
    order = send_design(
        gated,
        OrderType.RADIO,
        event_id="demo-gated",
        occurred_at=start,
        need_by=today + datetime.timedelta(days=45),
        priority=1,
        items={"RRU-01": 3},
    )
    _act(order_services.order_approve, order=order, actor=SEEDER)


def _site_like(template: Project, n: int, *, market: Market, name: str) -> Project:
    """Another site of the plan, at the milestones `template` has reached."""
    return Project.objects.create(
        external_id=f"PRJ-{2026100 + n}",
        name=name,
        site_code=f"{market.code}{9000 + n:04d}",
        market=market,
        plan_type=template.plan_type if market == template.market else PlanType.COVERAGE,
        **{m: getattr(template, m) for m in MILESTONE_FIELDS},
    )


def design_events(projects, items, today) -> None:
    """Orders that came from the engineering system, on sites with no radio order yet:
    one revised, one closed and then extended by a supplemental order, and one invalid
    event waiting in the dead letters."""
    used = set(
        DesignStream.objects.filter(order_type=OrderType.RADIO).values_list("project", flat=True)
    )
    ready = [
        p
        for p in projects
        if p.is_active and not gates.release_gate(p, OrderType.RADIO) and p.pk not in used
    ]
    start = timezone.now() - datetime.timedelta(days=20)

    def send(project, n, minutes, bom):
        return send_design(
            project,
            OrderType.RADIO,
            event_id=f"demo-eng-{project.external_id}-{n}",
            occurred_at=start + datetime.timedelta(minutes=minutes),
            need_by=today + datetime.timedelta(days=30),
            priority=2,
            items=bom,
            kits={"KIT-SECTOR": 3},
        )

    revised, closed, invalid = ready[:3]
    send(revised, 1, 0, {"RRU-02": 3, "ANT-01": 3})
    send(revised, 2, 60, {"RRU-02": 3, "ANT-01": 6, "TMA-01": 3})
    order = send(closed, 1, 0, {"RRU-01": 1, "ANT-02": 2})
    order = _act(order_services.order_approve, order=order, actor=SEEDER)
    warehouse = (
        Warehouse.objects.filter(served__market=closed.market).order_by("served__rank").first()
    )
    for line in order.lines.all():
        stock_receive(
            warehouse=warehouse,
            item=line.item,
            quantity=line.quantity,
            reason="demo delivery for an engineering order",
            actor=SEEDER,
        )
    order = _act(order_services.order_allocate, order=order, warehouse=warehouse, actor=SEEDER)
    order = _act(release_order, order=order, actor=SEEDER)
    _act(order_services.order_complete, order=order, actor=SEEDER)
    send(closed, 2, 60, {"RRU-01": 2, "ANT-02": 2, "CON-03": 4})
    send(invalid, 1, 0, {"RRU-99": 2})
