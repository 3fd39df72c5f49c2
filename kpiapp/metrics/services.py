"""Metric definitions (create, new version, validate) and actual values computed from facts.

Ratios are computed once from raw measures summed over the period and the stores,
never by averaging ratios (PRODUCT.md "Scoring"); see docs/imports.md for the rules.
"""
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import aliased

from kpiapp.extensions import db
from kpiapp.metrics.catalog import BUILTIN_METRICS_BY_KEY, UNITS
from kpiapp.metrics.formula import PERIOD_DAYS, FormulaError, parse_formula
from kpiapp.models import FxRate, MetricDefinition, MetricFact
from kpiapp.parsers.measures import BASE_MEASURES

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
DIRECTIONS = ("higher_better", "lower_better")
# When several report families give the same measure for a store and day, the first wins
# (e.g. Business Report ordered_sales over the orders file); unlisted families come after.
FAMILY_PRIORITY = ("amazon_sales_traffic", "amazon_ads", "amazon_settlement", "amazon_orders",
                   "amazon_inventory", "shopee_orders", "shopee_escrow", "tiktok_orders", "generic")
DEFINITION_FIELDS = ("name_en", "name_zh", "unit", "direction", "formula", "includes_en", "includes_zh")


class DefinitionError(ValueError):
    """A definition that cannot be saved; `field` names the form field at fault."""

    def __init__(self, field_name, message):
        super().__init__(message)
        self.field = field_name
        self.message = message


# ---- definitions ----------------------------------------------------------------------------

def current_definitions():
    """The current version of every metric definition, by key."""
    query = (select(MetricDefinition).where(MetricDefinition.is_current)
             .order_by(MetricDefinition.builtin.desc(), MetricDefinition.key))
    return db.session.execute(query).scalars().all()


def get_definition(key, version=None):
    query = select(MetricDefinition).where(MetricDefinition.key == key)
    if version:
        query = query.where(MetricDefinition.version == version)
    else:
        query = query.where(MetricDefinition.is_current)
    return db.session.execute(query).scalar_one_or_none()


def item_definition(item):
    """The definition a KPI item is scored with: the version a scorecard item's provenance
    names, else the current one, else the built-in; None for a manual item."""
    if not item.metric_key:
        return None
    version = (getattr(item, "provenance", None) or {}).get("metric_version")  # templates have none
    return get_definition(item.metric_key, version) or BUILTIN_METRICS_BY_KEY.get(item.metric_key)


def definition_versions(key):
    return db.session.execute(select(MetricDefinition).where(MetricDefinition.key == key)
                              .order_by(MetricDefinition.version.desc())).scalars().all()


def validate_formula(text):
    """The parsed formula (canonical text via str()); raises FormulaError."""
    return parse_formula((text or "").strip(), set(BASE_MEASURES))


def create_definition(key, values, actor):
    """Add a custom definition as version 1 (caller commits)."""
    key = (key or "").strip().lower()
    if not KEY_RE.match(key):
        raise DefinitionError("key", _l("Use 2-48 lowercase letters, digits or _, starting with a letter."))
    if get_definition(key) is not None:
        raise DefinitionError("key", _l("A metric with this key already exists."))
    definition = MetricDefinition(key=key, version=1, builtin=False, is_current=True,
                                  created_by_id=getattr(actor, "id", None), **clean(values))
    db.session.add(definition)
    db.session.flush()
    return definition


def revise_definition(key, values, actor):
    """Save an edit as a new version; older versions stay for the scorecards that use them."""
    old = get_definition(key)
    if old is None:
        raise DefinitionError("key", _l("Unknown metric."))
    values = clean(values)
    if all(getattr(old, name) == values[name] for name in DEFINITION_FIELDS):
        return old
    db.session.execute(update(MetricDefinition).where(MetricDefinition.key == key)
                       .values(is_current=False).execution_options(synchronize_session="fetch"))
    definition = MetricDefinition(key=key, version=old.version + 1, builtin=old.builtin, is_current=True,
                                  created_by_id=getattr(actor, "id", None), **values)
    db.session.add(definition)
    db.session.flush()
    return definition


def clean(values):
    values = {name: (values.get(name) or "").strip() for name in DEFINITION_FIELDS}
    if values["unit"] not in UNITS:
        raise DefinitionError("unit", _l("Unknown unit."))
    if values["direction"] not in DIRECTIONS:
        raise DefinitionError("direction", _l("Unknown direction."))
    if not values["name_en"] or not values["name_zh"]:
        raise DefinitionError("name_en", _l("Both names are required."))
    try:
        values["formula"] = str(validate_formula(values["formula"]))
    except FormulaError as error:
        raise DefinitionError("formula", str(error)) from None
    return values


# ---- computing actuals -------------------------------------------------------------------------

@dataclass
class MetricValue:
    value: Decimal | None
    inputs: dict = field(default_factory=dict)  # measure -> Decimal (base currency, after shares)
    data_as_of: date | None = None
    fact_count: int = 0
    import_ids: list = field(default_factory=list)
    fx_notes: list = field(default_factory=list)  # "EUR 2025-03-01 @ 1.08"
    missing_rates: list = field(default_factory=list)  # "No FX rate for EUR on 2025-03-01."
    missing_measures: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    formula: str = ""
    version: int | None = None


def compute_metric(definition_key, store_shares, date_from, date_to, *, sku=None, version=None):
    """The metric for stores weighted by share over [date_from, date_to], from imported facts.

    store_shares: [(store_id, share_fraction)], e.g. [(1, Decimal("0.5"))]. Each store's raw
    measures are summed over the period, money converted to BASE_CURRENCY at each business
    date's rate, multiplied by the share, summed across stores; the formula runs once on
    the sums. value is None for "no data" (no facts, zero divisor or a missing FX rate).
    """
    return explain_metric(definition_key, store_shares, date_from, date_to, sku=sku, version=version)[0]


def explain_metric(definition_key, store_shares, date_from, date_to, *, sku=None, version=None):
    """`compute_metric`'s MetricValue with the fact groups it read and the groups it summed
    (after `pick_families`): the provenance page lists exactly the facts of the summed groups."""
    definition = get_definition(definition_key, version)
    if definition is None:
        raise DefinitionError("key", f"Unknown metric: {definition_key}")
    formula = parse_formula(definition.formula, set(BASE_MEASURES))
    measures = sorted(formula.names - {PERIOD_DAYS})
    result = MetricValue(None, formula=str(formula), version=definition.version)
    shares = {store_id: Decimal(str(share)) for store_id, share in store_shares}
    groups = fact_groups(list(shares), measures, date_from, date_to, sku)
    summed = pick_families(groups)
    totals = convert_and_weigh(summed, shares, result)
    describe_sources(list(shares), measures, date_from, date_to, sku, result)
    return evaluate(formula, measures, totals, result, (date_to - date_from).days + 1), groups, summed


FACT_GROUP_KEY = (MetricFact.store_id, MetricFact.family, MetricFact.measure, MetricFact.business_date,
                  MetricFact.period_end, MetricFact.currency)


def fact_groups(store_ids, measures, date_from, date_to, sku):
    """Sums by (store, family, measure, date range, currency), SKU breakdowns dropped under totals.

    Ordered by that key: the order decides the order of FX notes in the provenance, which
    must not change from one run to the next (PostgreSQL's hash aggregate has no order).
    """
    f = MetricFact
    query = (select(f.store_id, f.family, f.measure, f.business_date, f.period_end, f.currency,
                    func.sum(f.value).label("total"), func.count().label("facts"))
             .where(*fact_filter(store_ids, measures, date_from, date_to, sku))
             .group_by(*FACT_GROUP_KEY).order_by(*FACT_GROUP_KEY))
    return db.session.execute(query).all()


def fact_filter(store_ids, measures, date_from, date_to, sku):
    """The WHERE of the facts a metric counts: a SKU row counts only when no total row (sku "")
    exists for its store, family, day, period end, ref and measure; with `sku`, only that SKU.

    The total test is one NOT EXISTS at the top of the WHERE (the SKU condition inside it, not
    OR-ed outside), so PostgreSQL plans it as a hash anti join against the period's total rows
    instead of one index probe per fact; its own store, measure and date bounds let the planner
    read only the period's partitions for the totals too.
    """
    f = MetricFact
    # business_date on both sides so PostgreSQL reads only the period's month partitions
    where = [f.store_id.in_(store_ids), f.measure.in_(measures), f.business_date >= date_from,
             f.business_date <= date_to, f.period_end <= date_to]
    if sku is not None:
        return where + [f.sku == sku]
    total = aliased(MetricFact)
    under_total = exists().where(
        f.sku != "", total.sku == "", total.store_id.in_(store_ids), total.measure.in_(measures),
        total.business_date >= date_from, total.business_date <= date_to,
        total.store_id == f.store_id, total.family == f.family, total.business_date == f.business_date,
        total.period_end == f.period_end, total.ref == f.ref, total.measure == f.measure)
    return where + [~under_total]


def family_rank(family):
    return FAMILY_PRIORITY.index(family) if family in FAMILY_PRIORITY else len(FAMILY_PRIORITY)


def pick_families(groups):
    """Per store and measure, days covered by a higher-priority family drop other families' facts.

    A range fact covers every day of its range, so a monthly Business Report and daily
    order files for the same month never add up to twice the sales.
    """
    by_measure = defaultdict(list)
    for g in groups:
        by_measure[(g.store_id, g.measure)].append(g)
    kept = []
    for items in by_measure.values():
        families = sorted({g.family for g in items}, key=family_rank)
        if len(families) == 1:  # nothing covered yet when the first family is chosen: all of it
            kept += items
            continue
        covered = set()
        for family in families:
            chosen = [g for g in items if g.family == family and not days(g) & covered]
            kept += chosen
            covered.update(*(days(g) for g in chosen))
    return kept


def days(group):
    if group.period_end == group.business_date:
        return {group.business_date}
    span = (group.period_end - group.business_date).days
    return {group.business_date + timedelta(days=n) for n in range(span + 1)}


def convert_and_weigh(groups, shares, result, rates=None):
    base = current_app.config["BASE_CURRENCY"]
    rates = load_rates(groups, base) if rates is None else rates
    totals = defaultdict(Decimal)
    for g, amount in converted(groups, result, rates, base):
        totals[g.measure] += amount * shares[g.store_id]
        result.fact_count += g.facts
    return totals


def converted(groups, result, rates, base):
    """(group, amount in the base currency) of each group whose rate is known, in order; the
    rates used and the missing ones are noted on `result` (a group without its rate is left out)."""
    for g in groups:
        amount = Decimal(str(g.total))
        if BASE_MEASURES[g.measure].unit == "money" and (g.currency or base) != base:
            rate = rates.get((g.business_date, g.currency))
            if rate is None:
                note_missing_rate(result, g.currency, g.business_date)
                continue
            note_rate(result, g.currency, g.business_date, rate)
            amount *= rate
        yield g, amount


def load_rates(groups, base):
    wanted = {(g.business_date, g.currency) for g in groups
              if BASE_MEASURES[g.measure].unit == "money" and g.currency and g.currency != base}
    if not wanted:
        return {}
    rows = db.session.execute(select(FxRate.date, FxRate.currency, FxRate.rate).where(
        FxRate.currency.in_({c for _, c in wanted}),
        FxRate.date.between(min(d for d, _ in wanted), max(d for d, _ in wanted)))).all()
    return {(d, c): Decimal(r) for d, c, r in rows}


def note_missing_rate(result, currency, day):
    message = f"No FX rate for {currency} on {day.isoformat()}."
    if message not in result.missing_rates:
        result.missing_rates.append(message)


def note_rate(result, currency, day, rate):
    note = f"{currency} {day.isoformat()} @ {rate.normalize()}"
    if note not in result.fx_notes:
        result.fx_notes.append(note)


def describe_sources(store_ids, measures, date_from, date_to, sku, result):
    """data as of, the imports behind the value, and ranges left out because only partly inside."""
    f = MetricFact
    where = fact_filter(store_ids, measures, date_from, date_to, sku)
    result.data_as_of = db.session.execute(select(func.max(f.period_end)).where(*where)).scalar()
    result.import_ids = sorted(db.session.execute(select(f.import_id).where(*where).distinct()).scalars())
    partial = db.session.execute(select(func.count()).where(
        f.store_id.in_(store_ids), f.measure.in_(measures), f.business_date <= date_to,
        f.period_end >= date_from, (f.business_date < date_from) | (f.period_end > date_to))).scalar()
    if partial:
        result.notes.append(f"{partial} facts cover dates partly outside the period and were left out.")


def evaluate(formula, measures, totals, result, period_days):
    if result.missing_rates:
        return result
    if not any(m in totals for m in measures):
        return result  # no data at all
    result.missing_measures = [m for m in measures if m not in totals]
    result.inputs = {m: totals[m] for m in measures if m in totals}
    if result.missing_measures:  # a measure with no facts is unknown, not 0 (TACoS without ads data)
        return result
    result.value = formula.evaluate({**result.inputs, PERIOD_DAYS: Decimal(period_days)})
    return result
