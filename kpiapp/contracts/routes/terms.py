"""A contract's terms: one page per version (stores, fee terms, clauses, the amendment's
summary and date, the steps), the clause editor with its live weight total, amendments."""
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kpiapp import presentation
from kpiapp.contracts import terms
from kpiapp.contracts.amendment_flow import TERMS_FLOW, TermsState, TermsStep
from kpiapp.contracts.routes.common import (LIMITS, bp, clause_rows, fee_summary, load_clause, load_contract,
                                            load_version, mark, metric_choices, metric_unit, refused, run_step)
from kpiapp.contracts.routes.forms import AmendmentForm, ClauseForm, ConfirmForm, FeeForm, StoresForm
from kpiapp.extensions import db
from kpiapp.models import Store
from kpiapp.models.appraisal import ItemKind
from kpiapp.policy import allow
from kpiapp.web.pages import render_page_or_fragment

AGENCY_STEPS = {TermsStep.ACTIVATE, TermsStep.PROPOSE, TermsStep.WITHDRAW}


# ---- the version page ------------------------------------------------------------------

def client_stores(contract):
    return db.session.execute(select(Store).where(Store.client_company_id == contract.client_company_id)
                              .order_by(Store.code)).scalars().all()


def stores_form(contract, version):
    form = StoresForm(prefix="stores")
    form.store_ids.choices = [(s.id, f"{s.code} · {s.name}") for s in client_stores(contract)]
    if not form.is_submitted():
        form.store_ids.data = version.store_ids
    return form


def fee_form(version):
    form = FeeForm(prefix="fee")
    form.commission_metric.choices = metric_choices()
    if not form.is_submitted():
        form.base_fee.data, form.commission_pct.data = version.base_fee, version.commission_pct
        form.commission_metric.data = version.commission_metric or ""
        form.bonus_threshold.data, form.bonus_amount.data = version.bonus_threshold, version.bonus_amount
        for entry, band in zip(form.fee_bands.entries, version.fee_bands or [], strict=False):
            for name in ("lower", "upper", "adjust_pct"):
                entry.form[name].data = None if band.get(name) is None else Decimal(band[name])
    return form


def amendment_form(contract, version):
    form = AmendmentForm(prefix="amendment")
    earliest = terms.earliest_amendment_start(contract)
    form.effective_from.choices = [(d.isoformat(), d.isoformat()) for d in terms.period_starts(contract)
                                   if earliest is not None and d >= earliest]
    if not form.is_submitted():
        form.summary.data = version.summary
        form.effective_from.data = version.effective_from.isoformat()
    return form


def version_page(contract, version, status=200, error=None, **forms):
    editable = version.status == TermsState.DRAFT
    context = {
        "contract": contract, "version": version, "editable": editable, "error": error,
        "stores_form": forms.get("stores_form") or stores_form(contract, version),
        "fee_form": forms.get("fee_form") or fee_form(version),
        "amendment_form": forms.get("amendment_form") or amendment_form(contract, version),
        "confirm": ConfirmForm(), "total": terms.weight_total(version), "ok": not terms.weights_off(version),
        "steps": [s for s in terms.permitted_terms_steps(current_user, version) if s in AGENCY_STEPS],
        "blockers": blockers(version) if editable else [],
        "rows": clause_rows(version), "fee": fee_summary(version),
    }
    return render_template("contracts/version.html", **context), status


def blockers(version):
    """What still keeps a draft from its step, in words (the flow's blocker messages)."""
    facts = terms.terms_facts(version)
    step = TermsStep.ACTIVATE if facts.first_version else TermsStep.PROPOSE
    found = []
    for concerns, blocks, code in TERMS_FLOW.blockers:
        if concerns == step and blocks(facts) and TERMS_FLOW.messages[code] not in found:
            found.append(TERMS_FLOW.messages[code])
    return [_(text) for text in found]


@bp.route("/<int:contract_id>/versions/<int:version_id>")
@allow("contracts.work")
def version(contract_id, version_id):
    contract, version = load_version(contract_id, version_id)
    return version_page(contract, version)


@bp.route("/<int:contract_id>/versions/<int:version_id>/stores", methods=["POST"])
@allow("contracts.work")
def save_stores(contract_id, version_id):
    contract, version = load_version(contract_id, version_id)
    form = stores_form(contract, version)
    if not form.validate():
        return version_page(contract, version, 422, _("See the marked fields."), stores_form=form)
    try:
        terms.set_stores(version, form.store_ids.data or [], current_user)
        db.session.commit()
    except terms.TermsError as error:
        text = refused(error, "contract_version", version_id)
        contract, version = load_version(contract_id, version_id)
        return version_page(contract, version, 422, mark(form, error, text), stores_form=form)
    flash(_("Saved."), "success")
    return redirect(url_for(".version", contract_id=contract_id, version_id=version_id))


def fee_values(form):
    bands = [{"lower": e.form.lower.data, "upper": e.form.upper.data, "adjust_pct": e.form.adjust_pct.data}
             for e in form.fee_bands.entries]
    return {"base_fee": form.base_fee.data, "commission_pct": form.commission_pct.data,
            "commission_metric": form.commission_metric.data, "fee_bands": bands,
            "bonus_threshold": form.bonus_threshold.data, "bonus_amount": form.bonus_amount.data}


@bp.route("/<int:contract_id>/versions/<int:version_id>/fees", methods=["POST"])
@allow("contracts.work")
def save_fees(contract_id, version_id):
    contract, version = load_version(contract_id, version_id)
    form = fee_form(version)
    if not form.validate():
        return version_page(contract, version, 422, _("See the marked fields."), fee_form=form)
    try:
        terms.set_fee_terms(version, fee_values(form), current_user)
        db.session.commit()
    except terms.TermsError as error:
        text = refused(error, "contract_version", version_id)
        contract, version = load_version(contract_id, version_id)
        return version_page(contract, version, 422, mark(form, error, text), fee_form=form)
    flash(_("Saved."), "success")
    return redirect(url_for(".version", contract_id=contract_id, version_id=version_id))


@bp.route("/<int:contract_id>/versions/<int:version_id>/details", methods=["POST"])
@allow("contracts.work")
def save_details(contract_id, version_id):
    contract, version = load_version(contract_id, version_id)
    form = amendment_form(contract, version)
    if not form.validate():
        return version_page(contract, version, 422, _("See the marked fields."), amendment_form=form)
    try:
        terms.set_amendment_details(version, {"summary": form.summary.data,
                                              "effective_from": form.effective_from.data}, current_user)
        db.session.commit()
    except terms.TermsError as error:
        text = refused(error, "contract_version", version_id)
        contract, version = load_version(contract_id, version_id)
        return version_page(contract, version, 422, mark(form, error, text), amendment_form=form)
    flash(_("Saved."), "success")
    return redirect(url_for(".version", contract_id=contract_id, version_id=version_id))


STEP_CALLS = {"activate": terms.activate, "propose": terms.propose, "withdraw": terms.withdraw}


def step_done(step):
    return {"activate": _("The contract is in force."), "propose": _("The amendment was sent to the client."),
            "withdraw": _("The amendment was withdrawn.")}[step]


@bp.route("/<int:contract_id>/versions/<int:version_id>/<step>", methods=["POST"])
@allow("contracts.work")
def version_step(contract_id, version_id, step):
    """activate, propose or withdraw."""
    _contract, version = load_version(contract_id, version_id)
    if step not in STEP_CALLS:
        abort(404)
    return run_step(STEP_CALLS[step], version, "contract_version", terms.TermsError,
                    url_for(".version", contract_id=contract_id, version_id=version_id), step_done(step))


@bp.route("/<int:contract_id>/amendments", methods=["POST"])
@allow("contracts.work")
def new_amendment(contract_id):
    contract = load_contract(contract_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        version = terms.draft_amendment(contract, current_user)
        db.session.commit()
    except terms.TermsError as error:
        flash(refused(error, "contract", contract_id), "error")
        return redirect(url_for(".detail", contract_id=contract_id))
    flash(_("Amendment drafted from the terms in force: change what it changes, then propose it."), "success")
    return redirect(url_for(".version", contract_id=contract_id, version_id=version.id))


# ---- the clause editor -----------------------------------------------------------------

def clause_form(version, clause=None):
    form = ClauseForm(prefix="clause")
    form.metric_key.choices = metric_choices()
    form.store_ids.choices = [(s.store_id, f"{s.store.code} · {s.store.name}") for s in version.stores]
    if clause is not None and not form.is_submitted():
        unit = metric_unit(clause.metric_key)
        rule = clause.rule or {}
        form.name.data, form.kind.data, form.metric_key.data = clause.name, str(clause.kind), clause.metric_key or ""
        form.weight.data, form.rule_kind.data = clause.weight, rule.get("kind", "linear")
        for name in LIMITS:
            value = getattr(clause, name)
            form[name].data = None if value is None else presentation.to_entry(Decimal(value), unit)
        form.cap.data = Decimal(rule["cap"]) if rule.get("cap") else None
        form.scale_max.data = Decimal(rule["scale_max"]) if rule.get("scale_max") else None
        form.store_ids.data, form.sku.data = list(clause.store_ids or []), clause.sku
        form.description.data = clause.description
    if clause is None and not form.is_submitted():
        form.cap.data = Decimal(120)
    return form


def clause_values(form):
    """The service's values from the form; percent metrics are typed in percent (35 -> 0.35)."""
    unit = metric_unit(form.metric_key.data) if form.kind.data == ItemKind.metric else None
    limits = {n: presentation.from_entry(form[n].data, unit) for n in LIMITS}
    return {"name": form.name.data, "kind": form.kind.data, "metric_key": form.metric_key.data,
            "weight": form.weight.data, "rule_kind": form.rule_kind.data, "cap": form.cap.data,
            "scale_max": form.scale_max.data, "store_ids": form.store_ids.data or [], "sku": form.sku.data,
            "description": form.description.data, **limits}


def typed_total(version, form, clause=None):
    """(total, ok): the other clauses' weights plus the one typed in the form."""
    others = sum((Decimal(c.weight) for c in version.clauses if clause is None or c.id != clause.id), Decimal(0))
    typed = form.weight.data if isinstance(form.weight.data, Decimal) else Decimal(0)
    total = others + typed
    return total, total == 100 and not form.weight.errors


def clause_page(contract, version, form, clause=None, error=None, status=200):
    total, ok = typed_total(version, form, clause)
    return render_template("contracts/clause_form.html", contract=contract, version=version, form=form,
                           clause=clause, error=error, total=total, ok=ok,
                           units={m: metric_unit(m) for m, _label in metric_choices(blank=False)}), status


def editable_version(contract_id, version_id):
    contract, version = load_version(contract_id, version_id)
    if version.status != TermsState.DRAFT:
        flash(_("Terms in force never change: draft an amendment to change them."), "error")
        return contract, version, redirect(url_for(".version", contract_id=contract_id, version_id=version_id))
    return contract, version, None


@bp.route("/<int:contract_id>/versions/<int:version_id>/clauses/new", methods=["GET", "POST"])
@bp.route("/<int:contract_id>/versions/<int:version_id>/clauses/<int:clause_id>/edit", methods=["GET", "POST"])
@allow("contracts.work")
def clause(contract_id, version_id, clause_id=None):
    contract, version, away = editable_version(contract_id, version_id)
    if away:
        return away
    clause = load_clause(version, clause_id) if clause_id else None
    form = clause_form(version, clause)
    if request.method == "GET":
        return clause_page(contract, version, form, clause)
    if not form.validate():
        return clause_page(contract, version, form, clause, _("See the marked fields."), 422)
    try:
        if clause is None:
            terms.add_clause(version, clause_values(form), current_user)
        else:
            terms.update_clause(clause, clause_values(form), current_user)
        db.session.commit()
    except terms.TermsError as error:
        text = refused(error, "contract_version", version_id)
        contract, version = load_version(contract_id, version_id)
        clause = load_clause(version, clause_id) if clause_id else None
        return clause_page(contract, version, form, clause, mark(form, error, text) or _("See the marked fields."),
                           422)
    flash(_("Clause saved."), "success")
    return redirect(url_for(".version", contract_id=contract_id, version_id=version_id))


@bp.route("/<int:contract_id>/versions/<int:version_id>/clauses/<int:clause_id>/delete", methods=["POST"])
@allow("contracts.work")
def delete_clause(contract_id, version_id, clause_id):
    contract, version = load_version(contract_id, version_id)
    clause = load_clause(version, clause_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        terms.delete_clause(clause, current_user)
        db.session.commit()
        flash(_("Clause deleted."), "success")
    except terms.TermsError as error:
        flash(refused(error, "contract_version", version_id), "error")
    return redirect(url_for(".version", contract_id=contract_id, version_id=version_id))


@bp.route("/<int:contract_id>/versions/<int:version_id>/weights", methods=["POST"])
@allow("contracts.work")
def weights(contract_id, version_id):
    """The live weight total while the clause form is typed (htmx); without JS, a page with the
    same sentence. The services check the weights again on activate and propose."""
    contract, version = load_version(contract_id, version_id)
    clause_id = request.form.get("clause_id", type=int)
    clause = load_clause(version, clause_id) if clause_id else None
    form = clause_form(version, clause)
    form.validate()
    total, ok = typed_total(version, form, clause)
    return render_page_or_fragment("contracts/weights_page.html", "contracts/_weights.html", contract=contract,
                                   version=version, clause=clause, total=total, ok=ok)

