"""What every agency contract page shares: the blueprint, loading objects through the policy,
refusals in the user's language (marked on the input they are about), and choice lists."""
from types import SimpleNamespace

from flask import Blueprint, abort, current_app, flash, redirect
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kpiapp import presentation

from kpiapp.contracts.amendment_flow import TermsState, TermsStep
from kpiapp.contracts.report_flow import ReportState, ReportStep
from kpiapp.contracts.routes.forms import ConfirmForm
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error
from kpiapp.metrics.catalog import BUILTIN_METRICS, BUILTIN_METRICS_BY_KEY
from kpiapp.models import (ClientCompany, Contract, ContractClause, ContractReport, ContractStatus, ContractVersion, Role,
                           User)
from kpiapp.policy import authorize
from kpiapp.web.pages import ui_lang
from kpiapp.web.refusals import audit_refusal

bp = Blueprint("contracts", __name__)


@bp.context_processor
def enums():
    """The states these pages compare with (templates compare with members, not strings)."""
    return {"ContractStatus": ContractStatus, "TermsState": TermsState, "TermsStep": TermsStep,
            "ReportState": ReportState, "ReportStep": ReportStep}


def load_contract(contract_id):
    """The contract if the user may work on it (HR, admins, its account team), else 404."""
    return authorize("contract.manage", db.session.get(Contract, contract_id))


def load_version(contract_id, version_id):
    contract = load_contract(contract_id)
    version = db.session.get(ContractVersion, version_id)
    if version is None or version.contract_id != contract.id:
        abort(404)
    return contract, version


def load_clause(version, clause_id):
    clause = db.session.get(ContractClause, clause_id)
    if clause is None or clause.version_id != version.id:
        abort(404)
    return clause


def load_report(contract_id, report_id):
    contract = load_contract(contract_id)
    report = db.session.get(ContractReport, report_id)
    if report is None or report.contract_id != contract.id:
        abort(404)
    return contract, report


def refusal_text(error):
    """A TermsError or ReportError in the user's language (the code goes to the log)."""
    current_app.logger.info("refused %s: %s", error.code, error)
    return _(error.message, **getattr(error, "params", {}))


def refused(error, entity, entity_id=None):
    """Roll back and audit a refused service call (throttled); returns the text to show."""
    status = getattr(error, "status", 403 if error.code == "forbidden" else 422)
    audit_refusal(SimpleNamespace(code=error.code, status=status), entity, entity_id)
    return refusal_text(error)


def run_step(call, target, entity, error_class, back, done):
    """One flow step posted from a button (confirm form): run `call(target, current_user)`,
    commit, flash `done` or the refusal, and go `back` (the report and terms steps alike)."""
    if not ConfirmForm().validate():
        abort(400)
    try:
        call(target, current_user)
        db.session.commit()
    except error_class as error:
        flash(refused(error, entity, target.id), "error")
        return redirect(back)
    flash(done, "success")
    return redirect(back)


def mark(form, error, text):
    """Put the refusal on the input it is about; returns the text for the top of the form
    when no input of this form is named."""
    field = getattr(form, error.field, None) if getattr(error, "field", None) else None
    if field is None:
        return text
    field.errors = [*field.errors, text] if isinstance(field.errors, list) else [text]
    focus_first_error(form)
    return None


def staff_choices(blank=True):
    people = db.session.execute(select(User).where(User.role != Role.client, User.active.is_(True))
                                .order_by(User.name)).scalars().all()
    return ([(0, "—")] if blank else []) + [(p.id, p.name) for p in people]


def company_choices():
    companies = db.session.execute(select(ClientCompany).order_by(ClientCompany.name)).scalars().all()
    return [(0, "—")] + [(c.id, c.name) for c in companies]


def metric_name(key):
    spec = BUILTIN_METRICS_BY_KEY.get(key or "")
    if spec is None:
        return key or "—"
    return spec.name_zh if ui_lang() == "zh_CN" else spec.name_en


def metric_choices(blank=True):
    return ([("", "—")] if blank else []) + [(m.key, metric_name(m.key)) for m in BUILTIN_METRICS]


def metric_unit(key):
    spec = BUILTIN_METRICS_BY_KEY.get(key or "")
    return spec.unit if spec else None


def in_unit(value, key):
    """A clause's limit or value as people read it (22.13%, 66,466.95, $...)."""
    return presentation.in_unit(value, metric_unit(key), ui_lang(), current_app.config["BASE_CURRENCY"])


def money(value):
    return presentation.number(value, ui_lang(), 2, 2) if value is not None else "—"


LIMITS = ("threshold", "target", "stretch")


def clause_rows(version):
    """The clauses as the pages show them (limits in their unit)."""
    return [{"clause": c, "metric": metric_name(c.metric_key) if c.metric_key else _("manual"),
             **{n: in_unit(getattr(c, n), c.metric_key) for n in LIMITS},
             "stores": [s.store.code for s in version.stores if s.store_id in (c.store_ids or [])]}
            for c in version.clauses]


def band_text(band):
    """One fee band in words: 'Score 110 and above: +10%'."""
    lang = ui_lang()
    adjust = presentation.number(band["adjust_pct"], lang)
    adjust = adjust if adjust.startswith("-") else f"+{adjust}"
    lower, upper = (presentation.number(band.get(k), lang) if band.get(k) is not None else None
                    for k in ("lower", "upper"))
    if upper is None:
        return _("Score %(lower)s and above: %(adjust)s%%", lower=lower, adjust=adjust)
    if lower is None:
        return _("Score below %(upper)s: %(adjust)s%%", upper=upper, adjust=adjust)
    return _("Score from %(lower)s to below %(upper)s: %(adjust)s%%", lower=lower, upper=upper, adjust=adjust)


def fee_summary(version):
    return {"base_fee": money(version.base_fee), "commission_pct": version.commission_pct,
            "commission_metric": metric_name(version.commission_metric) if version.commission_metric else None,
            "bands": [band_text(b) for b in version.fee_bands or []], "bonus_threshold": version.bonus_threshold,
            "bonus_amount": money(version.bonus_amount) if version.bonus_amount is not None else None}
