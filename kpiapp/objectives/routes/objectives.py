"""The objective pages (docs/objectives.md): the list, an objective with its key results, the
alignment tree, a key result with check-ins, milestones, aligned KPI items and its
decomposition (目标分解). Every write goes through kpiapp.objectives.services."""
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kpiapp import charts, presentation
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error
from kpiapp.metrics.services import current_definitions, get_definition
from kpiapp.models import KeyResult, KrKind, Milestone, Objective, ObjectiveLevel, ScorecardItem
from kpiapp.objectives import okr_forms as forms
from kpiapp.objectives import services
from kpiapp.objectives.routes.common import bp
from kpiapp.objectives.services import ObjectiveError
from kpiapp.policy import STAFF, allow, authorize, can, can_create_objective
from kpiapp.tracking.services import reason_text, utc_today
from kpiapp.web.pages import render_page_or_fragment, ui_lang
from kpiapp.web.refusals import audit_refusal

ERROR_TEXT = {
    "required": _l("This field is required."),
    "invalid": _l("Choose one of the options."),
    "invalid_choice": _l("Choose one of the options."),
    "invalid_number": _l("Enter a number."),
    "not_positive": _l("Enter a number above zero."),
    "too_long": _l("This text is too long."),
    "invalid_date": _l("Enter a date (YYYY-MM-DD)."),
    "invalid_period": _l("Enter a period such as 2026, 2026-Q4 or 2026-11."),
    "unknown_person": _l("Choose a person."),
    "owner_not_yours": _l("Choose yourself or someone who reports to you."),
    "unknown_parent": _l("Choose an objective you can see."),
    "parent_level": _l("The parent objective must be at the same or a higher level."),
    "outside_parent_period": _l("The period must lie within the parent objective's period."),
    "parent_cycle": _l("An objective cannot sit below itself."),
    "target_is_start": _l("The target must differ from the start value."),
    "unknown_metric": _l("Choose a metric from the dictionary."),
    "no_scope": _l("Choose at least one store."),
    "unknown_store": _l("Choose each store once."),
    "bad_share": _l("A share is above 0 and at most 100 %."),
    "no_milestones": _l("Add at least one milestone."),
    "unknown_key_result": _l("Choose a key result you can see."),
    "locked": _l("The scorecard is locked."),
    "not_a_number": _l("Only a key result with a number target can be split."),
    "no_children": _l("Choose at least one person."),
    "bad_shares": _l("Shares must be positive numbers."),
    "unknown_objective": _l("Choose an objective you manage."),
    "forbidden": _l("You may not change this."),
}
FORM_INVALID = _l("See the marked fields.")


def error_text(error):
    current_app.logger.info("objectives refused %s: %s", error.code, error.message)
    return str(ERROR_TEXT.get(error.code, _l("This was refused.")))


def run(action, form=None):
    """Call a service; commit on success. A refusal is rolled back and shown on its field
    (or above the form); returns the service's result, or None when refused."""
    try:
        result = action()
    except ObjectiveError as error:
        db.session.rollback()
        if error.status == 403:
            audit_refusal(error, "objective", (request.view_args or {}).get("objective_id"))
        target = getattr(form, error.field, None) if form is not None and error.field else None
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, error_text(error)]
            focus_first_error(form)
        flash(error_text(error) if target is None else str(FORM_INVALID), "error")
        return None
    db.session.commit()
    return result


@bp.app_template_filter("period_label")
def period_label(objective):
    return services.period_label(objective)


@bp.app_template_filter("kr_value")
def kr_value(value, unit):
    return presentation.in_unit(value, unit, ui_lang())


def objective_or_404(objective_id, action="objective.view"):
    return authorize(action, db.session.get(Objective, objective_id))


def key_result_or_404(kr_id, action="objective.view"):
    kr = db.session.get(KeyResult, kr_id)
    authorize(action, kr.objective if kr is not None else None)
    return kr


# ---- objectives ----------------------------------------------------------------------------------

@bp.route("/objectives/")
@allow(STAFF)
def objective_index():
    period = request.args.get("period", "").strip()
    mine = request.args.get("mine") == "1"
    rows = services.visible_objectives(current_user)
    periods = sorted({services.period_label(o) for o in rows}, reverse=True)
    rows = [o for o in rows if (not period or services.period_label(o) == period)
            and (not mine or o.owner_id == current_user.id)]
    return render_page_or_fragment("objectives/index.html", "objectives/_list.html", objectives=rows,
                                   periods=periods, period=period, mine=mine, today=utc_today(),
                                   may_create=can_create_objective(current_user, ObjectiveLevel.person))


def objective_form(objective=None):
    form = forms.ObjectiveForm(obj=objective, data=None if objective else default_objective_data())
    people = services.owner_choices(current_user)
    form.owner_id.choices = [(str(p.id), p.name) for p in people]
    parents = [o for o in services.visible_objectives(current_user) if objective is None or o.id != objective.id]
    form.parent_id.choices = [("", _("— none —"))] + [
        (str(o.id), f"{o.title} · {services.period_label(o)} · {o.owner.name}") for o in parents]
    form.level.choices = [(value, label) for value, label in form.level.choices
                          if can_create_objective(current_user, ObjectiveLevel(value)) or objective]
    if objective is None:
        del form.status  # a new objective is active
    if objective is not None and not form.is_submitted():
        form.owner_id.data, form.parent_id.data = str(objective.owner_id), str(objective.parent_id or "")
        form.period.data, form.level.data = services.period_label(objective), str(objective.level)
    return form


def default_objective_data():
    parent = db.session.get(Objective, request.args.get("parent_id", type=int) or 0)
    today = utc_today()
    data = {"owner_id": str(current_user.id), "period": f"{today.year}-Q{(today.month - 1) // 3 + 1}",
            "shared": True, "weight": Decimal(1), "level": "person"}
    if parent is not None and can(current_user, "objective.view", parent):
        data.update(parent_id=str(parent.id), period=services.period_label(parent))
    return data


def objective_values(form):
    return {**form.data, "parent_id": form.parent_id.data or None}


@bp.route("/objectives/new", methods=["GET", "POST"])
@allow(STAFF)
def objective_new():
    form = objective_form()
    if form.is_submitted() and not form.validate():
        flash(str(FORM_INVALID), "error")
    elif form.is_submitted():
        objective = run(lambda: services.create_objective(objective_values(form), current_user), form)
        if objective is not None:
            flash(_("Objective created."), "success")
            return redirect(url_for("objectives.objective_show", objective_id=objective.id))
    return render_template("objectives/objective_form.html", form=focus_first_error(form), objective=None)


@bp.route("/objectives/<int:objective_id>/edit", methods=["GET", "POST"])
@allow(STAFF)
def objective_edit(objective_id):
    objective = objective_or_404(objective_id)
    if not can(current_user, "objective.manage", objective):
        abort(403)
    form = objective_form(objective)
    if form.is_submitted() and not form.validate():
        flash(str(FORM_INVALID), "error")
    elif form.is_submitted() and run(lambda: services.update_objective(objective, objective_values(form),
                                                                       current_user), form):
        flash(_("Objective saved."), "success")
        return redirect(url_for("objectives.objective_show", objective_id=objective.id))
    return render_template("objectives/objective_form.html", form=focus_first_error(form), objective=objective)


@bp.route("/objectives/<int:objective_id>")
@allow(STAFF)
def objective_show(objective_id):
    objective = objective_or_404(objective_id)
    node = services.alignment_tree(objective, current_user)
    return render_template("objectives/objective.html", objective=objective, node=node,
                           rolled=services.objective_progress(objective), period=services.period_label(objective),
                           may_manage=can(current_user, "objective.manage", objective))


@bp.route("/objectives/<int:objective_id>/tree")
@allow(STAFF)
def objective_tree(objective_id):
    objective = objective_or_404(objective_id)
    top = objective
    for above in services.ancestors(objective):
        if not can(current_user, "objective.view", above):
            break
        top = above
    return render_template("objectives/tree.html", root=services.alignment_tree(top, current_user),
                           focus=objective)


# ---- key results ----------------------------------------------------------------------------------

def key_result_form(objective, kr=None):
    form = forms.KeyResultForm(obj=kr, data=None if kr else {"owner_id": str(objective.owner_id), "weight": 1})
    form.owner_id.choices = [(str(p.id), p.name) for p in owner_people(objective)]
    lang = ui_lang()
    form.metric_key.choices = [("", "—")] + [
        (d.key, d.name_zh if lang == "zh_CN" else d.name_en) for d in current_definitions()]
    if kr is not None and not form.is_submitted():
        form.owner_id.data, form.kind.data = str(kr.owner_id), str(kr.kind)
        form.milestones.data = "\n".join(m.title for m in kr.milestones)
        form.start_value.data = presentation.to_entry(services.dec(kr.start_value), kr.unit)
        form.target.data = presentation.to_entry(services.dec(kr.target), kr.unit)
    return form


def owner_people(objective):
    people = services.owner_choices(current_user)
    if all(p.id != objective.owner_id for p in people):
        people = [objective.owner, *people]
    return people


def typed_scope(kr=None):
    """{store_id: share typed} from the form, else from the key result's scope."""
    if request.method == "POST":
        return {s.id: request.form.get(f"scope_{s.id}", "").strip() for s in services.store_choices(current_user)}
    return {int(e["store_id"]): e.get("share_pct", "") for e in ((kr.scope if kr else None) or [])}


def key_result_values(form):
    """The service's values from the form: shares typed per store, percent metrics typed in percent."""
    values = dict(form.data)
    values["scope"] = [{"store_id": store_id, "share_pct": share}
                       for store_id, share in typed_scope().items() if share]
    definition = get_definition(form.metric_key.data) if form.kind.data == KrKind.metric else None
    unit = definition.unit if definition else form.unit.data
    for name in ("start_value", "target"):
        values[name] = presentation.from_entry(values[name], unit)
    return values


def kr_form_page(form, objective, kr):
    return render_template("objectives/key_result_form.html", form=focus_first_error(form), objective=objective,
                           kr=kr, stores=services.store_choices(current_user), scope=typed_scope(kr))


@bp.route("/objectives/<int:objective_id>/key-results/new", methods=["GET", "POST"])
@allow(STAFF)
def key_result_new(objective_id):
    objective = objective_or_404(objective_id)
    if not can(current_user, "objective.manage", objective):
        abort(403)
    form = key_result_form(objective)
    if form.is_submitted() and not form.validate():
        flash(str(FORM_INVALID), "error")
    elif form.is_submitted():
        kr = run(lambda: services.create_key_result(objective, key_result_values(form), current_user), form)
        if kr is not None:
            flash(_("Key result added."), "success")
            return redirect(url_for("objectives.key_result_show", kr_id=kr.id))
    return kr_form_page(form, objective, None)


@bp.route("/key-results/<int:kr_id>/edit", methods=["GET", "POST"])
@allow(STAFF)
def key_result_edit(kr_id):
    kr = key_result_or_404(kr_id)
    if not can(current_user, "objective.manage", kr.objective):
        abort(403)
    form = key_result_form(kr.objective, kr)
    if form.is_submitted() and not form.validate():
        flash(str(FORM_INVALID), "error")
    elif form.is_submitted() and run(lambda: services.update_key_result(kr, key_result_values(form),
                                                                        current_user), form):
        flash(_("Key result saved."), "success")
        return redirect(url_for("objectives.key_result_show", kr_id=kr.id))
    return kr_form_page(form, kr.objective, kr)


def history_chart(kr):
    rows = [(f"{week:%Y-%m-%d}", value, kr.target) for week, value in services.weekly_values(kr)]
    if not rows:
        return None
    labels = {"actual": _("Value"), "target": _("Target"), "week": _("Week")}
    table = [(week, kr_value(value, kr.unit), kr_value(target, kr.unit)) for week, value, target in rows]
    return {"spec": charts.trend_lines(rows, labels, percent=kr.unit == "fraction"), "rows": table}


def kr_page(kr, check_in_form=None, link_form=None, status=200):
    may_check_in = services.may_check_in(current_user, kr)
    may_manage = can(current_user, "objective.manage", kr.objective)
    link_form = link_form or link_item_form(kr)
    return render_template(
        "objectives/key_result.html", kr=kr, objective=kr.objective, at_risk=services.kr_at_risk(kr),
        history=services.check_in_history(kr, current_user), trend=history_chart(kr),
        items=services.aligned_items(kr, current_user), may_check_in=may_check_in, may_manage=may_manage,
        check_in_form=focus_first_error(check_in_form or forms.CheckInForm(confidence=str(kr.confidence or ""))),
        link_form=link_form, children=[c for c in kr.children if can(current_user, "objective.view", c.objective)],
        children_total=sum((services.dec(c.target) or 0 for c in kr.children), Decimal(0)),
        may_link=services.may_link, reason_text=reason_text,
        has_comments="objectives.comment_add" in current_app.view_functions), status


def link_item_form(kr):
    form = forms.LinkItemForm()
    form.item_id.choices = [("", "—")] + [
        (str(i.id), f"{i.scorecard.person.name} · {i.scorecard.cycle.name} · {i.name}")
        for i in services.linkable_items(kr, current_user)]
    return form


@bp.route("/key-results/<int:kr_id>")
@allow(STAFF)
def key_result_show(kr_id):
    return kr_page(key_result_or_404(kr_id))


@bp.route("/key-results/<int:kr_id>/check-ins", methods=["POST"])
@allow(STAFF)
def key_result_check_in(kr_id):
    kr = key_result_or_404(kr_id)
    form = forms.CheckInForm()
    if not form.validate():
        flash(str(FORM_INVALID), "error")
        return kr_page(kr, check_in_form=form, status=422)
    values = {**form.data, "value": presentation.from_entry(form.value.data, kr.unit)}
    if run(lambda: services.check_in(kr, values, current_user), form) is None:
        return kr_page(db.session.get(KeyResult, kr_id), check_in_form=form, status=422)
    flash(_("Check-in saved."), "success")
    return redirect(url_for("objectives.key_result_show", kr_id=kr.id))


@bp.route("/milestones/<int:milestone_id>", methods=["POST"])
@allow(STAFF)
def milestone_toggle(milestone_id):
    milestone = db.session.get(Milestone, milestone_id)
    authorize("objective.view", milestone.key_result.objective if milestone else None)
    done = request.form.get("done") == "1"
    run(lambda: services.set_milestone(milestone, done, current_user))
    return redirect(url_for("objectives.key_result_show", kr_id=milestone.key_result_id))


@bp.route("/key-results/<int:kr_id>/items", methods=["POST"])
@allow(STAFF)
def key_result_link(kr_id):
    kr = key_result_or_404(kr_id)
    form = link_item_form(kr)
    if not form.validate():
        flash(str(FORM_INVALID), "error")
        return kr_page(kr, link_form=form, status=422)
    item = db.session.get(ScorecardItem, int(form.item_id.data))
    authorize("scorecard.view", item.scorecard if item else None)
    if run(lambda: services.link_item(item, kr, current_user), form):
        flash(_("KPI item aligned."), "success")
    return redirect(url_for("objectives.key_result_show", kr_id=kr.id))


@bp.route("/key-results/<int:kr_id>/items/<int:item_id>/unlink", methods=["POST"])
@allow(STAFF)
def key_result_unlink(kr_id, item_id):
    kr = key_result_or_404(kr_id)
    item = db.session.get(ScorecardItem, item_id)
    if item is None or item.key_result_id != kr.id:
        abort(404)
    authorize("scorecard.view", item.scorecard)
    if run(lambda: services.link_item(item, None, current_user)):
        flash(_("KPI item no longer aligned."), "success")
    return redirect(url_for("objectives.key_result_show", kr_id=kr.id))


# ---- decomposition ------------------------------------------------------------------------------------

def typed_children(candidates):
    """The rows ticked on the decomposition form, as the service takes them."""
    picked = set(request.form.getlist("child"))
    return [{"owner_id": p.id, "share": request.form.get(f"share_{p.id}", "").strip(),
             "amount": request.form.get(f"amount_{p.id}", "").strip()}
            for p, _share in candidates if str(p.id) in picked]


def decompose_rows(candidates):
    """What each row shows: ticked, share and amount (typed on a POST, defaults on a GET)."""
    if request.method != "POST":
        return {p.id: {"child": share is not None, "share": "" if share is None else f"{share.normalize():f}",
                       "amount": ""} for p, share in candidates}
    picked = set(request.form.getlist("child"))
    return {p.id: {"child": str(p.id) in picked, "share": request.form.get(f"share_{p.id}", ""),
                   "amount": request.form.get(f"amount_{p.id}", "")} for p, _s in candidates}


def preview(kr, method, children):
    try:
        return services.split_target(Decimal(kr.target), method, children)
    except ObjectiveError as error:
        flash(error_text(error), "error")
        return None


@bp.route("/key-results/<int:kr_id>/decompose", methods=["GET", "POST"])
@allow(STAFF)
def key_result_decompose(kr_id):
    kr = key_result_or_404(kr_id)
    if not can(current_user, "objective.manage", kr.objective) or kr.kind == KrKind.milestone:
        abort(403)
    form, candidates = forms.DecomposeForm(), services.decompose_candidates(kr, current_user)
    split = None
    if form.validate_on_submit():
        children = typed_children(candidates)
        if "save" not in request.form:
            split = preview(kr, form.method.data, children) if children else None
        elif run(lambda: services.decompose(kr, form.method.data, children, current_user), form):
            flash(_("Target split into %(n)d key results.", n=len(children)), "success")
            return redirect(url_for("objectives.key_result_show", kr_id=kr.id))
    return render_page_or_fragment(
        "objectives/decompose.html", "objectives/_decompose_form.html", kr=kr, form=form,
        candidates=candidates, rows=decompose_rows(candidates), split=split,
        picked=[p for p, _s in candidates if decompose_rows(candidates)[p.id]["child"]])
