"""Contract terms services (docs/contracts.md): the contract, its account team, and its
versioned terms (stores, KPI clauses, fee terms) through the amendment flow.

Conventions as in appraisal/services.py: actors are passed in; services flush, never commit
(the view commits); every write is audited (the model audit records each row created,
changed or deleted; each step and set-wide change adds an explicit event); refusals raise TermsError with a stable `code`, the `field` it is about (when there
is one) and an English `message` that is a msgid (the page shows `_(message, **params)`).

A version in force never changes: every edit of stores, clauses or fee terms needs a draft
version (version 1 while the contract is a draft, or an amendment drafted later).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import func, select

from kpiapp import audit, policy
from kpiapp.appraisal import scoring
from kpiapp.appraisal.scoring import ScoringError, ScoringRule
from kpiapp.appraisal.workflow import TransitionError
from kpiapp.contracts.amendment_flow import TERMS_FLOW, TermsFacts, TermsState, TermsStep
from kpiapp.contracts.flow import ContractParty
from kpiapp.contracts.report_flow import ReportState
from kpiapp.extensions import db
from kpiapp.i18n import N_
from kpiapp.metrics.catalog import BUILTIN_METRICS_BY_KEY
from kpiapp.models import (ClientCompany, Contract, ContractClause, ContractMember, ContractPeriod, ContractReport,
                           ContractStatus, ContractVersion, ContractVersionStore, Role, Store, User)
from kpiapp.models.appraisal import ItemKind
from kpiapp.models.base import utcnow

RULE_LIMITS = ("threshold", "target", "stretch")
OPEN_STATES = (TermsState.DRAFT, TermsState.PROPOSED)
REPORTED_STATES = (ReportState.SENT, ReportState.DISPUTED, ReportState.ACCEPTED)
# which clause input a scoring refusal is about
RULE_FIELDS = {"linear_incomplete": "target", "pass_fail_incomplete": "target", "cap_below_100": "cap",
               "cap_without_stretch": "cap", "scale_max_not_positive": "scale_max",
               "bands_empty": "bands", "band_empty_range": "bands", "bands_overlap": "bands"}
RULE_MESSAGES = {
    "linear_incomplete": N_("A linear rule needs a threshold, a target and a stretch."),
    "pass_fail_incomplete": N_("A pass/fail rule needs a target."),
    "linear_order": N_("The threshold, target and stretch are out of order for this direction."),
    "cap_below_100": N_("The cap must be at least 100 points."),
    "cap_without_stretch": N_("When the stretch equals the target, the cap must be 100."),
    "bands_empty": N_("A bands rule needs at least one band."),
    "band_empty_range": N_("Each band's lower limit must be below its upper limit."),
    "bands_overlap": N_("Bands must not overlap."),
    "pass_points_not_positive": N_("Pass points must be above 0."),
    "scale_max_not_positive": N_("A manual rule needs a scale maximum above 0."),
}


class TermsError(Exception):
    """A refused terms service call: `code` (stable), `field` (the input it is about, or
    None) and `message` (an English msgid; `params` fill it)."""

    def __init__(self, code, message, field=None, **params):
        super().__init__(message % params if params else message)
        self.code, self.field, self.message, self.params = code, field, message, params

    @property
    def status(self):  # as web.refusals.audit_refusal reads it
        return 403 if self.code == "forbidden" else 422


# ---- small helpers ----------------------------------------------------------------------

def _record(action, entity, entity_id, actor, before=None, after=None):
    audit.record(db.session, action, entity, entity_id, before=before, after=after,
                 actor=audit.actor_for(actor) if actor is not None else None)


def _text(values, name, *, required=True, limit=None):
    text = str(values.get(name) or "").strip()
    if required and not text:
        raise TermsError("required", N_("This field is required."), name)
    if limit and len(text) > limit:
        raise TermsError("too_long", N_("At most %(limit)s characters."), name, limit=limit)
    return text or None


def _number(values, name, *, required=False, minimum=None, maximum=None):
    raw = values.get(name)
    if raw is None or str(raw).strip() == "":
        if required:
            raise TermsError("required", N_("This field is required."), name)
        return None
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise TermsError("not_a_number", N_("Enter a number."), name) from None
    if not number.is_finite():
        raise TermsError("not_a_number", N_("Enter a number."), name)
    if minimum is not None and number < minimum:
        raise TermsError("too_small", N_("Enter at least %(minimum)s."), name, minimum=minimum)
    if maximum is not None and number > maximum:
        raise TermsError("too_large", N_("Enter at most %(maximum)s."), name, maximum=maximum)
    return number


def _date(values, name):
    raw = values.get(name)
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise TermsError("invalid_date", N_("Enter a date (YYYY-MM-DD)."), name) from None


def _id(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TermsError("required", N_("This field is required."), name) from None


def _require_manager(actor, contract):
    if not policy.can_manage_contract(actor, contract):
        raise TermsError("forbidden", N_("You may not change this contract."))


def _require_draft(version):
    if version.status != TermsState.DRAFT:
        raise TermsError("not_draft", N_("Terms in force never change: draft an amendment to change them."))


def _staff(user_id, name):
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.role == Role.client:
        raise TermsError("not_staff", N_("Choose an active person of our organisation."), name)
    return user


# ---- the contract -----------------------------------------------------------------------

def create_client_company(name, actor) -> ClientCompany:
    """A new client company (HR and admins), its name unique."""
    if not policy.can_manage_appraisal(actor):
        raise TermsError("forbidden", N_("Only HR and admins create contracts."))
    name = _text({"new_client": name}, "new_client", limit=160)
    if db.session.scalar(select(ClientCompany.id).where(func.lower(ClientCompany.name) == name.lower())):
        raise TermsError("client_taken", N_("A client company of this name exists: choose it in the list."),
                         "new_client")
    company = ClientCompany(name=name)
    db.session.add(company)
    db.session.flush()
    return company


def create_contract(values: dict, actor) -> Contract:
    """A draft contract with its empty draft version 1 (in force from the start date).
    HR and admins create contracts; `values["lead_id"]` may name the lead."""
    if not policy.can_manage_appraisal(actor):
        raise TermsError("forbidden", N_("Only HR and admins create contracts."))
    contract = Contract(status=ContractStatus.draft, created_by_id=actor.id)
    _apply_contract_values(contract, values)
    if values.get("lead_id"):
        contract.lead_id = _staff(_id(values["lead_id"], "lead_id"), "lead_id").id
    version = ContractVersion(number=1, status=TermsState.DRAFT, effective_from=contract.start_date,
                              base_fee=Decimal(0), fee_currency=current_app.config["BASE_CURRENCY"],
                              fee_bands=[], created_by_id=actor.id)
    contract.versions.append(version)
    db.session.add(contract)
    db.session.flush()
    return contract


def update_contract(contract, values, actor):
    """Edit code, title and end date; while a draft also the client, period and start date
    (version 1 follows the start date)."""
    _require_manager(actor, contract)
    if contract.status != ContractStatus.draft:
        fixed = {"client_company_id": contract.client_company_id, "period": str(contract.period),
                 "start_date": contract.start_date}
        for name, current in fixed.items():
            if name in values and str(values[name]) != str(current):
                raise TermsError("fixed_in_force", N_("This cannot change once the contract is in force."), name)
        values = {**values, **fixed}
    _apply_contract_values(contract, values)
    _check_end_after_reports(contract)
    if contract.status == ContractStatus.draft:
        contract.versions[0].effective_from = contract.start_date
    db.session.flush()
    return contract


def _apply_contract_values(contract, values):
    code = _text(values, "code", limit=32)
    title = _text(values, "title", limit=200)
    company_id = _id(values.get("client_company_id"), "client_company_id")
    if db.session.get(ClientCompany, company_id) is None:
        raise TermsError("required", N_("This field is required."), "client_company_id")
    try:
        period = ContractPeriod(values.get("period") or "monthly")
    except ValueError:
        raise TermsError("invalid_choice", N_("Choose one of the options."), "period") from None
    start, end = _date(values, "start_date"), _date(values, "end_date")
    if end < start:
        raise TermsError("end_before_start", N_("The end date must not be before the start date."), "end_date")
    taken = select(Contract.id).where(func.lower(Contract.code) == code.lower())
    if contract.id is not None:
        taken = taken.where(Contract.id != contract.id)
    if db.session.scalar(taken) is not None:
        raise TermsError("code_taken", N_("Another contract already uses this code."), "code")
    if contract.client_company_id not in (None, company_id) and contract.versions and any(
            v.stores for v in contract.versions):
        raise TermsError("company_has_stores", N_("Remove the stores first: they belong to the client."),
                         "client_company_id")
    contract.code, contract.title, contract.client_company_id = code, title, company_id
    contract.period, contract.start_date, contract.end_date = period, start, end


def _check_end_after_reports(contract):
    last = db.session.scalar(select(func.max(ContractReport.period_end))
                             .where(ContractReport.contract_id == contract.id))
    if last is not None and contract.end_date < last:
        raise TermsError("end_before_reports", N_("Reports exist up to %(day)s: the end cannot be earlier."),
                         "end_date", day=last.isoformat())


def _contract_dict(contract):
    return {"code": contract.code, "title": contract.title, "client_company_id": contract.client_company_id,
            "period": str(contract.period), "start_date": contract.start_date.isoformat(),
            "end_date": contract.end_date.isoformat(), "status": str(contract.status), "lead_id": contract.lead_id}


def set_team(contract, lead_id, member_ids, actor):
    """The account team: a lead (or none) and members, all active staff."""
    _require_manager(actor, contract)
    before = {"lead_id": contract.lead_id, "member_ids": sorted(m.person_id for m in contract.members)}
    lead = _staff(_id(lead_id, "lead_id"), "lead_id") if lead_id not in (None, "") else None
    wanted = {_staff(_id(pid, "member_ids"), "member_ids").id for pid in member_ids or ()}
    wanted.discard(lead.id if lead else None)
    contract.lead_id = lead.id if lead else None
    contract.members[:] = [m for m in contract.members if m.person_id in wanted]
    have = {m.person_id for m in contract.members}
    contract.members.extend(ContractMember(person_id=pid) for pid in sorted(wanted - have))
    db.session.flush()
    _record("contract.team", "contract", contract.id, actor, before=before,
            after={"lead_id": contract.lead_id, "member_ids": sorted(wanted)})


# ---- periods and versions ---------------------------------------------------------------

def period_starts(contract) -> list[date]:
    """The first day of each reporting period in the term (calendar months or quarters; the
    first period starts on the start date)."""
    step = 3 if contract.period == ContractPeriod.quarterly else 1
    starts, day = [contract.start_date], contract.start_date
    while True:
        month0 = (day.month - 1) // step * step + step  # months since January, of the next period
        day = date(day.year + month0 // 12, month0 % 12 + 1, 1)
        if day > contract.end_date:
            return starts
        starts.append(day)


def earliest_amendment_start(contract) -> date | None:
    """The first period after the latest report already sent to the client (or the first
    period of the term when none was sent); None when no period is left."""
    last_sent = db.session.scalar(select(func.max(ContractReport.period_start)).where(
        ContractReport.contract_id == contract.id, ContractReport.state.in_(REPORTED_STATES)))
    return next((day for day in period_starts(contract) if last_sent is None or day > last_sent), None)


def in_force_versions(contract):
    return [v for v in contract.versions if v.status == TermsState.IN_FORCE]


def latest_in_force(contract):
    versions = in_force_versions(contract)
    return max(versions, key=lambda v: (v.effective_from, v.number)) if versions else None


def open_amendment(contract):
    return next((v for v in contract.versions if v.number > 1 and v.status in OPEN_STATES), None)


def draft_amendment(contract, actor) -> ContractVersion:
    """A new draft version copied from the latest version in force, effective from the first
    period after the latest report sent (one open amendment at a time)."""
    _require_manager(actor, contract)
    base = latest_in_force(contract)
    if contract.status != ContractStatus.active or base is None:
        raise TermsError("not_in_force", N_("Only a contract in force is amended."))
    if open_amendment(contract) is not None:
        raise TermsError("amendment_open", N_("An amendment is already being prepared or proposed."))
    start = earliest_amendment_start(contract)
    if start is None:
        raise TermsError("no_period_left", N_("No reporting period is left in the term."))
    version = _copy_version(base, actor)
    version.number = max(v.number for v in contract.versions) + 1
    version.effective_from = start
    contract.versions.append(version)
    db.session.flush()
    _record("contract_version.draft", "contract_version", version.id, actor,
            after={"contract_id": contract.id, "number": version.number, "from_version": base.number,
                   "effective_from": start.isoformat()})
    return version


def _copy_version(base, actor):
    version = ContractVersion(status=TermsState.DRAFT, base_fee=base.base_fee, fee_currency=base.fee_currency,
                              commission_pct=base.commission_pct, commission_metric=base.commission_metric,
                              fee_bands=list(base.fee_bands or []), bonus_threshold=base.bonus_threshold,
                              bonus_amount=base.bonus_amount, created_by_id=actor.id)
    version.stores = [ContractVersionStore(store_id=s.store_id) for s in base.stores]
    version.clauses = [ContractClause(seq=c.seq, name=c.name, kind=c.kind, metric_key=c.metric_key,
                                      description=c.description, tag=c.tag, weight=c.weight, target=c.target,
                                      threshold=c.threshold, stretch=c.stretch, rule=dict(c.rule or {}),
                                      store_ids=list(c.store_ids or []), sku=c.sku)
                       for c in base.clauses]
    return version


def set_amendment_details(version, values, actor):
    """An amendment's summary (what it changes, in words) and effective_from (the first day of
    a period after the latest report sent)."""
    _require_manager(actor, version.contract)
    _require_draft(version)
    if version.number == 1:
        raise TermsError("not_amendment", N_("The first terms come into force with the contract."))
    version.summary = _text(values, "summary", required=False, limit=4000)
    version.effective_from = _check_effective_from(version.contract, _date(values, "effective_from"))
    db.session.flush()
    _record("contract_version.details", "contract_version", version.id, actor,
            after={"summary": version.summary, "effective_from": version.effective_from.isoformat()})


def _check_effective_from(contract, day, field="effective_from"):
    earliest = earliest_amendment_start(contract)
    if day not in period_starts(contract):
        raise TermsError("not_period_start", N_("Choose the first day of a reporting period."), field)
    if earliest is None or day < earliest:
        raise TermsError("period_reported", N_("A report was already sent for this period: choose a later one."),
                         field)
    return day


# ---- stores and fee terms ---------------------------------------------------------------

def set_stores(version, store_ids, actor):
    """The stores these terms cover: the client's own stores only; a store a clause names
    stays."""
    _require_manager(actor, version.contract)
    _require_draft(version)
    ids = {_id(sid, "store_ids") for sid in store_ids or ()}
    stores = db.session.scalars(select(Store).where(Store.id.in_(ids))).all() if ids else []
    if len(stores) != len(ids) or any(s.client_company_id != version.contract.client_company_id for s in stores):
        raise TermsError("foreign_store", N_("Choose only stores of the contract's client."), "store_ids")
    in_clauses = {sid for c in version.clauses for sid in c.store_ids or ()}
    if in_clauses - ids:
        raise TermsError("store_in_clause", N_("A clause covers a store you removed: change the clause first."),
                         "store_ids")
    before = sorted(version.store_ids)
    version.stores[:] = [s for s in version.stores if s.store_id in ids]
    have = {s.store_id for s in version.stores}
    version.stores.extend(ContractVersionStore(store_id=sid) for sid in sorted(ids - have))
    db.session.flush()
    _record("contract_version.stores", "contract_version", version.id, actor,
            before={"store_ids": before}, after={"store_ids": sorted(ids)})


def set_fee_terms(version, values, actor):
    """Base fee, commission (percent of a metric), score bands and the bonus."""
    _require_manager(actor, version.contract)
    _require_draft(version)
    base_fee = _number(values, "base_fee", required=True, minimum=Decimal(0))
    pct = _number(values, "commission_pct", minimum=Decimal(0), maximum=Decimal(100))
    metric = _text(values, "commission_metric", required=False)
    if pct is not None and not metric:
        raise TermsError("required", N_("This field is required."), "commission_metric")
    if metric and metric not in BUILTIN_METRICS_BY_KEY:
        raise TermsError("unknown_metric", N_("Choose a metric from the list."), "commission_metric")
    bands = _fee_bands(values.get("fee_bands") or [])
    threshold = _number(values, "bonus_threshold", minimum=Decimal(0))
    amount = _number(values, "bonus_amount", minimum=Decimal(0))
    if (threshold is None) != (amount is None):
        raise TermsError("bonus_incomplete", N_("A bonus needs both a threshold and an amount."),
                         "bonus_amount" if amount is None else "bonus_threshold")
    version.base_fee, version.commission_pct = base_fee, pct
    version.commission_metric = metric if pct is not None else None
    version.fee_bands, version.bonus_threshold, version.bonus_amount = bands, threshold, amount
    db.session.flush()
    _record("contract_version.fee_terms", "contract_version", version.id, actor, after=fee_terms_dict(version))


def _fee_bands(rows):
    """[{"lower", "upper", "adjust_pct"}] as strings; lower < upper, no overlaps."""
    bands = []
    for row in rows:
        if all(str(row.get(k) or "").strip() == "" for k in ("lower", "upper", "adjust_pct")):
            continue  # an empty row of the form
        lower = _number(row, "lower")
        upper = _number(row, "upper")
        adjust = _number(row, "adjust_pct", minimum=Decimal(-100))
        if adjust is None:
            raise TermsError("band_incomplete", N_("Each band needs an adjustment in percent."), "fee_bands")
        bands.append({"lower": _s(lower), "upper": _s(upper), "adjust_pct": _s(adjust)})
    rule = {"kind": "bands", "bands": [{"lower": b["lower"], "upper": b["upper"], "points": b["adjust_pct"]}
                                       for b in bands]}
    if bands:
        try:
            ScoringRule.from_dict(rule).validate()
        except ScoringError as error:
            raise TermsError(error.code, RULE_MESSAGES.get(error.code, N_("These bands are not valid.")),
                             "fee_bands") from None
    return bands


def _s(number):
    return None if number is None else str(number)


def fee_terms_dict(version):
    return {"base_fee": _s(version.base_fee), "commission_pct": _s(version.commission_pct),
            "commission_metric": version.commission_metric, "fee_bands": version.fee_bands,
            "bonus_threshold": _s(version.bonus_threshold), "bonus_amount": _s(version.bonus_amount)}


# ---- clauses ----------------------------------------------------------------------------

def add_clause(version, values, actor) -> ContractClause:
    """A KPI clause, validated like a KPI item (the scoring rule must be complete)."""
    _require_manager(actor, version.contract)
    _require_draft(version)
    clause = ContractClause(seq=max((c.seq for c in version.clauses), default=-1) + 1)
    _apply_clause_values(clause, version, values)
    version.clauses.append(clause)
    db.session.flush()
    return clause


def update_clause(clause, values, actor):
    version = clause.version
    _require_manager(actor, version.contract)
    _require_draft(version)
    _apply_clause_values(clause, version, values)
    db.session.flush()


def delete_clause(clause, actor):
    version = clause.version
    _require_manager(actor, version.contract)
    _require_draft(version)
    version.clauses.remove(clause)
    db.session.delete(clause)
    db.session.flush()


def _apply_clause_values(clause, version, values):
    name = _text(values, "name", limit=160)
    try:
        kind = ItemKind(values.get("kind") or "metric")
    except ValueError:
        raise TermsError("invalid_choice", N_("Choose one of the options."), "kind") from None
    metric = BUILTIN_METRICS_BY_KEY.get(values.get("metric_key") or "") if kind == ItemKind.metric else None
    if kind == ItemKind.metric and metric is None:
        raise TermsError("unknown_metric", N_("Choose a metric from the list."), "metric_key")
    weight = _number(values, "weight", required=True, maximum=Decimal(100))
    if weight <= 0:
        raise TermsError("too_small", N_("The weight must be above 0."), "weight")
    limits = {n: _number(values, n) for n in RULE_LIMITS}
    rule = _clause_rule(values, limits, kind, metric)
    store_ids = sorted({_id(s, "store_ids") for s in values.get("store_ids") or ()})
    if set(store_ids) - set(version.store_ids):
        raise TermsError("store_not_covered", N_("Choose stores these terms cover."), "store_ids")
    clause.name, clause.kind, clause.metric_key = name, kind, metric.key if metric else None
    clause.description = _text(values, "description", required=False, limit=2000)
    clause.weight, clause.store_ids = weight, store_ids
    clause.sku = _text(values, "sku", required=False, limit=64)
    clause.rule = {k: v for k, v in rule.to_dict().items() if k not in RULE_LIMITS}
    clause.threshold, clause.target, clause.stretch = (limits[n] for n in RULE_LIMITS)


def _clause_rule(values, limits, kind, metric):
    rule_kind = "manual" if kind == ItemKind.manual else (values.get("rule_kind") or "linear")
    data = {"kind": rule_kind, **{k: v for k, v in limits.items() if v is not None}}
    if metric is not None:
        data["direction"] = str(metric.direction)
    cap = _number(values, "cap", minimum=Decimal(0))
    if cap is not None:
        data["cap"] = cap
    scale_max = _number(values, "scale_max")
    if scale_max is not None:
        data["scale_max"] = scale_max
    if rule_kind == "bands":
        data["bands"] = list(values.get("bands") or [])
    try:
        rule = ScoringRule.from_dict(data)
        if (kind == ItemKind.manual) != (rule.kind == scoring.RuleKind.MANUAL):
            raise ScoringError("invalid_rule", "Manual clauses use a manual rule.")
        rule.validate()
    except ScoringError as error:
        raise _rule_error(error, limits, metric) from None
    return rule


def _rule_error(error, limits, metric):
    field = RULE_FIELDS.get(error.code, "rule_kind")
    if error.code == "linear_order":
        problem = scoring.order_problem(metric.direction if metric else None, limits["threshold"],
                                        limits["target"], limits["stretch"])
        field = problem[1] if problem else "target"
    if error.code == "linear_incomplete":
        field = next((n for n in ("threshold", "target", "stretch") if limits[n] is None), "target")
    return TermsError(error.code, RULE_MESSAGES.get(error.code, N_("This scoring rule is not valid.")), field)


def clause_dict(clause):
    return {"id": clause.id, "name": clause.name, "kind": str(clause.kind), "metric_key": clause.metric_key,
            "weight": _s(clause.weight), "threshold": _s(clause.threshold), "target": _s(clause.target),
            "stretch": _s(clause.stretch), "rule": clause.rule, "store_ids": clause.store_ids, "sku": clause.sku}


def weight_total(version) -> Decimal:
    return sum((Decimal(c.weight) for c in version.clauses), Decimal(0))


def weights_off(version) -> bool:
    try:
        scoring.validate_weights([Decimal(c.weight) for c in version.clauses])
    except ScoringError:
        return True
    return False


# ---- the amendment flow -----------------------------------------------------------------

def terms_facts(version) -> TermsFacts:
    return TermsFacts(first_version=version.number == 1, weights_off=weights_off(version),
                      no_clauses=not version.clauses, no_stores=not version.stores)


def permitted_terms_steps(user, version) -> tuple[TermsStep, ...]:
    return TERMS_FLOW.permitted(version.status, policy.contract_parties(user, version.contract),
                                terms_facts(version))


def _step(version, step, actor, text=None):
    """Check `step` on the flow table and move the version; TermsError when refused."""
    parties = policy.contract_parties(actor, version.contract)
    try:
        new_state = TERMS_FLOW.check(version.status, step, parties, text=text, facts=terms_facts(version))
    except TransitionError as error:
        message = (TERMS_FLOW.messages or {}).get(error.code) or _FLOW_MESSAGES.get(error.code, N_(
            "This step is not possible now."))
        raise TermsError(error.code, message, "reason" if error.code == "text_required" else None) from None
    before = str(version.status)
    version.status = new_state
    return before


_FLOW_MESSAGES = {
    "not_allowed_in_state": N_("This step is not possible in the terms' current state."),
    "forbidden": N_("You may not take this step."),
    "text_required": N_("Give a reason."),
}


def _audit_step(version, step, actor, before, note=None):
    _record(f"contract_version.{step}", "contract_version", version.id, actor, before={"status": before},
            after={"status": str(version.status), "contract_id": version.contract_id, "number": version.number,
                   **({"note": note} if note else {})})


def activate(version, actor):
    """Version 1 and the contract come into force (the paper contract is signed)."""
    before = _step(version, TermsStep.ACTIVATE, actor)
    version.decided_by_id, version.decided_at = actor.id, utcnow()
    version.contract.status = ContractStatus.active
    db.session.flush()
    _audit_step(version, TermsStep.ACTIVATE, actor, before)


def propose(version, actor):
    """Send a draft amendment to the client for acceptance."""
    _check_effective_from(version.contract, version.effective_from)
    before = _step(version, TermsStep.PROPOSE, actor)
    version.proposed_by_id, version.proposed_at = actor.id, utcnow()
    db.session.flush()
    _audit_step(version, TermsStep.PROPOSE, actor, before)


def withdraw(version, actor):
    before = _step(version, TermsStep.WITHDRAW, actor)
    version.decided_by_id, version.decided_at = actor.id, utcnow()
    db.session.flush()
    _audit_step(version, TermsStep.WITHDRAW, actor, before)


def accept_amendment(version, actor):
    """The client accepts: the amendment is in force from its effective_from (refused when a
    report for that period was sent meanwhile)."""
    if version.status == TermsState.PROPOSED:
        _check_effective_from(version.contract, version.effective_from)
    before = _step(version, TermsStep.ACCEPT, actor)
    version.decided_by_id, version.decided_at = actor.id, utcnow()
    db.session.flush()
    _audit_step(version, TermsStep.ACCEPT, actor, before)


def reject_amendment(version, reason, actor):
    before = _step(version, TermsStep.REJECT, actor, text=reason)
    version.decided_by_id, version.decided_at = actor.id, utcnow()
    version.decision_note = reason.strip()
    db.session.flush()
    _audit_step(version, TermsStep.REJECT, actor, before, note=version.decision_note)


def is_agency(user, contract):
    return ContractParty.AGENCY in policy.contract_parties(user, contract)
