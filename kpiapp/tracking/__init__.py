"""Tracking: metric items' actuals computed from imported facts (docs/tracking.md)."""
