"""A bill of material: items and expanded kits gathered into one line per item. The
design events and the coordinator's line editor expand kits with it, the same way."""

from __future__ import annotations

from catalog.choices import ItemLifecycle
from catalog.models import Item, Kit, KitVersion
from oms.errors import Problem
from orders.choices import LineSource
from orders.services.common import LineSpec


class BillOfMaterial:
    """Lines by item code. A replaced item becomes its successor (the line says which
    item was asked for); an item asked for twice is one line with the sum. When the
    two asks came from different sources the line takes `mixed_source`, and it keeps
    a kit only when both came from that kit."""

    def __init__(self, *, mixed_source: LineSource = LineSource.UPSTREAM) -> None:
        self.lines: dict[str, LineSpec] = {}
        self.problems: list[Problem] = []
        self.mixed_source = mixed_source

    def add_kit(
        self, kit: Kit, version: KitVersion, count: int, *, source: LineSource, field: str
    ) -> None:
        """`count` of the kit: each component of the version, its quantity times count."""
        for component in version.components.all():
            self.add(component.item, component.quantity * count, source, kit, field)

    def add(
        self, item: Item, quantity: int, source: LineSource, kit: Kit | None, field: str
    ) -> None:
        lines = self.lines
        if item.lifecycle == ItemLifecycle.ACTIVE and item.code not in lines:  # most lines
            lines[item.code] = LineSpec(item, quantity, source, kit)
            return
        asked = item
        while item.lifecycle == ItemLifecycle.REPLACED and item.replaced_by is not None:
            item = item.replaced_by
        if item.lifecycle != ItemLifecycle.ACTIVE:
            self.problems.append(
                Problem(
                    code="item_inactive",
                    field=field,
                    message=f"{item.code} is {item.get_lifecycle_display().lower()}.",
                )
            )
            return
        previous = lines.get(item.code)
        if previous is not None:
            quantity += previous.quantity
            source, kit = (
                self.mixed_source if previous.source != source else source,
                (kit if previous.kit is kit else None),
            )
        lines[item.code] = LineSpec(
            item=item,
            quantity=quantity,
            source=source,
            kit=kit,
            replaces_item=asked
            if asked is not item
            else (previous.replaces_item if previous else None),
        )
