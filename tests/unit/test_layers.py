"""The rings of STYLE.md, checked on the source: the domain imports no Flask, and templates
compare statuses with enum members, never with string literals."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_MODULES = [
    "kpiapp/appraisal/workflow.py",
    "kpiapp/appraisal/dispute_flow.py",
    "kpiapp/appraisal/scoring.py",
    "kpiapp/metrics/formula.py",
    "kpiapp/metrics/catalog.py",
    "kpiapp/presentation.py",
    "kpiapp/i18n.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "kpiapp/parsers").glob("*.py")),
]
FORBIDDEN = ("flask", "flask_babel", "flask_login", "flask_wtf", "flask_sqlalchemy", "werkzeug")


def imported_names(source):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("path", PURE_MODULES)
def test_domain_module_imports_no_flask(path):
    source = (ROOT / path).read_text(encoding="utf-8")
    names = list(imported_names(source))
    assert not [n for n in names if n.split(".")[0] in FORBIDDEN], path
    assert "current_app" not in source, path


# `x.status == 'done'`, `x.state in ('a', 'b')`, `'done' != x.status`, `{...}[x.status]`
LITERAL_COMPARISON = re.compile(
    r"""\b(status|state|kind)\s*(==|!=|\bnot\s+in\b|\bin\b)\s*['"(\[]"""
    r"""|['"]\s*(==|!=)\s*[\w.]*\b(status|state|kind)\b"""
    r"""|\}\s*\[\s*[\w.]*\b(status|state|kind)\s*\]"""
)
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def literal_comparisons(text):
    return [line.strip() for line in text.splitlines() if LITERAL_COMPARISON.search(line)]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_compare_statuses_with_enum_members(path):
    found = literal_comparisons(path.read_text(encoding="utf-8"))
    assert found == [], f"compare with the enum (cycle.status == CycleStatus.closed): {found}"


@pytest.mark.parametrize(
    "line",
    [
        "{% if batch.status == 'done' %}",
        "{% if card.state in ('locked', 'calibration') %}",
        "{{ _('x') if record.kind == \"fx\" else '' }}",
        "{% if 'pending' != cr.status %}",
        "{{ {'pending': _('waiting')}[r.status] }}",
    ],
)
def test_the_check_catches_literal_comparisons(line):
    assert literal_comparisons(line)


def test_the_check_lets_enum_comparisons_through():
    assert not literal_comparisons("{% if cycle.status != CycleStatus.closed %}{{ cr.status|label }}")
