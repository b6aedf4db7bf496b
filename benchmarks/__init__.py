"""Benchmarks and evaluation reports; numbers are recorded in BENCHMARKS.md."""
