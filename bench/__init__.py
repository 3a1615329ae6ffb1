"""Benchmarks and the capacity plan (`make bench`, `python -m bench`); writes docs/benchmarks.md."""
