"""Helpers for the parser tests (no conftest: the suite runs with --noconftest)."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import openpyxl

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def xlsx_bytes(rows: list[list], sheet_title: str = "Sheet1", number_formats: dict | None = None) -> bytes:
    """A workbook with one sheet holding rows; number_formats maps 'A2' -> format."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_title
    for row in rows:
        ws.append(row)
    for cell, fmt in (number_formats or {}).items():
        ws[cell].number_format = fmt
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def by_key(result) -> dict[tuple, tuple]:
    """(measure, sku, ref) -> (value, currency) for results covering one date."""
    out = {}
    for f in result.facts:
        key = (f.measure, f.sku, f.ref)
        assert key not in out, "several dates in result; use facts_on()"
        out[key] = (f.value, f.currency)
    return out


def facts_on(result, day) -> dict[tuple, tuple]:
    """(measure, sku, ref) -> (value, currency) for the facts of one business date."""
    return {(f.measure, f.sku, f.ref): (f.value, f.currency) for f in result.facts if f.business_date == day}


def D(text: str) -> Decimal:
    return Decimal(text)
