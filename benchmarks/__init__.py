"""Benchmarks (not part of the test suite): synthetic corpus generator and search benchmark."""
