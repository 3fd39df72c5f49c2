"""Signed PDF performance reports (docs/reports.md)."""
