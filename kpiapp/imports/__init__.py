"""Marketplace report imports (docs/imports.md)."""
