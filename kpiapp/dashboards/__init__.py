"""Dashboards: read-only views from company to person over existing data (docs/dashboards.md)."""
