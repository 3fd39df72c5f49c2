"""Cycles (HR): list, create and edit, start with progress, board, health, calibration."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from kpiapp import jobs
from kpiapp.appraisal import notifications, services
from kpiapp.appraisal_web import cycle_helpers, queries
from kpiapp.appraisal_web.common import audit_refusal, back_or_fragment
from kpiapp.auth.session import safe_next
from kpiapp.extensions import db
from kpiapp.models import Cycle, Department, Position, Scorecard, User
from kpiapp.models.appraisal import CycleStatus
from kpiapp.policy import allow, authorize
from kpiapp.web import render_page_or_fragment

bp = Blueprint("cycles", __name__)
GRADE_ROWS = 6


def load(cycle_id):
    return authorize("cycle.manage", db.session.get(Cycle, cycle_id))


def parse_date(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise services.ValidationError("invalid_value", f"Not a date: {value!r}.") from None


def grade_table_from(form):
    rows = []
    for n in range(1, GRADE_ROWS + 1):
        grade = form.get(f"grade-{n}-grade", "").strip()
        if grade:
            share = form.get(f"grade-{n}-max_share", "").strip()
            rows.append(
                {
                    "grade": grade,
                    "min_score": form.get(f"grade-{n}-min_score", "").strip(),
                    "max_share": str(services.to_decimal(share, "max_share") / 100) if share else None,
                    "coefficient": form.get(f"grade-{n}-coefficient", "").strip() or "1",
                }
            )
    return rows


def participants_from(form):
    return (
        [{"department_id": i} for i in form.getlist("department_id", type=int)]
        + [{"position_id": i} for i in form.getlist("position_id", type=int)]
        + [{"person_id": i} for i in form.getlist("person_id", type=int)]
    )


def choices():
    def all_of(model, order):
        return db.session.execute(select(model).order_by(order)).scalars().all()

    return {
        "departments": all_of(Department, Department.name),
        "positions": all_of(Position, Position.title),
        "people": [u for u in all_of(User, User.name) if u.role != "client" and u.active],
    }


def form_page(cycle, error=None, status=200):
    table = cycle.grade_table if cycle else services.DEFAULT_GRADE_TABLE
    return render_template(
        "cycles/form.html",
        cycle=cycle,
        error=error,
        values=request.form,
        grade_rows=table + [{}] * (GRADE_ROWS - len(table)),
        **choices(),
    ), status


@bp.route("/")
@allow("appraisal.manage")
def index():
    counts = dict(
        db.session.execute(
            select(Scorecard.cycle_id, func.count(func.distinct(Scorecard.person_id))).group_by(
                Scorecard.cycle_id
            )
        ).all()
    )
    cycles = (
        db.session.execute(select(Cycle).order_by(Cycle.period_start.desc(), Cycle.id.desc())).scalars().all()
    )
    return render_template("cycles/index.html", cycles=cycles, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
@allow("appraisal.manage")
def new():
    if request.method == "GET":
        return form_page(None)
    form = request.form
    try:
        start, end = parse_date(form.get("period_start")), parse_date(form.get("period_end"))
        if start is None or end is None or not form.get("name", "").strip():
            raise services.ValidationError("invalid_value", "A cycle needs a name, a start and an end date.")
        cycle = services.create_cycle(
            current_user,
            name=form.get("name", "").strip(),
            kind=form.get("kind", "monthly"),
            period_start=start,
            period_end=end,
            grade_table=grade_table_from(form),
            hr_approval_required=form.get("hr_approval_required") == "y",
            deadlines={k: parse_date(form.get(k)) for k in services.DEADLINES},
            participants=participants_from(form),
        )
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "cycle")
        return form_page(None, error, 422)
    flash(_("Cycle created. Check the participants, then start it."), "success")
    return redirect(url_for(".detail", cycle_id=cycle.id))


@bp.route("/<int:cycle_id>/edit", methods=["GET", "POST"])
@allow("appraisal.manage")
def edit(cycle_id):
    cycle = load(cycle_id)
    if request.method == "GET":
        return form_page(cycle)
    form = request.form
    try:
        cycle_helpers.edit_cycle(
            cycle,
            current_user,
            name=form.get("name", "").strip(),
            deadlines={k: parse_date(form.get(k)) for k in services.DEADLINES},
            grade_table=grade_table_from(form),
            hr_approval_required=form.get("hr_approval_required") == "y",
        )
        services.add_participants(cycle, current_user, participants_from(form))
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "cycle", cycle_id)
        return form_page(load(cycle_id), error, 422)
    flash(_("Saved."), "success")
    return redirect(url_for(".detail", cycle_id=cycle.id))


@bp.route("/<int:cycle_id>")
@allow("appraisal.manage")
def detail(cycle_id):
    cycle = load(cycle_id)
    cards, table, states = cycle_helpers.board(cycle.id)
    return render_template(
        "cycles/board.html",
        cycle=cycle,
        cards=cards,
        table=table,
        states=states,
        participants=services.resolve_participants(cycle),
    )


@bp.route("/<int:cycle_id>/start", methods=["POST"])
@allow("appraisal.manage")
def start(cycle_id):
    cycle = load(cycle_id)
    job_id = jobs.enqueue(services.start_cycle_job, cycle.id, current_user.id, timeout=1800)
    flash(_("Starting the cycle: scorecards are being created."), "info")
    return redirect(url_for(".progress", cycle_id=cycle.id, job=job_id))


@bp.route("/<int:cycle_id>/progress")
@allow("appraisal.manage")
def progress(cycle_id):
    cycle = load(cycle_id)
    expected = len(services.resolve_participants(cycle))
    created = db.session.scalar(
        select(func.count(func.distinct(Scorecard.person_id))).where(Scorecard.cycle_id == cycle.id)
    )
    return render_page_or_fragment(
        "cycles/progress.html",
        "cycles/_progress.html",
        cycle=cycle,
        created=created,
        expected=expected,
        job=request.args.get("job", ""),
        finished=cycle.status != CycleStatus.draft,
    )


@bp.route("/<int:cycle_id>/health")
@allow("appraisal.manage")
def health(cycle_id):
    cycle = load(cycle_id)
    return render_template(
        "cycles/health.html", cycle=cycle, stages=cycle_helpers.health(cycle), today=date.today()
    )


@bp.route("/<int:cycle_id>/remind", methods=["POST"])
@allow("appraisal.manage")
def remind(cycle_id):
    """Notify whoever must act next on the chosen scorecards (one-click or bulk)."""
    cycle = load(cycle_id)
    ids = set(request.form.getlist("scorecard_id", type=int))
    cards = [c for c in queries.cycle_scorecards(cycle.id) if c.id in ids and not c.is_locked]
    for card in cards:
        notifications.notify_next(card, kind="reminder")
    db.session.commit()
    return back_or_fragment(
        "cycles/_reminded.html",
        safe_next(request.form.get("back")) or url_for(".detail", cycle_id=cycle.id),
        message=_("%(n)s reminders sent.", n=len(cards)),
        count=len(cards),
    )


@bp.route("/<int:cycle_id>/calibration")
@allow("appraisal.manage")
def calibration(cycle_id):
    cycle = load(cycle_id)
    bands, rows, open_cards, overall = cycle_helpers.calibration(cycle)
    return render_template(
        "cycles/calibration.html",
        cycle=cycle,
        bands=bands,
        rows=rows,
        open_cards=open_cards,
        overall=overall,
        grade_now=cycle_helpers.grade_now,
    )
