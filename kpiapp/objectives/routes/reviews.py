"""The weekly review pages (周会复盘, docs/objectives.md "Weekly review"): pick a team and a week,
the review with each person's numbers, notes and decisions, close (freeze) and export.

Who: the team's manager, their managers up the line, HR (policy "review.run"); anyone else
gets a 404 for the team. Pages work without JavaScript; with HTMX the notes and decision
forms swap their own part of the page.
"""
from datetime import timedelta
from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kpiapp import charts, presentation
from kpiapp.extensions import db
from kpiapp.models import ReviewDecision, User
from kpiapp.objectives import reviews
from kpiapp.objectives.reviews import ReviewError
from kpiapp.objectives.routes.common import bp
from kpiapp.objectives.task_flow import TaskStatus
from kpiapp.pdf.render import font_family, render_pdf
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.reports.pdf_text import css_string
from kpiapp.tabular import write_xlsx
from kpiapp.tracking.services import utc_today
from kpiapp.web.pages import attachment, render_page_or_fragment, ui_lang
from kpiapp.web.refusals import audit_refusal

TEXT_MAX = 2000
# a refusal's code -> what the page says (the service's English words go to the log)
ERRORS = {
    "forbidden": _l("You may not run this team's review."),
    "closed": _l("This review is closed; its numbers and decisions no longer change."),
    "text_required": _l("Write the decision."),
    "bad_owner": _l("Choose someone in this team."),
    "owner_required": _l("Give the decision an owner first."),
    "form_invalid": _l("See the marked fields."),
    "assignee_not_allowed": _l("You may give tasks to yourself and the people below you."),
    "due_invalid": _l("Give the due date as YYYY-MM-DD."),
}


class NotesForm(FlaskForm):
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])


class DecisionForm(FlaskForm):
    text = TextAreaField(_l("What was decided"), validators=[DataRequired(), Length(max=TEXT_MAX)])
    owner_id = SelectField(_l("Owner"), choices=[], validate_choice=False, validators=[Optional()])
    due = DateField(_l("Due"), validators=[Optional()])
    task = BooleanField(_l("Make it a task for the owner now"), default=True)


class TaskForm(FlaskForm):
    due = DateField(_l("Due"), validators=[Optional()])


def error_text(error):
    current_app.logger.info("review refused %s: %s", error.code, error.message)
    return str(ERRORS.get(error.code, _l("This could not be done.")))


# ---- loading -------------------------------------------------------------------------------

def load_team(manager_id):
    """The manager whose team this is, or 404 (also for a team the user may not review)."""
    return authorize("review.run", db.session.get(User, manager_id))


def week_of(text):
    week = reviews.parse_week(text)
    if week is None:
        abort(404)
    return week


def review_url(manager_id, week, **extra):
    return url_for("objectives.review", manager_id=manager_id, week=week.isoformat(), **extra)


# ---- pages ----------------------------------------------------------------------------------

@bp.route("/reviews/")
@allow(STAFF)
def reviews_index():
    """The teams this user may review, each to this week's review; a week picker."""
    teams = reviews.teams_for(current_user)
    week = reviews.parse_week(request.args.get("week", "")) or reviews.monday(utc_today())
    manager_id = request.args.get("manager", type=int)
    if manager_id and any(m.id == manager_id for m in teams):
        return redirect(review_url(manager_id, week))
    return render_template("reviews/index.html", teams=teams, week=week)


@bp.route("/reviews/<int:manager_id>")
@allow(STAFF)
def review(manager_id):
    """`?week=` any day of the week (default: this week); the address names its Monday."""
    manager, week = load_team(manager_id), request.args.get("week")
    monday = week_of(week) if week else reviews.monday(utc_today())
    if week and monday.isoformat() != week:  # another day of the week: the address names its Monday
        return redirect(review_url(manager_id, monday))
    return page(manager, monday)


def page(manager, week, status=200, error=None, notes_form=None, decision_form=None):
    found = reviews.find_review(manager.id, week)
    numbers = reviews.review_numbers(manager, week, found, utc_today())
    team = reviews.team_of(manager)
    decision_form = decision_form or DecisionForm(formdata=None)
    decision_form.owner_id.choices = owner_choices(manager, team)
    notes_form = notes_form or NotesForm(formdata=None, notes=found.notes if found else "")
    context = dict(manager=manager, week=week, review=found, numbers=numbers, view=view_model(numbers),
                   notes_form=notes_form, decision_form=decision_form, task_form=TaskForm(formdata=None),
                   error=error, error_text=error_text, task_status_label=task_status_label, previous_week=week - timedelta(days=7),
                   next_week=week + timedelta(days=7))
    return render_page_or_fragment("reviews/review.html", "reviews/_review.html", status=status, **context)


def task_status_label(value):
    return presentation.label(TaskStatus(value), ui_lang()) if value else "—"


def owner_choices(manager, team):
    return [("", "—")] + [(str(p.id), p.name) for p in [*team, manager]]


def view_model(numbers, lang=None):
    """The snapshot's values as people read them, with a sparkline spec per row."""
    lang = lang or ui_lang()
    currency = current_app.config["BASE_CURRENCY"]
    units = numbers.get("units", {})
    frame = sparkline_frame(numbers["days"])
    people = []
    for person in numbers["people"]:
        rows = [shown_row(r, units.get(r["metric_key"]), lang, currency, frame) for r in person["items"]]
        krs = [shown_row(r, units.get(r.get("metric_key")) or r.get("unit"), lang, currency, frame)
               for r in person["key_results"]]
        people.append({**person, "rows": rows, "kr_rows": krs})
    return people


def shown_row(row, unit, lang, currency, frame):
    def fmt(key):
        return presentation.in_unit(dec(row.get(key)), unit, lang, currency)

    return {**row, "then_text": fmt("then"), "now_text": fmt("now"), "target_text": fmt("target"),
            "change_text": presentation.change(dec(row.get("change")), unit, lang, currency),
            "series_text": [presentation.in_unit(dec(v), unit, lang, currency) for v in row["series"]],
            "spark": sparkline(frame, row["series"], unit)}


def dec(value):
    return None if value is None else Decimal(value)


def sparkline_frame(days):
    """One small weekly-line spec for the page (charts.trend_lines), its data swapped per row."""
    labels = {"actual": _("Value"), "target": _("Target"), "week": _("Week")}
    spec = charts.trend_lines([(day[5:], None, None) for day in days], labels)
    for layer in spec["layer"]:  # a sparkline: the line alone, the numbers are in the row
        for channel in ("x", "y"):
            layer["encoding"][channel]["axis"] = None
    return {**spec, "width": 120, "height": 32}


def sparkline(frame, series, unit):
    scale = Decimal(100) if unit in ("fraction", "percent_fraction") else Decimal(1)
    values = [{"week": day, "actual": None if v is None else float(Decimal(v) * scale), "target": None}
              for day, v in zip(frame_weeks(frame), series)]
    return {**frame, "data": {"values": values}}


def frame_weeks(frame):
    return [v["week"] for v in frame["data"]["values"]]


# ---- writes ---------------------------------------------------------------------------------

def refused(manager, week, error, **forms):
    review_row = reviews.find_review(manager.id, week)
    audit_refusal(error, "weekly_review", review_row.id if review_row else None)
    return page(manager, week, error.status, error, **forms)


@bp.route("/reviews/<int:manager_id>/<week>/notes", methods=["POST"])
@allow(STAFF)
def review_notes(manager_id, week):
    manager, monday = load_team(manager_id), week_of(week)
    form = NotesForm()
    try:
        if not form.validate():
            raise ReviewError("form_invalid", "See the marked fields.")
        reviews.save_notes(reviews.open_review(manager, monday, current_user), form.notes.data, current_user)
        db.session.commit()
    except ReviewError as error:
        return refused(manager, monday, error, notes_form=form)
    flash(_("Notes saved."), "success")
    return redirect(review_url(manager_id, monday) + "#notes")


@bp.route("/reviews/<int:manager_id>/<week>/decisions", methods=["POST"])
@allow(STAFF)
def review_decide(manager_id, week):
    manager, monday = load_team(manager_id), week_of(week)
    form = DecisionForm()
    form.owner_id.choices = owner_choices(manager, reviews.team_of(manager))
    try:
        if not form.validate():
            raise ReviewError("form_invalid", "See the marked fields.")
        found = reviews.open_review(manager, monday, current_user)
        reviews.add_decision(found, {"text": form.text.data, "owner_id": form.owner_id.data,
                                     "due": form.due.data, "task": form.task.data}, current_user)
        db.session.commit()
    except ReviewError as error:
        mark(form, error)
        return refused(manager, monday, error, decision_form=form)
    flash(_("Decision recorded."), "success")
    return redirect(review_url(manager_id, monday) + "#decisions")


def mark(form, error):
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error_text(error)]


@bp.route("/reviews/<int:manager_id>/<week>/decisions/<int:decision_id>/task", methods=["POST"])
@allow(STAFF)
def review_decision_task(manager_id, week, decision_id):
    """One click: the decision becomes its owner's task."""
    manager, monday = load_team(manager_id), week_of(week)
    decision = db.session.get(ReviewDecision, decision_id)
    if decision is None or decision.review.manager_id != manager.id or decision.review.week != monday:
        abort(404)
    form = TaskForm()
    try:
        if not form.validate():
            raise ReviewError("form_invalid", "See the marked fields.")
        reviews.make_task(decision, current_user, form.due.data)
        db.session.commit()
    except ReviewError as error:
        return refused(manager, monday, error)
    flash(_("The decision is now a task for %(name)s.", name=decision.owner.name), "success")
    return redirect(review_url(manager_id, monday) + "#decisions")


@bp.route("/reviews/<int:manager_id>/<week>/close", methods=["POST"])
@allow(STAFF)
def review_close(manager_id, week):
    manager, monday = load_team(manager_id), week_of(week)
    try:
        reviews.close_review(reviews.open_review(manager, monday, current_user), current_user, utc_today())
        db.session.commit()
    except ReviewError as error:
        return refused(manager, monday, error)
    flash(_("The review is closed: its numbers are kept as they are now."), "success")
    return redirect(review_url(manager_id, monday))


# ---- exports --------------------------------------------------------------------------------

@bp.route("/reviews/<int:manager_id>/<week>/export.<fmt>")
@allow(STAFF)
def review_export(manager_id, week, fmt):
    manager, monday = load_team(manager_id), week_of(week)
    if fmt not in ("pdf", "xlsx"):
        abort(404)
    found = reviews.find_review(manager.id, monday)
    numbers = reviews.review_numbers(manager, monday, found, utc_today())
    name = f"review-{manager.id}-{monday.isoformat()}"
    if fmt == "xlsx":
        header, rows = table_rows(numbers, ui_lang())
        return attachment(write_xlsx(header, rows), f"{name}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return attachment(pdf_bytes(manager, monday, found, numbers, ui_lang()), f"{name}.pdf", "application/pdf")


def table_rows(numbers, lang):
    """One row per person and number: person, kind, name, a week ago, now, change, target, at risk."""
    header = [_("Person"), _("Kind"), _("Name"), _("A week ago"), _("Now"), _("Change"), _("Target"),
              _("At risk")]
    rows = []
    for person in numbers["people"]:
        for row in person["items"]:
            rows.append(number_row(person["name"], _("KPI item"), row["name"], row))
        for row in person["key_results"]:
            rows.append(number_row(person["name"], _("Key result"), row["title"], row))
        for key, label in task_groups():
            rows.extend([person["name"], str(label), task["title"], "", task["status"], "", task["due"] or "", ""]
                        for task in person["tasks"][key])
        rows.extend([person["name"], _("Open dispute"), d["item"], "", d["status"], "", "", ""]
                    for d in person["disputes"])
    return header, rows


def number_row(person, kind, name, row):
    """The snapshot keeps numbers as exact decimal text; the sheet gets them back as numbers."""
    numbers = [Decimal(row[key]) if row[key] is not None else "" for key in ("then", "now", "change", "target")]
    return [person, kind, name, *numbers, _("At risk") if row["at_risk"] else ""]


def task_groups():
    return [("done", _l("Done this week")), ("overdue", _l("Overdue")), ("due_next", _l("Due next week"))]


def with_sparklines(people, lang):
    """Each row's sparkline spec (the page's, charts.trend_lines) as static SVG for the PDF."""
    font = font_family(lang)
    for person in people:
        for row in person["rows"] + person["kr_rows"]:
            row["spark_svg"] = charts.svg(row["spark"], font) if any(v is not None for v in row["series"]) else None
    return people


def pdf_bytes(manager, week, found, numbers, lang):
    with force_locale(lang):
        html = render_template("pdf/weekly_review.html", lang=lang, manager=manager, week=week, review=found,
                               numbers=numbers, people=with_sparklines(view_model(numbers, lang), lang),
                               task_groups=task_groups(),
                               task_status_label=task_status_label,
                               document_id=f"review-{manager.id}-{week.isoformat()}",
                               org_name=current_app.config.get("ORG_NAME") or "kpiapp", css_string=css_string)
    return render_pdf(html)
