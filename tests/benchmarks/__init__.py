"""Benchmarks, each printing its figures against its targets: `make bench-api`
(api.py), `make bench-ingest` (ingestion.py), `make bench-alloc` (allocation.py),
`make bench-ui` (backoffice.py) and `make bench-reconcile` (reconcile.py)."""
