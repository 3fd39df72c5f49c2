"""KPI templates (HR): list, detail, create, copy, edit with a live weight total."""

import json
from decimal import Decimal
from types import SimpleNamespace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kpiapp.appraisal import services
from kpiapp.appraisal.routes import forms
from kpiapp import presentation
from kpiapp.appraisal.routes.common import error_text, form_refusal, metric_unit
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error
from kpiapp.metrics.catalog import BUILTIN_METRICS
from kpiapp.models import KpiTemplate, Position
from kpiapp.policy import allow, authorize
from kpiapp.web.pages import render_page_or_fragment
from kpiapp.web.refusals import audit_refusal

bp = Blueprint("kpi_templates", __name__)
BLANK_ROWS = 2
LIMITS = ("threshold", "target", "stretch")


def load(template_id):
    return authorize("template.manage", db.session.get(KpiTemplate, template_id))


def _decimal(value):
    return None if value is None else Decimal(str(value))


def first_set(*values):
    return next((v for v in values if v is not None), None)  # 0 is a value, unlike with `or`


def spec_of(row):
    """A services item spec from one form row (numbers are Decimals, None when left blank)."""
    kind = "manual" if row.get("kind") == "manual" else "metric"
    rule = (
        {"kind": "manual", "scale_max": first_set(row.get("scale_max"), row.get("cap"), Decimal(5))}
        if kind == "manual"
        else {"kind": row.get("rule_kind") or "linear", "cap": row.get("cap")}
    )
    if kind == "metric" and row.get("direction"):
        rule["direction"] = row["direction"]
    if rule["kind"] == "bands":
        try:
            rule["bands"] = json.loads(row.get("bands") or "[]")
        except ValueError:
            rule["bands"] = []
    unit = unit_of(row.get("metric_key"))  # typed as people think of it: a percent metric in percent
    limits = {} if kind == "manual" else {n: presentation.from_entry(row.get(n), unit) for n in LIMITS}
    return {
        "name": row.get("name"),
        "kind": kind,
        "metric_key": row.get("metric_key") if kind == "metric" else None,
        "tag": row.get("tag") or "result",
        "weight": row.get("weight"),
        "description": row.get("description") or None,
        "rule": rule,
        **limits,
    }


def unit_of(metric_key):
    """The unit of a row's metric (None for a manual row or an unknown metric)."""
    return metric_unit(SimpleNamespace(metric_key=metric_key)) if metric_key else None


def row_of(item):
    rule = item.rule or {}
    unit = unit_of(item.metric_key)
    return {
        "name": item.name,
        "kind": str(item.kind),
        "metric_key": item.metric_key or "",
        "tag": str(item.tag),
        "weight": item.weight,
        **{n: presentation.to_entry(_decimal(getattr(item, n)), unit) for n in LIMITS},
        "rule_kind": rule.get("kind", "linear"),
        "direction": rule.get("direction") or "",
        "cap": rule.get("cap"),
        "scale_max": rule.get("scale_max"),
        "description": item.description or "",
        "bands": json.dumps(rule.get("bands") or []),
    }


def weight_total(form):
    """(total, ok) of the posted weights; a weight that is not a number makes it not ok."""
    rows = forms.template_rows(form)
    total = sum((row["weight"] or Decimal(0) for row in rows), Decimal(0))
    return total, forms.weights_valid(form) and total == 100


def positions():
    return db.session.execute(select(Position).order_by(Position.title)).scalars().all()


def template_form(template, rows=(), post=False):
    blanks = [{} for _ in range(BLANK_ROWS if rows else 5)]
    return forms.template_form(template, [*rows, *blanks], positions(), post=post)


def form_page(template, form, error=None, status=200):
    total, ok = weight_total(form)
    if status >= 400:
        focus_first_error(form)
    return render_template("kpi_templates/form.html", template=template, form=form, total=total, ok=ok,
                           metrics=BUILTIN_METRICS, units={m.key: m.unit for m in BUILTIN_METRICS},
                           error=error), status


def save_template(template, form, call):
    """Validate, one service call, commit; a refusal shows the form again as typed."""
    if not form.validate():
        return None, form_page(template, form, form_refusal(), 422)
    try:
        saved = call([spec_of(row) for row in forms.template_rows(form)])
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "kpi_template", template.id if template else None)
        return None, form_page(load(template.id) if template else None, form, error, 422)
    return saved, None


@bp.route("/")
@allow("appraisal.manage")
def index():
    query = select(KpiTemplate).where(KpiTemplate.is_current.is_(True)).order_by(KpiTemplate.name)
    return render_template("kpi_templates/index.html", templates=db.session.execute(query).scalars().all())


@bp.route("/<int:template_id>")
@allow("appraisal.manage")
def detail(template_id):
    template = load(template_id)
    versions = (
        db.session.execute(
            select(KpiTemplate).where(KpiTemplate.code == template.code).order_by(KpiTemplate.version.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "kpi_templates/detail.html",
        template=template,
        versions=versions,
        in_use=services.template_in_use(template),
    )


@bp.route("/new", methods=["GET", "POST"])
@allow("appraisal.manage")
def new():
    form = template_form(None, post=request.method == "POST")
    if request.method == "GET":
        return form_page(None, form)
    template, refused = save_template(None, form, lambda items: services.create_template(
        current_user, code=form.code.data, name=form.name.data, items=items,
        description=form.description.data or None, position_id=form.position_id.data or None))
    if refused:
        return refused
    flash(_("Template saved."), "success")
    return redirect(url_for(".detail", template_id=template.id))


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@allow("appraisal.manage")
def edit(template_id):
    template = load(template_id)
    form = template_form(template, [row_of(i) for i in template.items], post=request.method == "POST")
    if request.method == "GET":
        return form_page(template, form)
    saved, refused = save_template(template, form, lambda items: services.edit_template(
        template, current_user, name=form.name.data or None, description=form.description.data, items=items))
    if refused:
        return refused
    flash(_("Saved as version %(n)s.", n=saved.version), "success")
    return redirect(url_for(".detail", template_id=saved.id))


@bp.route("/<int:template_id>/copy", methods=["POST"])
@allow("appraisal.manage")
def copy(template_id):
    template = load(template_id)
    form = forms.CopyTemplateForm()
    if not form.validate():
        return refused_copy(template_id, form_refusal())
    try:
        new_template = services.copy_template(
            template, current_user, code=form.code.data, name=form.name.data or template.name
        )
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "kpi_template", template_id)
        return refused_copy(template_id, error)
    flash(_("Copied."), "success")
    return redirect(url_for(".detail", template_id=new_template.id))


def refused_copy(template_id, error):
    """The copy form sits on the detail page: say what is wrong there."""
    flash(error_text(error), "error")
    return redirect(url_for(".detail", template_id=template_id))


@bp.route("/weights", methods=["POST"])
@allow("appraisal.manage")
def weights():
    """The live weight total while HR types (htmx); the services check it again on save."""
    total, ok = weight_total(template_form(None, post=True))
    return render_page_or_fragment(
        "kpi_templates/weights_page.html", "kpi_templates/_weights.html", total=total, ok=ok
    )
