"""The base-measure registry, re-exported from the pure parsers ring (kpiapp/parsers/measures.py).

It lives with the parsers so that importing kpiapp.parsers loads no Flask or SQLAlchemy.
"""

from kpiapp.parsers.measures import BASE_MEASURES, NON_NEGATIVE, UNITS, Measure, is_money

__all__ = ["BASE_MEASURES", "NON_NEGATIVE", "UNITS", "Measure", "is_money"]
