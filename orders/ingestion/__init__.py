"""Design events from the engineering system: received and stored first, then validated
and turned into orders by the upstream change rules of DOMAIN.md.

A design event is matched to its stream (project + order type). The stream remembers
the last applied design, so the next event is compared against it:

- no order yet (or only a cancelled one): a new order in DRAFT (revision 1);
- the same design as last applied: unchanged;
- order DRAFT: revised in place, the delta recorded;
- order APPROVED or ALLOCATED: allocations released, back to DRAFT ("upstream change"),
  then revised;
- order RELEASED: a delta order in DRAFT with the added quantities; reductions flagged;
- order CLOSED (or returned): a supplemental order in DRAFT holding only what is new;
  after release, added and reduced are measured against what is already ordered (the
  order and its delta and supplemental orders not cancelled), and a restored reduction
  takes its flag off and orders nothing;
- `design_cancelled`: cancels an order not yet released, flags one that is, and then
  cancels its follow-up orders not yet released (the flag names every follow-up).
"""

from orders.ingestion.design import ENGINEERING, Design, DesignEventBody, Lookups
from orders.ingestion.receiving import (
    Received,
    correct,
    receive,
    receive_many,
    reprocess,
    schedule,
)
from orders.ingestion.rules import JOB_COUNT, process

__all__ = [
    "ENGINEERING",
    "JOB_COUNT",
    "Design",
    "DesignEventBody",
    "Lookups",
    "Received",
    "correct",
    "process",
    "receive",
    "receive_many",
    "reprocess",
    "schedule",
]
