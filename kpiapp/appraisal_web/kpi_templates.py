"""KPI templates (HR): list, detail, create, copy, edit with a live weight total."""

import json
from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kpiapp.appraisal import services
from kpiapp.appraisal_web.common import audit_refusal, error_text
from kpiapp.extensions import db
from kpiapp.metrics.catalog import BUILTIN_METRICS
from kpiapp.models import KpiTemplate, Position
from kpiapp.policy import allow, authorize
from kpiapp.web import render_page_or_fragment

bp = Blueprint("kpi_templates", __name__)
ROW_FIELDS = (
    "name",
    "kind",
    "metric_key",
    "tag",
    "weight",
    "threshold",
    "target",
    "stretch",
    "rule_kind",
    "direction",
    "cap",
    "scale_max",
    "description",
    "bands",
)
BLANK_ROWS = 2


def load(template_id):
    return authorize("template.manage", db.session.get(KpiTemplate, template_id))


def rows_from_form(form):
    """Item rows as posted: items-<n>-<field>, in row order; rows without a name are dropped."""
    rows = {}
    for key, value in form.items():
        parts = key.split("-", 2)
        if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit() and parts[2] in ROW_FIELDS:
            rows.setdefault(int(parts[1]), {})[parts[2]] = value.strip()
    return [rows[n] for n in sorted(rows) if rows[n].get("name")]


def spec_of(row):
    """A services item spec from one form row."""
    kind = "manual" if row.get("kind") == "manual" else "metric"
    rule = (
        {"kind": "manual", "scale_max": row.get("scale_max") or row.get("cap") or "5"}
        if kind == "manual"
        else {"kind": row.get("rule_kind") or "linear", "cap": row.get("cap") or None}
    )
    if kind == "metric" and row.get("direction"):
        rule["direction"] = row["direction"]
    if rule["kind"] == "bands":
        try:
            rule["bands"] = json.loads(row.get("bands") or "[]")
        except ValueError:
            rule["bands"] = []
    limits = {} if kind == "manual" else {n: row.get(n) or None for n in ("threshold", "target", "stretch")}
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


def row_of(item):
    rule = item.rule or {}
    return {
        "name": item.name,
        "kind": str(item.kind),
        "metric_key": item.metric_key or "",
        "tag": str(item.tag),
        "weight": item.weight,
        "threshold": item.threshold,
        "target": item.target,
        "stretch": item.stretch,
        "rule_kind": rule.get("kind", "linear"),
        "direction": rule.get("direction") or "",
        "cap": rule.get("cap"),
        "scale_max": rule.get("scale_max"),
        "description": item.description or "",
        "bands": json.dumps(rule.get("bands") or []),
    }


def weight_total(rows):
    """(total, ok) of the posted weights; a value that is not a number makes it not ok."""
    total, ok = Decimal(0), True
    for row in rows:
        try:
            total += Decimal(row.get("weight") or "0")
        except InvalidOperation:
            ok = False
    return total, ok and total == 100


def form_page(template, rows, error=None, status=200):
    rows = rows + [{} for _ in range(BLANK_ROWS if rows else 5)]
    total, ok = weight_total(rows)
    positions = db.session.execute(select(Position).order_by(Position.title)).scalars().all()
    return render_template(
        "kpi_templates/form.html",
        template=template,
        rows=rows,
        total=total,
        ok=ok,
        metrics=BUILTIN_METRICS,
        positions=positions,
        error=error,
        values=request.form,
    ), status


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
    if request.method == "GET":
        return form_page(None, [])
    rows, form = rows_from_form(request.form), request.form
    try:
        template = services.create_template(
            current_user,
            code=form.get("code", "").strip(),
            name=form.get("name", "").strip(),
            items=[spec_of(r) for r in rows],
            description=form.get("description") or None,
            position_id=form.get("position_id", type=int) or None,
        )
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "kpi_template")
        return form_page(None, rows, error, 422)
    flash(_("Template saved."), "success")
    return redirect(url_for(".detail", template_id=template.id))


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@allow("appraisal.manage")
def edit(template_id):
    template = load(template_id)
    if request.method == "GET":
        return form_page(template, [row_of(i) for i in template.items])
    rows, form = rows_from_form(request.form), request.form
    try:
        saved = services.edit_template(
            template,
            current_user,
            name=form.get("name", "").strip() or None,
            description=form.get("description"),
            items=[spec_of(r) for r in rows],
        )
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "kpi_template", template_id)
        return form_page(load(template_id), rows, error, 422)
    flash(_("Saved as version %(n)s.", n=saved.version), "success")
    return redirect(url_for(".detail", template_id=saved.id))


@bp.route("/<int:template_id>/copy", methods=["POST"])
@allow("appraisal.manage")
def copy(template_id):
    template = load(template_id)
    try:
        new_template = services.copy_template(
            template,
            current_user,
            code=request.form.get("code", "").strip(),
            name=request.form.get("name", "").strip() or template.name,
        )
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "kpi_template", template_id)
        flash(" ".join(t for t in error_text(error) if t), "error")
        return redirect(url_for(".detail", template_id=template_id))
    flash(_("Copied."), "success")
    return redirect(url_for(".detail", template_id=new_template.id))


@bp.route("/weights", methods=["POST"])
@allow("appraisal.manage")
def weights():
    """The live weight total while HR types (htmx); the services check it again on save."""
    total, ok = weight_total(rows_from_form(request.form))
    return render_page_or_fragment(
        "kpi_templates/weights_page.html", "kpi_templates/_weights.html", total=total, ok=ok
    )
