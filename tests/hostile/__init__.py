"""Helpers for the adversary's tests: a live-markup detector, hostile strings, a shared harness."""
