"""The parsers ring is pure: importing it loads no Flask, SQLAlchemy or kpiapp.models (STYLE.md)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug", "kpiapp.models")

_LOADED = """
import json, sys, types
if {stub}:
    # an empty 'kpiapp' package: what the parsers load once the app factory leaves kpiapp/__init__.py
    pkg = types.ModuleType("kpiapp")
    pkg.__path__ = [{root!r} + "/kpiapp"]
    sys.modules["kpiapp"] = pkg
import kpiapp.parsers
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(stub: bool) -> list[str]:
    code = _LOADED.format(stub=stub, root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY or m.startswith("kpiapp.models")]


def test_parsers_package_itself_imports_nothing_heavy():
    modules = loaded_modules(stub=True)
    assert "kpiapp.parsers.measures" in modules
    assert heavy(modules) == []
    assert "kpiapp.metrics" not in modules and "kpiapp.i18n" not in modules


def test_importing_kpiapp_parsers_loads_no_flask_or_sqlalchemy():
    assert heavy(loaded_modules(stub=False)) == []
