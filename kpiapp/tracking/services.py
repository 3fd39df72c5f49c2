"""Recompute the actuals of metric items from imported facts (docs/tracking.md).

`recompute_scorecard` flushes and never commits (service rule); the job-level functions
`recompute_cycle` and `recompute_after_import` compute every scorecard's scopes at once,
then write only the scorecards whose values changed, committing once per batch of
BATCH_SIZE of them (one bulk UPDATE, one audit event), and redo a failing batch scorecard
by scorecard so one refused scorecard does not undo the others.
"""
import functools
import gc
import json
import logging
from datetime import date, datetime, time, timezone
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import defer, joinedload, selectinload

from kpiapp.appraisal import services as appraisal
from kpiapp.appraisal.workflow import ScorecardState
from kpiapp import audit
from kpiapp.audit import to_jsonable
from kpiapp.extensions import db
from kpiapp.metrics import batch
from kpiapp.metrics.services import DefinitionError, compute_metric
from kpiapp.models import (Cycle, ImportKind, ImportRecord, ImportStatus, KeyResult, KrKind, MetricFact, Scorecard,
                           ScorecardItem)
from kpiapp.models.appraisal import CycleStatus, ItemKind
from kpiapp.objectives import attainment

log = logging.getLogger(__name__)
SCALE = Decimal("0.000001")  # scorecard_item.actual is Numeric(20, 6)
MAX_FX_NOTES = 20
BATCH_SIZE = 500  # scorecards whose scopes are computed together

# provenance["reason"] -> what "explain my score" shows when the actual is empty
REASONS = {
    "no_scope": _l("No stores are in this item's scope."),
    "no_data": _l("No imported data for these stores in this period yet."),
    "missing_rates": _l("An exchange rate is missing, so the value cannot be computed."),
    "zero_divisor": _l("The divisor of the formula is zero for this period."),
    "missing_measures": _l("Part of the formula has no imported data for these stores in this period "
                           "(the inputs without a value below); it is not counted as zero."),
    "unknown_metric": _l("This metric is not in the metric dictionary."),
    "period_not_started": _l("The cycle's period has not started yet."),
    "no_key_results": _l("This person owns no key results of objectives in the cycle's period."),
    "no_progress": _l("None of this person's key results for the cycle's period has progress yet."),
}


def reason_text(code):
    """The translated explanation of a provenance reason code (None when there is none)."""
    return REASONS.get(code) if code else None


def utc_today():
    return datetime.now(timezone.utc).date()


# ---- one scorecard ----------------------------------------------------------------------

def recompute_scorecard(scorecard_id, today=None, results=None):
    """Recompute every metric item of a non-locked scorecard; returns how many items changed.

    `results` ({Scope: MetricValue} from `metrics.batch.compute_scopes`) is what a batch
    of scorecards computed set-based; without it this scorecard's scopes are computed
    here. Locked scorecards (and unknown ids) are left alone and give 0. Flushes, never commits.
    """
    # FOR UPDATE (PostgreSQL): wait for a lock in flight and re-read the state after it
    card = db.session.get(Scorecard, scorecard_id, with_for_update=True, populate_existing=True)
    if card is None or card.is_locked or card.cycle.status == CycleStatus.closed:
        return 0
    today = today or utc_today()
    items = [item for item in card.items if tracked(item) or item.is_okr]
    if results is None:
        pairs = [(item, card.cycle) for item in items if tracked(item)]
        results = batch.compute_scopes(item_scopes(pairs, today))
    changed = 0
    for item in items:
        value, as_of, provenance = compute_any(item, card, today, results)
        if unchanged(item, value, as_of, provenance):
            continue
        appraisal.set_actual(item, value, as_of, provenance)
        changed += 1
    return changed


def tracked(item):
    """A metric item whose actual comes from the facts: not a manual item, and not an actual
    a person set by hand with a reason (a dispute's correction, docs/disputes.md)."""
    return item.kind == ItemKind.metric and bool(item.metric_key) and not appraisal.is_manual_actual(item)


def compute_any(item, card, today, results=None):
    """(value, data_as_of, provenance) of a metric item, or of the OKR attainment item (the
    weighted progress of the person's key results for the cycle's period)."""
    if item.is_okr:
        scope = okr_scope(card)
        if results is not None and scope in results:
            return results[scope]
        return attainment.attainment(scope.person_id, scope.period_start, scope.period_end)
    return compute_item(item, card.cycle, today, results)


def okr_scope(card):
    return attainment.OkrScope(card.person_id, card.cycle.period_start, card.cycle.period_end)


def item_shares(scope):
    shares = []
    for entry in scope or ():
        try:
            share = Decimal(str(entry.get("share_pct", "100"))) / 100
            shares.append((int(entry["store_id"]), share))
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue
    return shares


def period_of(cycle, today):
    return cycle.period_start, min(cycle.period_end, today)


def item_scope(item, cycle, today):
    """The distinct-scope key of a metric item, or None when it needs no facts."""
    start, end = period_of(cycle, today)
    shares = item_shares(item.scope)
    if end < start or not shares:
        return None
    return batch.scope_of(item.metric_key, shares, start, end)


def item_scopes(pairs, today):
    """The distinct scopes of (item, cycle) pairs."""
    return {scope for scope in (item_scope(item, cycle, today) for item, cycle in pairs) if scope}


def compute_item(item, cycle, today, results=None):
    """(value, data_as_of, provenance) for one metric item.

    With `results` the item's scope is looked up there (computed set-based); without it,
    or for a scope not in it, `compute_metric` computes it alone (the reference path).
    """
    start, end = period_of(cycle, today)
    provenance = {"source": "metric_facts", "metric_key": item.metric_key, "definition_version": None,
                  "formula": None, "period": [start.isoformat(), end.isoformat()],
                  "scope": item.scope or [], "inputs": {},
                  "base_currency": current_app.config["BASE_CURRENCY"], "fact_count": 0, "import_ids": [],
                  "fx": [], "fx_count": 0, "missing_rates": [], "missing_measures": [], "notes": [],
                  "reason": None}
    shares = item_shares(item.scope)
    if end < start:
        return None, None, {**provenance, "reason": "period_not_started"}
    if not shares:
        return None, None, {**provenance, "reason": "no_scope"}
    result = metric_value(item.metric_key, shares, start, end, results)
    if result is None:
        return None, None, {**provenance, "reason": "unknown_metric"}
    provenance.update(
        definition_version=result.version, formula=result.formula,
        inputs={k: str(v.normalize()) for k, v in result.inputs.items()},
        fact_count=result.fact_count, import_ids=list(result.import_ids),
        fx=result.fx_notes[:MAX_FX_NOTES], fx_count=len(result.fx_notes),
        missing_rates=list(result.missing_rates), missing_measures=list(result.missing_measures),
        notes=list(result.notes), reason=no_value_reason(result))
    value = None if result.value is None else result.value.quantize(SCALE, rounding=ROUND_HALF_UP)
    return value, result.data_as_of, provenance


def metric_value(metric_key, shares, start, end, results):
    """The MetricValue of one scope (None: unknown metric), from `results` when it has it."""
    scope = batch.scope_of(metric_key, shares, start, end)
    if results is not None and scope in results:
        return results[scope]
    try:
        return compute_metric(metric_key, shares, start, end)
    except DefinitionError:
        return None


def no_value_reason(result):
    if result.value is not None:
        return None
    if result.missing_rates:
        return "missing_rates"
    if result.missing_measures and result.inputs:
        return "missing_measures"
    if result.inputs:
        return "zero_divisor"
    return "no_data"


def as_datetime(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=timezone.utc)
    return value


def unchanged(item, value, as_of, provenance, stored_form=None):
    """Whether the item holds these values already; `stored_form` is to_jsonable(provenance)
    when the caller has it (`Computed`)."""
    stored_as_of = item.data_as_of
    if stored_as_of is not None and stored_as_of.tzinfo is None:
        stored_as_of = stored_as_of.replace(tzinfo=timezone.utc)
    same_value = (item.actual is None and value is None) or (
        item.actual is not None and value is not None and Decimal(item.actual) == value)
    if not (same_value and stored_as_of == as_datetime(as_of)):
        return False
    return item.provenance == (to_jsonable(provenance) if stored_form is None else stored_form)


class Computed:
    """What a recompute computed, once per distinct input instead of once per item.

    About 1 in 8 metric items of a cycle is distinct: the members of a team share the metric,
    the stores with their shares (`scope`) and the period. `of(item, card)` gives
    (value, data_as_of, provenance, to_jsonable(provenance)) of an item, computed once per
    (metric key, scope, period) for metric items; `points(item, actual)` gives metric_points,
    once per (rule, limits, actual, manager score). The same objects are handed to every item
    with those inputs: callers only read them (the bulk UPDATE serialises them)."""

    def __init__(self, today, results):
        self.today, self.results = today, results
        self.values, self.scores = {}, {}

    def of(self, item, card):
        if item.is_okr:
            value, as_of, provenance = compute_any(item, card, self.today, self.results)
            return value, as_of, provenance, to_jsonable(provenance)
        cycle = card.cycle
        key = (item.metric_key, repr(item.scope), cycle.period_start, cycle.period_end)
        if key not in self.values:
            value, as_of, provenance = compute_item(item, cycle, self.today, self.results)
            self.values[key] = (value, as_of, provenance, to_jsonable(provenance))
        return self.values[key]

    def unchanged(self, item, card):
        value, as_of, provenance, stored_form = self.of(item, card)
        return unchanged(item, value, as_of, provenance, stored_form)

    def points(self, item, actual):
        key = repr((item.rule, *(getattr(item, name) for name in appraisal.RULE_LIMITS), actual,
                    item.manager_score))  # repr: Decimal("1.5") and Decimal("1.50") are kept apart
        if key not in self.scores:
            self.scores[key] = appraisal.metric_points(item, actual)
        return self.scores[key]


# ---- many scorecards (job level: commits per scorecard) ---------------------------------------

def recompute_many(scorecard_ids, progress=None, today=None):
    """Recompute the scorecards and commit; returns the number of items changed.

    1. Read: the scorecards' items are loaded once and every distinct scope among them is
       computed set-based (`metrics.batch.compute_scopes`: one fact query per period over all
       their stores, each store's sums converted once), then compared with the stored values.
    2. Only the scorecards with an item that differs are written, BATCH_SIZE at a time: locked
       FOR UPDATE, recomputed on the fresh rows, one bulk UPDATE, one audit event and one commit
       per batch (`write_batch`); a batch whose write fails (a card locked in between that the
       lock trigger refuses) is redone scorecard by scorecard.
    When nothing changed, nothing is locked, written or audited.
    """
    today = today or utc_today()
    cards, results = read_cards(list(scorecard_ids), today)
    computed = Computed(today, results)
    stale = [card.id for card in cards if needs_write(card, computed)]
    loaded = bool(cards)
    del cards  # unreferenced, the session lets them go: each batch's commit does not expire them all again
    if loaded:  # a full collection walks every object of the process (~0.2 s in an import's job)
        gc.collect()
    db.session.commit()  # end the read transaction before the writes
    total = done = 0
    for part in batch.chunks(stale, BATCH_SIZE):
        total += write_batch_or_each(part, today, results, computed)
        done += len(part)
        if progress:
            progress(100 * done // len(stale))
    if progress and not stale:
        progress(100)
    return total


# JSON columns of the items the comparison does not read: not decoded (~1/3 of the items' JSON)
NOT_READ = (defer(ScorecardItem.rule), defer(ScorecardItem.explanation))


def read_cards(scorecard_ids, today):
    """(the non-locked scorecards with items and cycle, {Scope: MetricValue} of their metric items
    and {OkrScope: attainment} of their OKR items)."""
    cards = []
    for part in batch.chunks(scorecard_ids, BATCH_SIZE):
        cards += db.session.execute(
            select(Scorecard).where(Scorecard.id.in_(part), Scorecard.state != ScorecardState.LOCKED)
            .options(selectinload(Scorecard.items).options(*NOT_READ), joinedload(Scorecard.cycle))
        ).scalars().all()
    pairs = [(item, card.cycle) for card in cards for item in card.items if tracked(item)]
    results = batch.compute_scopes(item_scopes(pairs, today))
    results.update(attainment.attainments({okr_scope(card) for card in cards
                                           if any(item.is_okr for item in card.items)}))
    return cards, results


def batch_results(scorecard_ids, today):
    """{Scope: MetricValue} for the metric items of these scorecards (locked ones left out)."""
    return read_cards(scorecard_ids, today)[1]


def needs_write(card, computed):
    """Whether a scorecard (as read, not locked) has an item whose computed values differ."""
    if card.is_locked or card.cycle.status == CycleStatus.closed:
        return False
    with db.session.no_autoflush:
        return any(not computed.unchanged(item, card) for item in card.items if tracked(item) or item.is_okr)


def write_batch_or_each(card_ids, today, results, computed=None):
    try:
        changed = write_batch(card_ids, today, results, computed)
        db.session.commit()
        return changed
    except (appraisal.FrozenError, DBAPIError) as error:
        db.session.rollback()
        log.info("tracking: batch of %s scorecards redone one by one: %s", len(card_ids), error)
        return sum(recompute_one(card_id, today, results) for card_id in card_ids)


def write_batch(card_ids, today, results, computed=None):
    """Write the changed metric items of these scorecards (locked ones and closed cycles left
    alone) with one bulk UPDATE and one `scorecard_item.recompute` audit event naming the
    scorecards and the items' old and new actuals; flushes, never commits. Returns items changed.

    The scorecards are read FOR UPDATE (PostgreSQL) first, as `recompute_scorecard` does.
    """
    cards = db.session.execute(
        select(Scorecard).where(Scorecard.id.in_(card_ids)).order_by(Scorecard.id)
        .with_for_update(of=Scorecard)
        .options(selectinload(Scorecard.items).options(defer(ScorecardItem.explanation)),  # written, not read
                 selectinload(Scorecard.cycle))
        .execution_options(populate_existing=True)).scalars().all()
    computed = computed or Computed(today, results)
    rows, touched = [], set()
    with db.session.no_autoflush:
        for card in cards:
            if card.is_locked or card.cycle.status == CycleStatus.closed:
                continue
            for item in card.items:
                row = changed_row(item, card, computed)
                if row:
                    rows.append(row)
                    touched.add(card.id)
    if rows:
        old = {row["id"]: row.pop("old_actual") for row in rows}
        update_items(rows)
        audit.record(db.session, "scorecard_item.recompute", "scorecard_item", before={"actual": old},
                     after={"actual": {row["id"]: row["actual"] for row in rows},
                            "scorecards": sorted(touched), "items": len(rows)})
    return len(rows)


UPDATE_ROWS = 5000  # items per UPDATE on PostgreSQL


def update_items(rows):
    """Write `actual_columns` rows ({"id": …, column: value}) of scorecard items.

    On PostgreSQL one `UPDATE … FROM json_to_recordset(:rows)` per UPDATE_ROWS items: the rows
    go as ONE JSON document serialised by the json module's C encoder (psycopg's executemany
    is one statement per row, and binding an array per column escapes every provenance in
    Python: 3.1 s for 8,000 items). The JSON columns keep the text `json.dumps` gives them, as
    psycopg's Json would, and None as JSON null, as the ORM's JSON type does (COALESCE).
    Elsewhere, the ORM's bulk UPDATE by primary key.
    """
    session = db.session
    if session.get_bind().dialect.name != "postgresql":
        session.execute(update(ScorecardItem), rows)
        return
    dialect, table = session.get_bind().dialect, ScorecardItem.__table__
    names = [name for name in rows[0] if name != "id"]
    record = ", ".join(f"{name} {table.c[name].type.compile(dialect)}" for name in ["id", *names])
    sets = ", ".join(f"{name} = COALESCE(given.{name}, 'null'::json)" if isinstance(table.c[name].type, JSON)
                     else f"{name} = given.{name}" for name in names)
    sql = text(f"UPDATE scorecard_item SET {sets} FROM json_to_recordset(CAST(:rows AS JSON)) "
               f"AS given ({record}) WHERE scorecard_item.id = given.id")
    for part in batch.chunks(rows, UPDATE_ROWS):
        session.execute(sql, {"rows": json.dumps(part, default=json_scalar)})


def json_scalar(value):
    """Decimals and datetimes as the text PostgreSQL reads back exactly (numeric, timestamptz)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def changed_row(item, card, computed):
    """The UPDATE row of a metric or OKR item whose computed values differ from the stored ones, else None."""
    if not (tracked(item) or item.is_okr):
        return None
    value, as_of, provenance, stored_form = computed.of(item, card)
    if unchanged(item, value, as_of, provenance, stored_form):
        return None
    columns = appraisal.actual_columns(item, value, as_of, None, points=computed.points)
    return {"id": item.id, "old_actual": item.actual, **columns, "provenance": stored_form}  # to_jsonable'd


def recompute_one(card_id, today, results):
    try:
        changed = recompute_scorecard(card_id, today, results)
        db.session.commit()
        return changed
    except (appraisal.FrozenError, DBAPIError) as error:
        # locked while we computed (service check or lock trigger): leave it frozen
        db.session.rollback()
        log.info("tracking: scorecard %s not updated: %s", card_id, error)
        return 0


def open_scorecard_ids(cycle_ids=None, date_from=None, date_to=None):
    """Ids of non-locked scorecards of non-closed cycles (optionally overlapping a date range)."""
    query = (select(Scorecard.id).join(Cycle, Scorecard.cycle_id == Cycle.id)
             .where(Scorecard.state != ScorecardState.LOCKED, Cycle.status != CycleStatus.closed))
    if cycle_ids is not None:
        query = query.where(Scorecard.cycle_id.in_(cycle_ids))
    if date_from is not None:
        query = query.where(Cycle.period_end >= date_from)
    if date_to is not None:
        query = query.where(Cycle.period_start <= date_to)
    return list(db.session.execute(query.order_by(Scorecard.id)).scalars())


def recompute_cycle(cycle_id, progress=None, today=None):
    """Recompute every non-locked scorecard of a cycle; commits; returns items changed."""
    return recompute_many(open_scorecard_ids([cycle_id]), progress, today)


def running_cycle_ids():
    return list(db.session.execute(select(Cycle.id).where(Cycle.status == CycleStatus.running)
                                   .order_by(Cycle.id)).scalars())


def scorecards_for_import(record, footprint=None):
    """The scorecards an import can change (docs/tracking.md, 'Flow'). footprint: a function
    giving import_footprint(record.id), when the caller reads it once for two recomputes."""
    if record.kind == ImportKind.fx:
        return open_scorecard_ids(running_cycle_ids())
    stores, low, high = footprint() if footprint else import_footprint(record.id)
    if not stores:
        return []
    ids = open_scorecard_ids(date_from=low, date_to=high)
    if not ids:
        return []
    cards = db.session.execute(select(Scorecard).where(Scorecard.id.in_(ids))
                               .options(selectinload(Scorecard.items))).scalars().all()
    owners = metric_kr_owners(stores)
    return [card.id for card in cards if any(meets(item, stores, owners, card) for item in card.items)]


def import_footprint(import_id):
    """(stores, first business date, last period end) of an import's facts; (empty set, None,
    None) when it has none. As its write phase kept them on the record (imports.services.
    keep_footprint, migration 0042), else (an import committed before 0042) read from its facts
    (`read_footprint`). The tracking job asks once for both its recomputes (`footprint_once`)."""
    record = db.session.get(ImportRecord, import_id)
    if record is not None and record.facts_stores is not None:
        return set(record.facts_stores), record.facts_from, record.facts_to
    return read_footprint(import_id)


def read_footprint(import_id):
    """import_footprint from the facts themselves, in one pass over them (its import_id index)."""
    f = MetricFact
    rows = db.session.execute(select(f.store_id, func.min(f.business_date), func.max(f.period_end))
                              .where(f.import_id == import_id).group_by(f.store_id)).all()
    if not rows:
        return set(), None, None
    return {store for store, _, _ in rows}, min(low for _, low, _ in rows), max(high for _, _, high in rows)


def footprint_once(import_id):
    """A function giving import_footprint(import_id), read on its first call and kept."""
    return functools.cache(functools.partial(import_footprint, import_id))


def meets(item, stores, owners, card):
    """A metric item over one of the stores, or the OKR item of someone owning a metric key
    result over one of them (recompute_import_body recomputes key results first)."""
    if item.is_okr:
        return card.person_id in owners
    return item.kind == ItemKind.metric and bool(stores & {s for s, _ in item_shares(item.scope)})


def metric_kr_owners(stores):
    """The owners of metric key results whose scope has one of these stores."""
    rows = db.session.execute(select(KeyResult.owner_id, KeyResult.scope).where(KeyResult.kind == KrKind.metric))
    return {owner for owner, scope in rows if stores & {s for s, _ in item_shares(scope)}}


def recompute_after_import(import_id, progress=None, today=None):
    """Recompute the scorecards a committed import touches; commits; returns items changed."""
    return recompute_import(import_id, progress, today)[1]


def recompute_import(import_id, progress=None, today=None, footprint=None):
    """(scorecards recomputed, items changed) for a committed import; commits per scorecard.

    Only the scorecards whose items' stores and cycle period meet the import's stores and
    dates are recomputed (`scorecards_for_import`); the import summary shows their number.
    footprint: see scorecards_for_import.
    """
    record = db.session.get(ImportRecord, import_id)
    if record is None or record.status != ImportStatus.committed:
        return 0, 0
    ids = scorecards_for_import(record, footprint)
    db.session.commit()  # end the read transaction before the per-scorecard writes
    return len(ids), recompute_many(ids, progress, today)


# ---- demo seeding: one recompute at the end instead of one per import ----------------------

_suspended = __import__("contextvars").ContextVar("tracking_suspended", default=False)


class suspended:
    """`with suspended():` after-import recomputes in this context are skipped (in-process only)."""

    def __enter__(self):
        self._token = _suspended.set(True)

    def __exit__(self, *exc):
        _suspended.reset(self._token)


def is_suspended():
    return _suspended.get()
