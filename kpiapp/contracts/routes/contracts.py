"""The agency's contracts: list, new, edit, detail and the account team."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kpiapp import policy
from kpiapp.contracts import reports, terms
from kpiapp.contracts.routes.common import (bp, clause_rows, company_choices, fee_summary, load_contract, mark, refused,
                                            staff_choices)
from kpiapp.contracts.routes.forms import ConfirmForm, ContractForm, GenerateForm, TeamForm
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error
from kpiapp.models import Contract, ContractReport, ContractStatus
from kpiapp.policy import allow
from kpiapp.web.refusals import deny


@bp.route("/")
@allow("contracts.work")
def index():
    contracts = db.session.execute(select(Contract).where(policy.visible_contracts_filter(current_user))
                                   .order_by(Contract.code)).scalars().all()
    return render_template("contracts/index.html", contracts=contracts, latest=latest_reports(contracts),
                           may_create=policy.can_manage_appraisal(current_user))


def latest_reports(contracts):
    """{contract id: its latest period's report}."""
    ids = [c.id for c in contracts]
    rows = db.session.execute(select(ContractReport).where(ContractReport.contract_id.in_(ids))
                              .order_by(ContractReport.period_start)).scalars().all() if ids else []
    return {r.contract_id: r for r in rows}


def contract_form(contract=None):
    form = ContractForm(obj=contract)
    form.client_company_id.choices = company_choices()
    form.lead_id.choices = staff_choices()
    if contract is not None and not form.is_submitted():
        form.period.data = str(contract.period)
        form.lead_id.data = contract.lead_id or 0
    return form


def contract_values(form):
    return {"code": form.code.data, "title": form.title.data, "client_company_id": form.client_company_id.data or "",
            "period": form.period.data, "start_date": form.start_date.data, "end_date": form.end_date.data,
            "lead_id": form.lead_id.data or None}


def form_page(form, contract=None, error=None, status=200):
    if status >= 400:
        focus_first_error(form)
    return render_template("contracts/form.html", form=form, contract=contract, error=error), status


@bp.route("/new", methods=["GET", "POST"])
@allow("contracts.work")
def new():
    if not policy.can_manage_appraisal(current_user):
        deny("route:contracts.new")  # a lead works on contracts but does not create them (audited when a write)
    form = contract_form()
    if request.method == "GET":
        return form_page(form)
    if not form.validate():
        return form_page(form, error=_("See the marked fields."), status=422)
    try:
        values = contract_values(form)
        if form.new_client.data:
            values["client_company_id"] = terms.create_client_company(form.new_client.data, current_user).id
        contract = terms.create_contract(values, current_user)
        db.session.commit()
    except terms.TermsError as error:
        text = refused(error, "contract")
        return form_page(form, error=mark(form, error, text) or _("See the marked fields."), status=422)
    flash(_("Contract created. Now choose its stores and write its clauses."), "success")
    return redirect(url_for(".version", contract_id=contract.id, version_id=contract.versions[0].id))


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@allow("contracts.work")
def edit(contract_id):
    contract = load_contract(contract_id)
    form = contract_form(contract)
    if request.method == "GET":
        return form_page(form, contract)
    if not form.validate():
        return form_page(form, contract, _("See the marked fields."), 422)
    try:
        terms.update_contract(contract, contract_values(form), current_user)
        db.session.commit()
    except terms.TermsError as error:
        text = refused(error, "contract", contract_id)
        return form_page(form, load_contract(contract_id), mark(form, error, text) or _("See the marked fields."),
                         422)
    flash(_("Saved."), "success")
    return redirect(url_for(".detail", contract_id=contract.id))


@bp.route("/<int:contract_id>")
@allow("contracts.work")
def detail(contract_id):
    contract = load_contract(contract_id)
    return render_template("contracts/detail.html", **detail_context(contract))


def detail_context(contract, generate=None):
    in_force = terms.latest_in_force(contract) or contract.versions[0]
    by_period = {r.period_start: r for r in reports.reports_of(contract)}
    periods = [{"start": start, "end": end, "report": by_period.get(start),
                "terms": reports.terms_in_force(contract, start)} for start, end in reports.periods(contract)]
    generate = generate or GenerateForm()
    generate.period_start.choices = [(p["start"].isoformat(), p["start"].isoformat()) for p in periods
                                     if p["report"] is None and p["terms"] is not None]
    return {"contract": contract, "in_force": in_force, "periods": periods, "generate": generate,
            "rows": clause_rows(in_force), "fee": fee_summary(in_force),
            "open_amendment": terms.open_amendment(contract), "confirm": ConfirmForm(),
            "may_amend": contract.status == ContractStatus.active and terms.open_amendment(contract) is None,
            "may_invite": policy.can_invite_client(current_user, contract.client_company)}


@bp.route("/<int:contract_id>/team", methods=["GET", "POST"])
@allow("contracts.work")
def team(contract_id):
    contract = load_contract(contract_id)
    form = TeamForm()
    form.lead_id.choices = staff_choices()
    form.member_ids.choices = staff_choices(blank=False)
    if not form.is_submitted():
        form.lead_id.data = contract.lead_id or 0
        form.member_ids.data = [m.person_id for m in contract.members]
    if request.method == "GET":
        return render_template("contracts/team.html", contract=contract, form=form)
    error = None
    if form.validate():
        try:
            terms.set_team(contract, form.lead_id.data or None, form.member_ids.data or [], current_user)
            db.session.commit()
            flash(_("Saved."), "success")
            if not policy.can_manage_contract(current_user, contract):  # they left the team
                return redirect(url_for(".index"))
            return redirect(url_for(".detail", contract_id=contract.id))
        except terms.TermsError as refusal:
            error = mark(form, refusal, refused(refusal, "contract", contract_id))
            contract = load_contract(contract_id)
    return render_template("contracts/team.html", contract=contract, form=form,
                           error=error or _("See the marked fields.")), 422
