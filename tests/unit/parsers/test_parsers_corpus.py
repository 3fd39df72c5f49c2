"""The malformed-input corpus (fixtures/malformed, built by make_malformed.py).

Every file must be refused with the error it was built to trigger: a whole-file ParseError,
or row errors (which make the import service write nothing unless partial imports are allowed).
No file may raise anything else, and no row with an error keeps any fact.
"""

import json
from datetime import date

import pytest
from parser_fixtures import FIXTURES

from kpiapp.parsers import ParseError, parse_file, parse_fx

CORPUS = FIXTURES / "malformed"
MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))


def test_corpus_has_at_least_60_files():
    assert len(MANIFEST) >= 60
    assert sorted(MANIFEST) == sorted(p.name for p in CORPUS.iterdir() if p.name != "MANIFEST.json")


def parse(name: str, options: dict):
    data = (CORPUS / name).read_bytes()
    if options.get("fx"):
        return parse_fx(data, name)
    kw = {k: v for k, v in options.items() if k in ("currency", "parser")}
    if "date_from" in options:
        kw["date_from"] = date.fromisoformat(options["date_from"])
    return parse_file(data, name, **kw)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_malformed_file_is_refused_with_its_reason(name):
    expect = MANIFEST[name]["expect"]
    try:
        result = parse(name, MANIFEST[name]["options"])
    except ParseError as exc:
        assert exc.code == expect, exc.message
        return
    facts, errors = result if isinstance(result, tuple) else (result.facts, result.errors)
    assert expect in {e.code for e in errors}, errors
    bad_lines = {e.line for e in errors}
    assert not [f for f in facts if f.line in bad_lines]
