"""Primitives every capability shares: the clock and progress reporting."""
