"""Allocation use cases: stock held for orders, and allocation runs."""

from allocation.services.runs import (
    AllocationRunInProgress,
    allocation_outcomes_prune,
    allocation_run_execute,
    allocation_run_request,
    allocation_runs_send_waiting,
)
from allocation.services.stock import issue_allocations, place_in_warehouse, release_allocations

__all__ = [
    "AllocationRunInProgress",
    "allocation_outcomes_prune",
    "allocation_run_execute",
    "allocation_run_request",
    "allocation_runs_send_waiting",
    "issue_allocations",
    "place_in_warehouse",
    "release_allocations",
]
