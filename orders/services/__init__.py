"""Order use cases: one function per use case, each one transaction.

Every state change follows the same steps: lock the order, then its lines, then stock
rows by primary key; check the actor's permission and that the transition may happen;
call the @transition method; save with the actor and reason in the history; write the
outbox event in the same transaction (see common.py).
"""

from orders.services.assignment import order_assign
from orders.services.bill_of_material import BillOfMaterial
from orders.services.common import (
    TRANSITION_EVENTS,
    LineEdits,
    LineSpec,
    ReturnSpec,
    allowed_transitions,
    jsonable,
    transition_permission,
)
from orders.services.creation import order_create
from orders.services.fulfilment import (
    OrderAllocation,
    order_allocate,
    order_allocations,
    order_complete,
    order_release,
    orders_allocate,
)
from orders.services.notes import order_add_note
from orders.services.returns import (
    order_record_return,
    order_reopen,
    order_resolve_close,
    return_close,
    return_reopen,
    return_replace,
)
from orders.services.review import (
    approval_problems,
    four_eyes_forbid,
    order_approve,
    order_cancel,
    order_edit_header,
    order_edit_lines,
    order_reject,
)
from orders.services.revisions import (
    HEADER_FIELDS,
    LineDiff,
    LineState,
    add_flags,
    diff_lines,
    order_flag,
    order_revise,
    shipped_notes,
)

__all__ = [
    "HEADER_FIELDS",
    "TRANSITION_EVENTS",
    "BillOfMaterial",
    "LineDiff",
    "LineEdits",
    "LineSpec",
    "LineState",
    "OrderAllocation",
    "ReturnSpec",
    "add_flags",
    "allowed_transitions",
    "approval_problems",
    "diff_lines",
    "four_eyes_forbid",
    "jsonable",
    "order_add_note",
    "order_allocate",
    "order_allocations",
    "order_approve",
    "order_assign",
    "order_cancel",
    "order_complete",
    "order_create",
    "order_edit_header",
    "order_edit_lines",
    "order_flag",
    "order_record_return",
    "order_reject",
    "order_release",
    "order_reopen",
    "order_resolve_close",
    "order_revise",
    "orders_allocate",
    "return_close",
    "return_reopen",
    "return_replace",
    "shipped_notes",
    "transition_permission",
]
