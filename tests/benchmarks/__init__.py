"""API benchmark: `make bench-api` (see tests/benchmarks/api.py)."""
