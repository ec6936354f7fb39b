"""Allocation use cases: allocation runs (the stock they reserve is held in the ledger,
warehouse.ledger.reservations)."""

from allocation.services.runs import (
    AllocationRunInProgress,
    allocation_outcomes_prune,
    allocation_run_execute,
    allocation_run_request,
    allocation_runs_send_waiting,
)

__all__ = [
    "AllocationRunInProgress",
    "allocation_outcomes_prune",
    "allocation_run_execute",
    "allocation_run_request",
    "allocation_runs_send_waiting",
]
