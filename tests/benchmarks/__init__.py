"""Benchmarks: `make bench-api` (see tests/benchmarks/api.py) and `make bench-ingest`
(see tests/benchmarks/ingestion.py)."""
