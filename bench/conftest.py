"""Benchmarks: run with `scripts/bench.sh` (installs the bench extra). Never part of the test run."""
