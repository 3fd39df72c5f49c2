"""The metric dictionary (指标口径): every definition with its formula and what it includes."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kpiapp.extensions import db
from kpiapp.metrics.forms import DefinitionForm
from kpiapp.metrics import services
from kpiapp.metrics.formula import FormulaError
from kpiapp.parsers.measures import BASE_MEASURES
from kpiapp.policy import STAFF, allow

bp = Blueprint("metrics", __name__)


@bp.route("/")
@allow(STAFF)
def dictionary():
    return render_template("metrics/dictionary.html", definitions=services.current_definitions(),
                           measures=BASE_MEASURES.values())


@bp.route("/<key>")
@allow(STAFF)
def versions(key):
    rows = services.definition_versions(key)
    if not rows:
        abort(404)
    return render_template("metrics/versions.html", versions=rows, key=key)


@bp.route("/new", methods=["GET", "POST"])
@allow("metrics.manage")
def new_definition():
    form = DefinitionForm()
    if form.validate_on_submit() and save(form, lambda: services.create_definition(
            form.key.data, form.data, current_user)):
        return redirect(url_for("metrics.dictionary"))
    return render_template("metrics/form.html", form=form, definition=None)


@bp.route("/<key>/edit", methods=["GET", "POST"])
@allow("metrics.manage")
def edit_definition(key):
    definition = services.get_definition(key)
    if definition is None:
        abort(404)
    form = DefinitionForm(obj=definition)
    if form.validate_on_submit() and save(form, lambda: services.revise_definition(
            key, form.data, current_user)):
        return redirect(url_for("metrics.dictionary"))
    return render_template("metrics/form.html", form=form, definition=definition)


def save(form, action):
    try:
        definition = action()
    except services.DefinitionError as error:
        db.session.rollback()
        getattr(form, error.field).errors.append(error.message)
        return False
    db.session.commit()
    flash(_("Saved %(key)s version %(version)d.", key=definition.key, version=definition.version), "success")
    return True


@bp.route("/validate", methods=["POST"])
@allow("metrics.manage")
def validate():
    """HTMX: the validation fragment for the formula typed so far (always 200 so htmx swaps it)."""
    text = DefinitionForm().formula.data or ""
    try:
        formula, error = services.validate_formula(text), None
    except FormulaError as problem:
        formula, error = None, problem
    return render_template("metrics/_formula_check.html", formula=formula, error=error, text=text)
