"""The demo's orders, made through the same services as in production: orders driven
to every status, coordinators' notes, orders the allocation run must reject, and orders
from design events."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import User
from django.utils import timezone

from catalog.choices import ItemCategory, ItemLifecycle, Unit
from catalog.models import Item, Kit
from oms.actors import Actor
from oms.demo.data import (
    DEMO_NOTES,
    DEMO_WAREHOUSE,
    MILESTONE_FIELDS,
    MISMATCHES,
    ORDER_TYPE_CATEGORIES,
    SEEDER,
    STORY,
)
from oms.errors import InsufficientStock
from orders import gates, ingestion
from orders import services as order_services
from orders.choices import OrderStatus, OrderType, PlanType, ReasonCode
from orders.models import Market, Order, Project, Region
from warehouse import callbacks
from warehouse.choices import Condition
from warehouse.models import Warehouse, WarehouseMarket
from warehouse.services import stock_receive


def orders(projects, items, today) -> None:
    """About 200 orders for the projects, each driven to the status STORY gives it."""
    rng = random.Random(3)
    by_category: dict[str, list[Item]] = {}
    for item in items.values():
        if item.is_active:
            by_category.setdefault(item.category, []).append(item)
    kits = {kit.code: kit for kit in Kit.objects.prefetch_related("versions__components__item")}
    targets = [status for status, weight in STORY.items() for _ in range(weight)]
    rng.shuffle(targets)
    streams = [(project, order_type) for project in projects for order_type in OrderType.values]
    rng.shuffle(streams)
    for (project, order_type), target in zip(streams, targets, strict=False):
        pool = [i for c in ORDER_TYPE_CATEGORIES[order_type] for i in by_category[c]]
        chosen = rng.sample(pool, rng.randint(2, 6))
        lines = [order_services.LineSpec(item=i, quantity=rng.randint(1, 4)) for i in chosen]
        if order_type == OrderType.SITE_BUILD:
            lines += _kit_lines(kits["KIT-GROUND"], {i.pk for i in chosen})
        elif order_type == OrderType.RADIO and rng.random() < 0.5:
            lines += _kit_lines(kits["KIT-SECTOR"], {i.pk for i in chosen}, times=3)
        order = order_services.order_create(
            project=project,
            order_type=order_type,
            plan_type=project.plan_type,
            national_priority=rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 4, 2, 1])[0],
            need_by=today + datetime.timedelta(days=rng.randint(-10, 90)),
            lines=lines,
            actor=SEEDER,
            event_id=f"demo-{project.external_id}-{order_type}",
        )
        _drive(order, target, project)


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
            order_services.order_add_note(order=order, actor=coordinator, text=text)


def _kit_lines(kit: Kit, taken: set[int], times: int = 1) -> list[order_services.LineSpec]:
    version = kit.versions.all()[0]
    return [
        order_services.LineSpec(item=c.item, quantity=c.quantity * times, source="kit", kit=kit)
        for c in version.components.all()
        if c.item_id not in taken
    ]


def _drive(order: Order, target: str, project: Project) -> None:
    """Take an order through the real services to its demo status. An order whose
    stock is short stays APPROVED, as it would in production."""
    if target == OrderStatus.DRAFT:
        return
    if target == OrderStatus.CANCELLED:
        order_services.order_cancel(
            order=order,
            actor=SEEDER,
            reason_code=ReasonCode.NO_LONGER_NEEDED,
            reason_text="Site dropped from this year's plan.",
        )
        return
    if not project.is_active:
        return
    order = order_services.order_approve(order=order, actor=SEEDER)
    if target == "rejected":
        order_services.order_reject(
            order=order,
            actor=SEEDER,
            reason_code=ReasonCode.DATA_MISMATCH,
            reason_text="Antenna count does not match the site survey.",
        )
        return
    if target == OrderStatus.APPROVED:
        return
    try:
        order = _allocate_somewhere(order, project)
    except InsufficientStock:
        return
    if target == OrderStatus.ALLOCATED:
        return
    order = order_services.order_release(order=order, actor=SEEDER)
    # The warehouse answers through the same callbacks as the warehouse system.
    release = order.releases.get()
    callbacks.release_accepted(
        release=release, event_id=f"demo-{release.release_id}:accepted", actor=DEMO_WAREHOUSE
    )
    if target == OrderStatus.RELEASED:
        return
    callbacks.release_completed(
        release=release,
        event_id=f"demo-{release.release_id}:completed",
        lines=[callbacks.ShippedLine(line["item"], line["quantity"]) for line in release.lines],
        actor=DEMO_WAREHOUSE,
    )
    if target == OrderStatus.CLOSED:
        return
    lines = list(order.lines.select_related("item"))
    full = target == OrderStatus.FULLY_RETURNED
    callbacks.release_returned(
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


def _allocate_somewhere(order: Order, project: Project) -> Order:
    """Allocate from the serving warehouses in rank order, the first that has it all."""
    served = WarehouseMarket.objects.filter(market=project.market).order_by("rank")
    for serving in served.select_related("warehouse"):
        try:
            return order_services.order_allocate(
                order=order, warehouse=serving.warehouse, actor=SEEDER
            )
        except InsufficientStock:
            continue
    raise InsufficientStock(f"No warehouse serving {project.market} has {order.number}.")


def mismatched_orders(projects, items, warehouses, today) -> None:
    """Approved orders the allocation run must reject, each for another configuration
    mismatch: a market no warehouse serves (Anchorage), an item discontinued after
    approval, an item no warehouse knows, an item no serving warehouse stocks; and one
    gated approved order, which the run reports and leaves alone."""
    region = Region.objects.get(code="WEST")
    anchorage = Market.objects.create(code="ANC", name="Anchorage", region=region)
    ready = [p for p in projects if p.is_active and not gates.release_gate(p, OrderType.RADIO)]
    by_market = {}
    for project in ready:
        by_market.setdefault(project.market.code, project)
    for n, (market, (code, description, lifecycle, stocked_at)) in enumerate(MISMATCHES):
        if market == "ANC":
            template = ready[0]
            project = Project.objects.create(
                external_id=f"PRJ-{2026100 + n}",
                name="Anchorage Harbor 1",
                site_code="ANC0001",
                market=anchorage,
                plan_type=PlanType.COVERAGE,
                **{m: getattr(template, m) for m in MILESTONE_FIELDS},
            )
        else:
            project = by_market[market]
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
        order = order_services.order_create(
            project=project,
            order_type=OrderType.RADIO,
            plan_type=project.plan_type,
            national_priority=2,
            need_by=today + datetime.timedelta(days=20),
            lines=[
                order_services.LineSpec(item=item, quantity=2),
                order_services.LineSpec(item=items["JMP-02"], quantity=4),
            ],
            actor=SEEDER,
            event_id=f"demo-mismatch-{code}",
        )
        order_services.order_approve(order=order, actor=SEEDER)
        if lifecycle != ItemLifecycle.ACTIVE:
            item.lifecycle = lifecycle
            item.save()
    gated_project = next(p for p in projects if p.is_active and gates.release_gate(p, "radio"))
    order = order_services.order_create(
        project=gated_project,
        order_type=OrderType.RADIO,
        plan_type=gated_project.plan_type,
        national_priority=1,
        need_by=today + datetime.timedelta(days=45),
        lines=[order_services.LineSpec(item=items["RRU-01"], quantity=3)],
        actor=SEEDER,
        gated=True,
        gate_reason=gates.release_gate(gated_project, OrderType.RADIO),
        event_id="demo-gated",
    )
    order_services.order_approve(order=order, actor=SEEDER)


def design_events(projects, items, today) -> None:
    """Orders that came from the engineering system: created by design events, one
    revised, one closed and then extended by a supplemental order, and one invalid
    event waiting in the dead letters."""
    ready = [p for p in projects if p.is_active and not gates.release_gate(p, OrderType.RADIO)]
    start = timezone.now() - datetime.timedelta(days=20)

    def send(project, n, minutes, bom, kind="design_approved"):
        payload = {
            "event_id": f"demo-eng-{project.external_id}-{n}",
            "type": kind,
            "project_id": project.external_id,
            "order_type": OrderType.RADIO,
            "occurred_at": (start + datetime.timedelta(minutes=minutes)).isoformat(),
            "need_by": (today + datetime.timedelta(days=30)).isoformat(),
            "national_priority": 2,
            "items": [{"item": code, "quantity": q} for code, q in bom.items()],
            "kits": [{"kit": "KIT-SECTOR", "quantity": 3}],
        }
        received = ingestion.receive(payload, received_from="demo-engineering")
        return ingestion.process(received.event)

    revised, closed, invalid = ready[:3]
    send(revised, 1, 0, {"RRU-02": 3, "ANT-01": 3})
    send(revised, 2, 60, {"RRU-02": 3, "ANT-01": 6, "TMA-01": 3})
    order = send(closed, 1, 0, {"RRU-01": 1, "ANT-02": 2}).order
    order = order_services.order_approve(order=order, actor=SEEDER)
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
    order = order_services.order_allocate(order=order, warehouse=warehouse, actor=SEEDER)
    order = order_services.order_release(order=order, actor=SEEDER)
    order_services.order_complete(order=order, actor=SEEDER)
    send(closed, 2, 60, {"RRU-01": 2, "ANT-02": 2, "CON-03": 4})
    send(invalid, 1, 0, {"RRU-99": 2})
