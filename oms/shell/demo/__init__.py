"""Demo data for `make run`: a small but complete picture of OMS at work.

Everything is made through the same services as in production, so the demo orders
have real histories, ledgers and outbox events. Loading twice changes nothing: the
data is loaded once, and the users' passwords are reset to the documented ones.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from allocation import services as allocation_services
from allocation.choices import Trigger
from oms import audit
from oms.shell.demo import reference, story
from oms.shell.demo.data import DEMO_NOTES, MARKETS, SEEDER, USERS
from orders.models import Order

__all__ = ["DEMO_NOTES", "MARKETS", "USERS", "load"]


def load(today: datetime.date | None = None) -> bool:
    """Load the demo data; False when it was already there."""
    today = today or timezone.localdate()
    with transaction.atomic(), audit.acting(SEEDER, reason="demo data"):
        reference.users()
        if Order.objects.exists():
            return False
        items = reference.catalog(today)
        markets = reference.markets()
        warehouses = reference.warehouses(markets)
        reference.stock(warehouses, items)
        reference.minimum_levels()
        projects = reference.projects(markets, today)
        story.orders(projects, items, today)
        story.notes()
        story.design_events(projects, items, today)
        story.mismatched_orders(projects, items, warehouses, today)
        run = allocation_services.allocation_run_request(actor=SEEDER, trigger=Trigger.COMMAND)
    # The run executes once the data is committed: in process here even with a broker,
    # so the demo starts with a finished run (the queued task then finds nothing to do).
    allocation_services.allocation_run_execute(run_id=run.pk)
    return True
