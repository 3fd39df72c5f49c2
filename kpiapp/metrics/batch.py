"""Actuals of many metric items at once, set-based (docs/tracking.md, "Set-based recompute").

`compute_metric` runs about eight queries for one (metric, stores, period). A cycle of
2,000 people has ~8,800 metric items but only ~1,000 distinct scopes (metric definition ×
stores with shares × period), so here:

* requests are deduplicated by `Scope` and each distinct scope is computed once;
* per period, ONE query reads the day groups of fact_day (metrics/fact_day.py: the facts
  `compute_metric` sums, pre-summed by its GROUP BY key with their import ids, kept by the
  import in the facts' transaction) for the union of the stores and measures, one sums the
  facts partly outside the period by (store, measure) from the same table, and one loads
  the FX rates of every (date, currency) needed: the cost follows the day groups, not the facts;
* each scope is then evaluated in Python with the functions `compute_metric` uses
  (pick_families, converted, evaluate) over its stores' rows in the same order, each store's
  groups picked and converted once for every scope holding it,
  so value, inputs and provenance are identical to `compute_metric`'s, Decimal for Decimal.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select

from kpiapp.extensions import db
from kpiapp.metrics import fact_day
from kpiapp.metrics.formula import PERIOD_DAYS, parse_formula
from kpiapp.metrics.services import MetricValue, converted, evaluate, load_rates, pick_families
from kpiapp.models import FactDay, MetricDefinition
from kpiapp.parsers.measures import BASE_MEASURES

STORES_PER_QUERY = 500  # keeps IN lists far below SQLite's bound-parameter limit


@dataclass(frozen=True)
class Scope:
    metric_key: str
    shares: tuple  # ((store_id, share as str), ...) sorted by store; str keeps Decimal exponents apart
    date_from: date
    date_to: date


def scope_of(metric_key, store_shares, date_from, date_to):
    """The Scope of `compute_metric(metric_key, store_shares, date_from, date_to)`."""
    shares = {store_id: Decimal(str(share)) for store_id, share in store_shares}
    return Scope(metric_key, tuple(sorted((s, str(v)) for s, v in shares.items())), date_from, date_to)


def compute_scopes(scopes):
    """{scope: MetricValue} for every scope; None for a metric key with no current definition."""
    formulas = load_formulas({scope.metric_key for scope in scopes})
    results, by_period = {}, defaultdict(list)
    for scope in set(scopes):
        if scope.metric_key in formulas:
            by_period[(scope.date_from, scope.date_to)].append(scope)
        else:
            results[scope] = None
    for (date_from, date_to), group in by_period.items():
        facts = PeriodFacts(date_from, date_to, group, formulas)
        results.update((scope, facts.compute(scope, *formulas[scope.metric_key])) for scope in group)
    return results


def load_formulas(keys):
    """key -> (current definition, parsed formula, sorted measures), in one query."""
    if not keys:
        return {}
    rows = db.session.execute(select(MetricDefinition).where(
        MetricDefinition.key.in_(keys), MetricDefinition.is_current)).scalars()
    formulas = {}
    for definition in rows:
        formula = parse_formula(definition.formula, set(BASE_MEASURES))
        formulas[definition.key] = (definition, formula, sorted(formula.names - {PERIOD_DAYS}))
    return formulas


def chunks(values, size=STORES_PER_QUERY):
    return [values[n:n + size] for n in range(0, len(values), size)]


class PeriodFacts:
    """The aggregated facts of one period for the union of some scopes' stores and measures."""

    def __init__(self, date_from, date_to, scopes, formulas):
        self.date_from, self.date_to = date_from, date_to
        stores = sorted({store for scope in scopes for store, _ in scope.shares})
        measures = sorted({m for scope in scopes for m in formulas[scope.metric_key][2]})
        self.rows = defaultdict(list)  # store -> groups in fact_groups order
        self.runs = {}  # store -> [(family, measure, its groups)] in that order, made on first use
        self.imports = defaultdict(set)  # (store, measure) -> import ids
        self.partial = defaultdict(int)  # (store, measure) -> facts partly outside the period
        for part in chunks(stores):
            self.load(part, measures)
        groups = [g for rows in self.rows.values() for g in rows]
        self.base = current_app.config["BASE_CURRENCY"]
        self.rates = load_rates(groups, self.base)
        self.picked, self.amounts = {}, {}

    def load(self, stores, measures):
        parsed = {}  # import_ids text -> the ids (most groups repeat a few texts)
        for g in self.fact_groups(stores, measures):
            self.rows[g.store_id].append(g)
            ids = parsed.get(g.import_ids)
            if ids is None:
                ids = parsed[g.import_ids] = frozenset(int(n) for n in str(g.import_ids).split(","))
            self.imports[(g.store_id, g.measure)].update(ids)
        d = FactDay
        outside = (d.business_date < self.date_from) | (d.period_end > self.date_to)
        for store, measure, count in db.session.execute(
                select(d.store_id, d.measure, func.sum(d.all_facts))
                .where(d.store_id.in_(stores), d.measure.in_(measures), d.business_date <= self.date_to,
                       d.business_date != d.period_end,  # implied; lets ix_fact_day_ranges serve it
                       d.period_end >= self.date_from, outside)
                .group_by(d.store_id, d.measure)):
            self.partial[(store, measure)] += count

    def store_runs(self, store):
        """A store's rows grouped by (family, measure), the key they are ordered by, cached: the rows
        of a set of measures are then picked run by run, not row by row."""
        if store not in self.runs:
            runs = self.runs[store] = []
            for g in self.rows.get(store, ()):
                if not runs or runs[-1][:2] != (g.family, g.measure):
                    runs.append((g.family, g.measure, []))
                runs[-1][2].append(g)
        return self.runs[store]

    def fact_groups(self, stores, measures):
        """fact_groups' rows (same groups, sums, counts and ORDER BY) with each group's import ids,
        read from fact_day: one row per group, so no facts are summed here."""
        return db.session.connection().execute(self.fact_query(stores, measures)).all()  # Core rows

    def fact_query(self, stores, measures):
        return fact_day.groups_query(stores, measures, self.date_from, self.date_to)

    def store_groups(self, store, measures):
        """(groups before, groups after pick_families) of one store for a set of measures, cached."""
        key = (store, measures)
        if key not in self.picked:
            rows = [g for _, measure, groups in self.store_runs(store) if measure in measures for g in groups]
            self.picked[key] = (rows, pick_families(rows))
        return self.picked[key]

    def store_amounts(self, store, measures):
        """One store's summed groups in the base currency, cached: [(measure, amount, facts)] in
        `converted`'s order, with the FX notes and missing rates they gave (MetricValue)."""
        key = (store, measures)
        if key not in self.amounts:
            notes = MetricValue(None)
            picked = self.store_groups(store, measures)[1]
            amounts = [(g.measure, amount, g.facts)
                       for g, amount in converted(picked, notes, self.rates, self.base)]
            self.amounts[key] = (amounts, notes)
        return self.amounts[key]

    def compute(self, scope, definition, formula, measures):
        """What compute_metric returns for this scope: convert_and_weigh's sums, store by store in
        the same order (each store's conversion done once for every scope holding it)."""
        result = MetricValue(None, formula=str(formula), version=definition.version)
        shares = {store: Decimal(share) for store, share in scope.shares}
        wanted = frozenset(measures)
        totals = defaultdict(Decimal)
        for store in sorted(shares):
            amounts, notes = self.store_amounts(store, wanted)
            merge_notes(result, notes)
            share = shares[store]
            for measure, amount, facts in amounts:
                totals[measure] += amount * share
                result.fact_count += facts
        rows = [g for store in sorted(shares) for g in self.store_groups(store, wanted)[0]]
        self.describe(shares, wanted, rows, result)
        days = (self.date_to - self.date_from).days + 1
        return evaluate(formula, measures, totals, result, days)

    def describe(self, shares, measures, rows, result):
        """describe_sources from the loaded rows: data as of, import ids, partly-outside note."""
        result.data_as_of = max((g.period_end for g in rows), default=None)
        pairs = [(store, m) for store in shares for m in measures]
        result.import_ids = sorted(set().union(*(self.imports.get(p, ()) for p in pairs)))
        partial = sum(self.partial.get(p, 0) for p in pairs)
        if partial:
            result.notes.append(f"{partial} facts cover dates partly outside the period and were left out.")


def merge_notes(result, notes):
    """Append one store's FX notes and missing rates to the scope's, as note_rate would: each once,
    in first-seen order."""
    for mine, theirs in ((result.fx_notes, notes.fx_notes), (result.missing_rates, notes.missing_rates)):
        seen = set(mine)
        for note in theirs:
            if note not in seen:
                mine.append(note)
                seen.add(note)
