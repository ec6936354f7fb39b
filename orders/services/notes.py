"""Notes: remarks a coordinator or a client adds to an order, in any status."""

from __future__ import annotations

from oms import correlation
from oms.actors import Actor
from oms.errors import Problem, ValidationFailed
from orders.models import Order, OrderNote


def order_add_note(*, order: Order, actor: Actor, text: str) -> OrderNote:
    """Add a note to the order. A note changes nothing else, so it needs no lock and never
    conflicts with someone else's edit; it shows on the order's page and its timeline."""
    actor.require("orders.enrich_order", f"add a note to order {order.number}")
    text = (text or "").strip()
    if not text:
        problem = Problem(code="required", field="text", message="Write the note first.")
        raise ValidationFailed("The note is empty.", problems=[problem])
    if len(text) > OrderNote.MAX_LENGTH:
        problem = Problem(
            code="too_long",
            field="text",
            message=f"A note holds at most {OrderNote.MAX_LENGTH} characters; "
            f"this one has {len(text)}.",
        )
        raise ValidationFailed("The note is too long.", problems=[problem])
    return OrderNote.objects.create(
        order=order,
        text=text,
        actor_kind=actor.kind,
        actor_name=actor.name,
        author=actor.user if actor.is_person else None,
        correlation_id=correlation.get(),
    )
