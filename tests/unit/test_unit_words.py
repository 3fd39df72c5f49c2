"""Metric units and item fields are named in the reader's language (kpiapp.presentation)."""
import pytest

from kpiapp import presentation
from kpiapp.metrics.catalog import UNITS
from kpiapp.parsers.measures import UNITS as MEASURE_UNITS


@pytest.mark.parametrize("unit", sorted(set(UNITS) | set(MEASURE_UNITS)))
def test_every_unit_has_words_in_both_languages(unit):
    assert presentation.unit_label(unit, "en") != unit or unit in ("count", "hours", "days", "ratio")
    assert not presentation.unit_label(unit, "zh_CN").isascii()


def test_unit_and_field_words():
    assert presentation.unit_label("fraction", "zh_CN") == "百分比"
    assert presentation.unit_label("money", "en") == "amount of money"
    assert presentation.unit_label("furlongs", "zh_CN") == "furlongs"  # unknown: shown as stored
    assert presentation.field_label("stretch", "zh_CN") == "挑战值"
    assert presentation.field_label("target", "en") == "Target"
