"""From one scorecard item's number to the fact rows behind it (docs/tracking.md, "Provenance page").

Queries only: no request, no view, no writes (an app context for the configuration, as in
metrics.services). `item_provenance` recomputes the item's stored period,
scope and definition version with `metrics.services.explain_metric`, the function
`compute_metric` runs, so `fact_page` lists exactly the facts summed: those of
`fact_filter` minus the groups `pick_families` dropped.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from kpiapp.extensions import db
from kpiapp.metrics.formula import PERIOD_DAYS
from kpiapp.metrics.services import (DefinitionError, MetricValue, explain_metric, fact_filter,
                                     get_definition, load_rates, validate_formula)
from kpiapp.models import ImportRecord, MetricFact, Store
from kpiapp.parsers.measures import BASE_MEASURES
from kpiapp.tracking.services import item_shares

ROWS_PER_PAGE = 100
RATES_PER_PAGE = 50
GROUP_KEY = ("store_id", "family", "measure", "business_date", "period_end")


@dataclass
class Provenance:
    item: object
    stored: dict  # the item's provenance JSON (frozen once the scorecard is locked)
    definition: object = None  # the MetricDefinition version the stored figures name
    period: tuple | None = None  # (date_from, date_to) of the stored figures
    shares: dict = field(default_factory=dict)  # store_id -> share fraction
    stores: list = field(default_factory=list)  # [(Store, share_pct Decimal)]
    inputs: dict = field(default_factory=dict)  # stored: measure -> Decimal
    today: MetricValue | None = None  # the same computation on today's facts
    dropped: list = field(default_factory=list)  # GROUP_KEY tuples pick_families left out
    rates: list = field(default_factory=list)  # [(date, currency, rate)] used today
    imports: list = field(default_factory=list)  # [ImportRecord]

    @property
    def measures(self):
        """The base measures of the definition's formula, sorted."""
        if self.definition is None:
            return []
        return sorted(validate_formula(self.definition.formula).names - {PERIOD_DAYS})

    @property
    def differs(self):
        """Whether today's facts give other inputs than the stored figures."""
        return self.today is not None and self.today.inputs != self.inputs


def item_provenance(item):
    """The provenance of a metric item's number; None for a manual item."""
    if not item.metric_key:
        return None
    stored = item.provenance or {}
    found = Provenance(item, stored, inputs={k: Decimal(v) for k, v in (stored.get("inputs") or {}).items()})
    found.definition = get_definition(item.metric_key, stored.get("definition_version"))
    found.period = stored_period(stored)
    found.shares = dict(item_shares(stored.get("scope")))
    found.stores = scope_stores(found.shares)
    if found.definition is not None and found.period and found.shares:
        recompute(found)
    found.imports = imports_of(set(stored.get("import_ids") or ())
                               | set(found.today.import_ids if found.today else ()))
    return found


def stored_period(stored):
    try:
        start, end = (date.fromisoformat(day) for day in stored["period"])
    except (KeyError, TypeError, ValueError):
        return None
    return (start, end) if start <= end else None


def scope_stores(shares):
    """[(Store, share in percent)] in the scope's order, in one query."""
    stores = {s.id: s for s in db.session.execute(select(Store).where(Store.id.in_(list(shares)))).scalars()}
    return [(stores[store_id], share * 100) for store_id, share in shares.items() if store_id in stores]


def recompute(found):
    """Today's value of the stored period, scope and version, the groups dropped, the rates used."""
    start, end = found.period
    try:
        today, groups, summed = explain_metric(found.item.metric_key, list(found.shares.items()), start, end,
                                               version=found.definition.version)
    except DefinitionError:
        return
    kept = {group_key(g) for g in summed}
    found.today = today
    found.dropped = sorted({group_key(g) for g in groups} - kept)
    used = {(g.business_date, g.currency) for g in summed}
    rates = load_rates(summed, current_app.config["BASE_CURRENCY"])
    found.rates = sorted((day, currency, rate) for (day, currency), rate in rates.items()
                         if (day, currency) in used)


def group_key(row):
    return tuple(getattr(row, name) for name in GROUP_KEY)


def imports_of(import_ids):
    if not import_ids:
        return []
    query = (select(ImportRecord).options(joinedload(ImportRecord.uploaded_by))
             .where(ImportRecord.id.in_(import_ids)).order_by(ImportRecord.id))
    return db.session.execute(query).scalars().all()


@dataclass
class FactRow:
    id: int
    store_id: int
    measure: str
    business_date: date
    period_end: date
    sku: str
    ref: str
    value: Decimal
    currency: str | None
    source_line: int
    import_id: int
    filename: str
    rate: Decimal | None  # None: no conversion needed (rate 1) or the rate is missing (see counted)
    share: Decimal
    counted: Decimal | None  # value x rate x share in the base currency; None when the rate is missing


def fact_page(found, after=None, size=None):
    """(rows, next_after): one page of the facts summed into the number, in fact id order."""
    size = size or ROWS_PER_PAGE
    if found.today is None or not found.measures:
        return [], None
    start, end = found.period
    f = MetricFact
    query = (select(f.id, f.store_id, f.family, f.measure, f.business_date, f.period_end, f.sku, f.ref,
                    f.value, f.currency, f.source_line, f.import_id, ImportRecord.filename)
             .join(ImportRecord, ImportRecord.id == f.import_id)
             .where(*fact_filter(list(found.shares), found.measures, start, end, None))
             .order_by(f.id).limit(size + 1))
    if found.dropped:
        query = query.where(~tuple_(*(getattr(f, name) for name in GROUP_KEY)).in_(found.dropped))
    if after is not None:
        query = query.where(f.id > after)
    rows = db.session.execute(query).all()
    next_after = rows[size - 1].id if len(rows) > size else None
    rows = rows[:size]
    rates = load_rates(rows, current_app.config["BASE_CURRENCY"])  # no query when nothing converts
    return [fact_row(row, found.shares, rates) for row in rows], next_after


def fact_row(row, shares, rates):
    base = current_app.config["BASE_CURRENCY"]
    share = shares[row.store_id]
    rate = None
    if BASE_MEASURES[row.measure].unit == "money" and (row.currency or base) != base:
        rate = rates.get((row.business_date, row.currency))
        counted = None if rate is None else Decimal(row.value) * rate * share
    else:
        counted = Decimal(row.value) * share
    return FactRow(row.id, row.store_id, row.measure, row.business_date, row.period_end, row.sku, row.ref,
                   Decimal(row.value), row.currency, row.source_line, row.import_id, row.filename,
                   rate, share, counted)


def rate_page(found, start=0, size=RATES_PER_PAGE):
    """(rates, next_start): a page of the FX rates used (already loaded: no query)."""
    start = max(start, 0)
    end = start + size
    return found.rates[start:end], end if end < len(found.rates) else None
