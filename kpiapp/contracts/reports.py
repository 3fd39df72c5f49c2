"""Contract reports (合同月报): periods, the terms in force, computing a revision from the facts,
the report flow's steps, the client's history and the fee export (docs/contracts.md).

Conventions as in the appraisal services: the actor is passed in, services flush but never
commit (the view commits), every step is an event on the report and an audit event, and
refusals raise ReportError with a stable `code` and a translatable message.
"""
from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale, gettext
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kpiapp import audit, policy
from kpiapp.appraisal import scoring
from kpiapp.appraisal.services import item_rule
from kpiapp.appraisal.workflow import TransitionError
from kpiapp.contracts import documents, fees, notifications
from kpiapp.contracts.amendment_flow import TermsState
from kpiapp.contracts.flow import ContractParty
from kpiapp.contracts.report_flow import REPORT_FLOW, ReportFacts, ReportState, ReportStep
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.metrics.services import DefinitionError, explain_metric, get_definition
from kpiapp.models import (ContractClause, ContractOverride, ContractPeriod, ContractReport,
                           ContractReportEvent, ContractReportRevision, ContractStatus, ContractVersion)
from kpiapp.models.appraisal import ItemKind
from kpiapp.models.base import utcnow
from kpiapp.tabular import neutralise

MAX_FX_NOTES = 20
HIDDEN_FROM_CLIENT = frozenset({ReportStep.GENERATE, ReportStep.REFRESH})
MESSAGES = {
    "not_active": N_("The contract is not in force."),
    "not_a_period": N_("This is not a reporting period of the contract."),
    "no_terms": N_("No terms are in force for this period."),
    "exists": N_("A report for this period exists already."),
    "not_draft": N_("Only a draft report can be changed: start a corrected revision first."),
    "unknown_clause": N_("This clause is not part of the report."),
    "reason_required": N_("Give the reason for the manual value."),
    "commission_missing": N_("The commission cannot be computed: the data for its measure is missing."),
    "forbidden": N_("You may not do this on this report."),
}


class ReportError(Exception):
    """A refused report operation: `code` is stable; `message` is the English msgid of the
    catalogue (N_), which the page translates (`_(error.message)`); `field` names the input."""

    def __init__(self, code, message=None, field=None):
        self.code, self.field = code, field
        self.message = message or MESSAGES.get(code, code)
        super().__init__(self.message)


def _refuse(code, field=None):
    raise ReportError(code, MESSAGES[code], field)


# ---- periods and terms -----------------------------------------------------------------------

def _month_end(day):
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _period_end(start, period):
    months = 3 if period == ContractPeriod.quarterly else 1
    end = start
    for _ in range(months):
        end = _month_end(end) + timedelta(days=1)
    return end - timedelta(days=1)


def _period_start(day, period):
    month = day.month if period != ContractPeriod.quarterly else 3 * ((day.month - 1) // 3) + 1
    return date(day.year, month, 1)


def periods(contract) -> list[tuple[date, date]]:
    """The reporting periods of the term: calendar months or quarters, cut to the term."""
    result, start = [], _period_start(contract.start_date, contract.period)
    while start <= contract.end_date:
        end = _period_end(start, contract.period)
        result.append((max(start, contract.start_date), min(end, contract.end_date)))
        start = end + timedelta(days=1)
    return result


def period_of(contract, period_start) -> tuple[date, date] | None:
    return next((p for p in periods(contract) if p[0] == period_start), None)


def terms_in_force(contract, period_start) -> ContractVersion | None:
    """The in-force version with the latest effective_from on or before `period_start`."""
    return db.session.execute(
        select(ContractVersion)
        .where(ContractVersion.contract_id == contract.id, ContractVersion.status == TermsState.IN_FORCE,
               ContractVersion.effective_from <= period_start)
        .order_by(ContractVersion.effective_from.desc(), ContractVersion.number.desc()).limit(1)
    ).scalar_one_or_none()


# ---- computing a revision ----------------------------------------------------------------------

def _text(value):
    return None if value is None else str(value)


def clause_scope(clause, version):
    return list(clause.store_ids or version.store_ids)


def _metric(metric_key, store_ids, start, end, sku=None):
    """(MetricValue | None, provenance dict) for `metric_key` over the stores and period."""
    provenance = {"source": "metric_facts", "metric_key": metric_key,
                  "period": [start.isoformat(), end.isoformat()], "stores": store_ids, "sku": sku or None,
                  "base_currency": current_app.config["BASE_CURRENCY"], "reason": None}
    if not store_ids:
        return None, {**provenance, "reason": "no_scope"}
    try:
        result = explain_metric(metric_key, [(s, 1) for s in store_ids], start, end, sku=sku or None)[0]
    except DefinitionError:
        return None, {**provenance, "reason": "unknown_metric"}
    provenance.update(
        formula=result.formula, definition_version=result.version,
        inputs={k: f"{v.normalize():f}" for k, v in result.inputs.items()},
        fact_count=result.fact_count, import_ids=list(result.import_ids),
        fx=result.fx_notes[:MAX_FX_NOTES], fx_count=len(result.fx_notes),
        missing_rates=list(result.missing_rates), missing_measures=list(result.missing_measures),
        notes=list(result.notes), data_as_of=_text(result.data_as_of),
        reason=None if result.value is not None else ("missing_rates" if result.missing_rates else "no_data"))
    return result, provenance


def _unit(metric_key):
    definition = get_definition(metric_key) if metric_key else None
    return definition.unit if definition is not None else None


def _override_of(report, clause_id):
    return next((o for o in report.overrides if o.clause_id == clause_id), None)


def clause_line(report, clause, version):
    """One line of a revision: the clause's value (from the data or its override), points and
    provenance; numbers as strings."""
    result, provenance = (None, None)
    if clause.kind == ItemKind.metric:
        result, provenance = _metric(clause.metric_key, clause_scope(clause, version), report.period_start,
                                     report.period_end, clause.sku)
    value = result.value if result is not None else None
    override = _override_of(report, clause.id)
    used = Decimal(override.value) if override is not None else value
    points, explanation = _points(clause, used)
    return {"clause_id": clause.id, "name": clause.name, "metric_key": clause.metric_key,
            "kind": str(clause.kind),
            "unit": _unit(clause.metric_key), "weight": _text(clause.weight), "target": _text(clause.target),
            "threshold": _text(clause.threshold), "stretch": _text(clause.stretch), "sku": clause.sku,
            "data_value": _text(value), "value": _text(used),
            "override": {"value": _text(override.value), "reason": override.reason} if override else None,
            "points": _text(points), "explanation": explanation, "provenance": provenance,
            "data_as_of": provenance.get("data_as_of") if provenance else None}


def _points(clause, value):
    manual = clause.kind == ItemKind.manual
    try:
        score = scoring.score_item(item_rule(clause), None if manual else value, value if manual else None)
    except scoring.ScoringError:
        return None, None
    return score.points, score.explanation.to_dict()


def _total(lines):
    try:
        return scoring.total_score([(_dec(line["points"]), Decimal(line["weight"])) for line in lines])
    except scoring.ScoringError:
        return None


def _dec(value):
    return None if value in (None, "") else Decimal(str(value))


def fee_terms(version):
    return fees.FeeTerms(base_fee=Decimal(version.base_fee or 0), commission_pct=_dec(version.commission_pct),
                         bands=fees.bands_from_json(version.fee_bands),
                         bonus_threshold=_dec(version.bonus_threshold),
                         bonus_amount=_dec(version.bonus_amount))


def commission_base(report, version, lines):
    """{"metric_key", "value", "provenance", "override"}: the commission metric over all the
    version's stores; a clause measuring the same metric over all of them (no SKU) with a
    manual value lends that value and its reason, so a correction reaches the fee too."""
    result, provenance = _metric(version.commission_metric, list(version.store_ids), report.period_start,
                                 report.period_end)
    base = {"metric_key": version.commission_metric, "value": _text(result.value if result else None),
            "provenance": provenance, "override": None}
    for line in lines:
        if line["override"] and line["metric_key"] == version.commission_metric and not line["sku"] \
                and _covers_all(line, version):
            base.update(value=line["value"], override={**line["override"], "clause": line["name"]})
    return base


def _covers_all(line, version):
    clause = next((c for c in version.clauses if c.id == line["clause_id"]), None)
    return clause is not None and set(clause_scope(clause, version)) == set(version.store_ids)


def compute_fee(report, version, score, lines=()):
    """{"steps", "total", "currency", "commission": {...}} or, when the commission cannot be
    computed, the same with steps/total None and "missing": "commission"."""
    commission = commission_base(report, version, lines) if version.commission_pct else None
    base = _dec(commission["value"]) if commission else None
    try:
        steps = fees.fee_for(fee_terms(version), score, base)
    except ValueError:
        return {"steps": None, "total": None, "currency": version.fee_currency, "commission": commission,
                "missing": "commission"}
    return {"steps": [s.to_dict() for s in steps], "total": str(steps[-1].amount),
            "currency": version.fee_currency, "commission": commission, "missing": None}


def compute_into(revision, report):
    """Rewrite `revision` from the facts, the terms in force and the report's overrides."""
    version = report.version
    lines = [clause_line(report, clause, version) for clause in version.clauses]
    score = _total(lines)
    fee = compute_fee(report, version, score, lines)
    as_of = [line["data_as_of"] for line in lines if line["data_as_of"]]
    revision.lines, revision.score, revision.fee = lines, score, fee
    revision.fee_total = _dec(fee["total"])
    revision.data_as_of = date.fromisoformat(max(as_of)) if as_of else None
    revision.computed_at = utcnow()
    return revision


# ---- the flow ---------------------------------------------------------------------------------

def _parties(actor, report):
    return policy.contract_parties(actor, report.contract)


def _lock(report):
    """Re-read the report's row under a lock (PostgreSQL): two people taking a step at once
    take it one after the other, the second against the state the first left."""
    if report.id is not None:
        db.session.flush()
        db.session.refresh(report, attribute_names=["state", "revision"], with_for_update=True)


def _check(report, step, actor, *, text=None, facts=None):
    _lock(report)
    try:
        return REPORT_FLOW.check(report.state, step, _parties(actor, report), text=text, facts=facts)
    except TransitionError as error:
        raise ReportError(error.code, _flow_message(error.code)) from None


def _flow_message(code):
    return REPORT_FLOW.messages.get(code) or {"forbidden": MESSAGES["forbidden"],
            "not_allowed_in_state": N_("This step is not possible in the report's current state."),
            "text_required": N_("Write a comment.")}.get(code, code)


def _event(report, step, actor, *, clause_id=None, comment=None):
    event = ContractReportEvent(report_id=report.id, revision=report.revision, step=step, clause_id=clause_id,
                                comment=comment, actor_id=actor.id if actor else None,
                                actor_account=getattr(actor, "email", None), at=utcnow())
    report.events.append(event)
    db.session.flush()
    audit.record(db.session, f"contract_report.{step}", "contract_report", report.id,
                 after={"revision": report.revision, "state": str(report.state), "clause_id": clause_id,
                        "comment": comment, "account": event.actor_account},
                 actor=audit.actor_for(actor) if actor is not None else None)
    return event


def _require_agency(report, actor):
    if ContractParty.AGENCY not in _parties(actor, report):
        _refuse("forbidden")


def _require_draft(report, actor):
    _require_agency(report, actor)
    _lock(report)
    if report.state != ReportState.DRAFT:
        _refuse("not_draft")


def generate_report(contract, period_start, actor) -> ContractReport:
    """A new draft report (revision 1) for one period, computed from the facts."""
    _check_generate(contract, actor)
    if contract.status == ContractStatus.draft:  # an ended contract still reports its last periods
        _refuse("not_active")
    period = period_of(contract, period_start)
    if period is None:
        _refuse("not_a_period", "period_start")
    version = terms_in_force(contract, period[0])
    if version is None:
        _refuse("no_terms")
    if db.session.execute(select(ContractReport.id).where(ContractReport.contract_id == contract.id,
                                                          ContractReport.period_start == period[0])).first():
        _refuse("exists")
    report = ContractReport(contract=contract, version=version, period_start=period[0], period_end=period[1],
                            state=ReportState.DRAFT, revision=1)
    try:
        with db.session.begin_nested():  # a concurrent request generated the same period first
            db.session.add(report)
    except IntegrityError:
        _refuse("exists")
    report.revisions.append(compute_into(ContractReportRevision(number=1, created_by_id=actor.id), report))
    _event(report, ReportStep.GENERATE, actor)
    return report


def _check_generate(contract, actor):
    try:
        REPORT_FLOW.check(None, ReportStep.GENERATE, policy.contract_parties(actor, contract))
    except TransitionError as error:
        raise ReportError(error.code, _flow_message(error.code)) from None


def refresh_report(report, actor):
    """Recompute the draft's current revision from the data (the terms in force now)."""
    _check(report, ReportStep.REFRESH, actor)
    version = terms_in_force(report.contract, report.period_start)
    if version is not None:
        report.version = version
    compute_into(current_revision(report), report)
    _event(report, ReportStep.REFRESH, actor)
    return report


def _clause(report, clause_id):
    clause = db.session.get(ContractClause, clause_id) if clause_id is not None else None
    if clause is None or clause.version_id != report.version_id:
        _refuse("unknown_clause", "clause_id")
    return clause


def set_override(report, clause_id, value: Decimal, reason, actor):
    """A manual value for one clause of a draft report, with its reason (shown to the client)."""
    _require_draft(report, actor)
    _clause(report, clause_id)
    if not (reason or "").strip():
        _refuse("reason_required", "reason")
    override = _override_of(report, clause_id)
    if override is None:
        override = ContractOverride(report_id=report.id, clause_id=clause_id)
        report.overrides.append(override)
    override.value, override.reason = Decimal(str(value)), reason.strip()
    override.set_by_id, override.set_at = actor.id, utcnow()
    compute_into(current_revision(report), report)
    db.session.flush()
    audit.record(db.session, "contract_report.override", "contract_report", report.id,
                 after={"clause_id": clause_id, "value": str(value), "reason": override.reason},
                 actor=audit.actor_for(actor))
    return override


def clear_override(report, clause_id, actor):
    _require_draft(report, actor)
    override = _override_of(report, clause_id)
    if override is None:
        return
    report.overrides.remove(override)
    db.session.delete(override)
    compute_into(current_revision(report), report)
    db.session.flush()
    audit.record(db.session, "contract_report.clear_override", "contract_report", report.id,
                 before={"clause_id": clause_id, "value": str(override.value), "reason": override.reason},
                 actor=audit.actor_for(actor))


def set_internal_note(report, text, actor):
    """The agency's note on the current revision; never shown to the client."""
    _require_agency(report, actor)
    current_revision(report).internal_note = (text or "").strip() or None
    db.session.flush()


def report_facts(report, clause_id=None):
    lines = current_revision(report).lines or []
    missing = any(line["kind"] == "metric" and line["value"] is None for line in lines)
    weights = [Decimal(line["weight"]) for line in lines]
    try:
        scoring.validate_weights(weights)
        weights_off = False
    except scoring.ScoringError:
        weights_off = True
    named = clause_id is not None and any(line["clause_id"] == clause_id for line in lines)
    return ReportFacts(missing_actuals=missing, weights_off=weights_off, clause_named=named)


def send_report(report, actor):
    """Freeze the current revision and send it to the client's users."""
    _check(report, ReportStep.SEND, actor, facts=report_facts(report))
    revision = current_revision(report)
    if (revision.fee or {}).get("missing"):
        _refuse("commission_missing")
    revision.sent_at, revision.sent_by_id = utcnow(), actor.id
    report.state = ReportState.SENT
    _event(report, ReportStep.SEND, actor)
    notifications.report_sent(report)
    return report


def dispute_clause(report, clause_id, comment, actor):
    """The client disputes one clause with a comment."""
    report.state = _check(report, ReportStep.DISPUTE, actor, text=comment,
                          facts=report_facts(report, clause_id))
    event = _event(report, ReportStep.DISPUTE, actor, clause_id=clause_id, comment=comment.strip())
    notifications.report_disputed(report, event)
    return event


def answer_dispute(report, clause_id, comment, actor):
    """The agency answers a dispute (the report stays disputed until revised)."""
    report.state = _check(report, ReportStep.ANSWER, actor, text=comment)
    if clause_id is not None:
        _clause(report, clause_id)
    return _event(report, ReportStep.ANSWER, actor, clause_id=clause_id, comment=comment.strip())


def revise_report(report, actor):
    """A new draft revision computed afresh; the sent revisions stay as they were."""
    report.state = _check(report, ReportStep.REVISE, actor)
    report.revision = current_revision(report).number + 1
    version = terms_in_force(report.contract, report.period_start)
    if version is not None:
        report.version = version
    revision = ContractReportRevision(number=report.revision, created_by_id=actor.id)
    report.revisions.append(compute_into(revision, report))
    _event(report, ReportStep.REVISE, actor)
    return revision


def accept_report(report, actor, lang):
    """The client accepts the current revision: recorded with who, when and from which account,
    then the signed PDF is issued (documents.issue_document) in `lang`."""
    report.state = _check(report, ReportStep.ACCEPT, actor)
    event = _event(report, ReportStep.ACCEPT, actor)
    audit.record(db.session, "contract_report.acceptance", "contract_report", report.id,
                 after={"revision": report.revision, "user_id": actor.id, "account": actor.email,
                        "at": event.at.isoformat()}, actor=audit.actor_for(actor))
    document = documents.issue_document(report, actor, lang)
    notifications.report_accepted(report, event)
    return document


def permitted_steps(user, report) -> tuple:
    """The steps `user` may take on `report` now (the buttons); blockers are shown by `check`."""
    return REPORT_FLOW.permitted(report.state, _parties(user, report))


def current_revision(report) -> ContractReportRevision:
    return next(r for r in report.revisions if r.number == report.revision)


def sent_revisions(report) -> list:
    """The revisions the client has seen (sent), oldest first."""
    return [r for r in report.revisions if r.sent_at is not None]


def client_revision(report):
    """The revision a client sees: the newest one sent."""
    sent = sent_revisions(report)
    return sent[-1] if sent else None


def client_events(report) -> list:
    """The steps a client sees: everything from the first sending on (no draft-time churn)."""
    return [e for e in report.events if e.step not in HIDDEN_FROM_CLIENT]


def reports_of(contract, *, client=False) -> list:
    query = select(ContractReport).where(ContractReport.contract_id == contract.id)
    if client:
        query = query.where(policy.client_reports_filter())
    return db.session.execute(query.order_by(ContractReport.period_start)).scalars().all()


def clause_history(contract, *, client=False) -> dict:
    """Per period: each clause's value and points, and the score. `client=True` reads each
    report's newest sent revision (a draft is the agency's alone)."""
    rows = []
    for report in reports_of(contract, client=client):
        revision = client_revision(report) if client else current_revision(report)
        if revision is not None:
            rows.append((report, revision))
    clauses = {}
    for index, (_, revision) in enumerate(rows):
        for line in revision.lines or []:
            key = (line["name"], line["metric_key"])
            entry = clauses.setdefault(key, {"name": line["name"], "metric_key": line["metric_key"],
                                             "unit": line["unit"], "values": [None] * len(rows),
                                             "points": [None] * len(rows), "targets": [None] * len(rows)})
            entry["values"][index], entry["points"][index] = line["value"], line["points"]
            entry["targets"][index] = line["target"]
    return {"periods": [r.period_start.isoformat()[:7] for r, _ in rows],
            "clauses": list(clauses.values()),
            "scores": [_text(rev.score) for _, rev in rows]}


# ---- the fee export ------------------------------------------------------------------------------

def fee_xlsx(report, *, lang=None, client=False) -> bytes:
    """The period's fee step by step for invoicing: one sheet, amounts as numbers, text cells
    injection-safe. In `lang` (default: the page's language); `client=True` exports the
    newest sent revision (a client never sees a draft)."""
    if lang is None:
        return _fee_book(report, client)
    with force_locale(documents.report_lang(lang)):
        return _fee_book(report, client)


def _safe(value):
    return ILLEGAL_CHARACTERS_RE.sub("", neutralise(value))


def _fee_book(report, client):
    revision = client_revision(report) if client else current_revision(report)
    fee = (revision.fee if revision else None) or {}
    book = Workbook()
    sheet = book.active
    sheet.title = "fee"
    for label, value in _fee_heading(report, revision, fee):
        sheet.append([_safe(label), _safe(value)])
    sheet.append([])
    sheet.append([_safe(gettext("Step")), _safe(gettext("Amount")), _safe(gettext("Details"))])
    for step in fee.get("steps") or ():
        sheet.append([_safe(documents.fee_step_label(step)), float(Decimal(step["amount"])),
                      _safe(documents.fee_step_detail(step))])
        sheet.cell(row=sheet.max_row, column=2).number_format = "#,##0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fee_heading(report, revision, fee):
    contract = report.contract
    return ((gettext("Contract"), f"{contract.code} {contract.title}"),
            (gettext("Client"), contract.client_company.name),
            (gettext("Period"), f"{report.period_start.isoformat()} – {report.period_end.isoformat()}"),
            (gettext("Revision"), str(revision.number) if revision else ""),
            (gettext("Score"), _text(revision.score) if revision else ""),
            (gettext("Currency"), fee.get("currency") or ""))
