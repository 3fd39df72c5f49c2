"""Signed PDF performance reports (docs/reports.md)."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from kpiapp.reports import routes  # noqa: E402,F401
