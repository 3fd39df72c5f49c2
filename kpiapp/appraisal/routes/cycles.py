"""Cycles (HR): list, create and edit, start with progress, board, health, calibration."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from kpiapp import jobs
from kpiapp.appraisal import disputes, notifications, services
from kpiapp.appraisal import queries
from kpiapp.appraisal.routes import cycle_helpers, forms
from kpiapp.appraisal.routes.common import back_or_fragment, form_refusal
from kpiapp.appraisal.routes.scorecards import result_of
from kpiapp.auth.session import safe_next
from kpiapp.extensions import db
from kpiapp.forms import focus_first_error
from kpiapp.job_views import job_state
from kpiapp.models import Cycle, Department, JobRun, Position, Scorecard, User
from kpiapp.models.appraisal import CycleStatus
from kpiapp.policy import allow, authorize, can
from kpiapp.reminders import queries as reminder_queries
from kpiapp.reminders.messages import STAGE_LABELS
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import render_page_or_fragment
from kpiapp.web.refusals import audit_refusal

bp = Blueprint("cycles", __name__)
START_TIMEOUT = 1800  # seconds


def load(cycle_id):
    return authorize("cycle.manage", db.session.get(Cycle, cycle_id))


def choices():
    def all_of(model, order):
        return db.session.execute(select(model).order_by(order)).scalars().all()

    people = [u for u in all_of(User, User.name) if u.role != "client" and u.active]
    return {
        "department_id": [(d.id, d.path()) for d in all_of(Department, Department.name)],
        "position_id": [(p.id, p.title) for p in all_of(Position, Position.title)],
        "person_id": [(p.id, p.name) for p in people],
    }


def cycle_form(cycle, post=False):
    return forms.cycle_form(cycle, choices(), services.DEFAULT_GRADE_TABLE, post=post)


def form_page(cycle, form, error=None, status=200):
    if status >= 400:
        focus_first_error(form)
    return render_template("cycles/form.html", cycle=cycle, form=form, error=error), status


def save_cycle(cycle, form, call):
    """Validate, one service call, commit; a refusal shows the form again as typed."""
    if not form.validate():
        return None, form_page(cycle, form, form_refusal(), 422)
    try:
        saved = call()
        db.session.commit()
    except services.AppraisalError as error:
        audit_refusal(error, "cycle", cycle.id if cycle else None)
        return None, form_page(load(cycle.id) if cycle else None, form, error, 422)
    return saved, None


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
    form = cycle_form(None, post=request.method == "POST")
    if request.method == "GET":
        return form_page(None, form)
    cycle, refused = save_cycle(None, form, lambda: services.create_cycle(
        current_user, name=form.name.data, kind=form.kind.data, period_start=form.period_start.data,
        period_end=form.period_end.data, grade_table=form.grade_table(),
        hr_approval_required=form.hr_approval_required.data, deadlines=form.deadlines(),
        participants=form.participants(), okr_weight=form.okr_weight.data, reminders=form.reminders()))
    if refused:
        return refused
    flash(_("Cycle created. Check the participants, then start it."), "success")
    return redirect(url_for(".detail", cycle_id=cycle.id))


@bp.route("/<int:cycle_id>/edit", methods=["GET", "POST"])
@allow("appraisal.manage")
def edit(cycle_id):
    cycle = load(cycle_id)
    form = cycle_form(cycle, post=request.method == "POST")
    if request.method == "GET":
        return form_page(cycle, form)
    _saved, refused = save_cycle(cycle, form, lambda: services.edit_cycle(
        cycle, current_user, name=form.name.data, deadlines=form.deadlines(), grade_table=form.grade_table(),
        hr_approval_required=form.hr_approval_required.data, participants=form.participants(),
        okr_weight=form.okr_weight.data if cycle.status == CycleStatus.draft else services.KEEP,
        reminders=form.reminders()))
    if refused:
        return refused
    flash(_("Saved."), "success")
    return redirect(url_for(".detail", cycle_id=cycle.id))


@bp.route("/<int:cycle_id>")
@allow("appraisal.manage")
@kept_page()
def detail(cycle_id):
    cycle = load(cycle_id)
    teams_from, cards_after = request.args.get("teams", type=int), request.args.get("after", type=int)
    (cards, next_after), (table, next_teams), states = cycle_helpers.board(cycle.id, cards_after, teams_from)
    return render_template(
        "cycles/board.html",
        cycle=cycle,
        cards=cards,
        next_after=next_after,
        table=table,
        teams_from=teams_from,
        next_teams=next_teams,
        cards_after=cards_after,
        states=states,
        participant_count=services.count_participants(cycle),
    )


@bp.route("/<int:cycle_id>/start", methods=["POST"])
@allow("appraisal.manage")
def start(cycle_id):
    cycle = load(cycle_id)
    run = jobs.create("cycle_start", "cycle", cycle.id, current_user.id)
    jobs.launch(run, timeout=START_TIMEOUT)  # Redis down: QueueUnavailable, answered with the 503 page
    flash(_("Starting the cycle: scorecards are being created."), "info")
    return redirect(url_for(".progress", cycle_id=cycle.id, job=run.id))


@bp.route("/<int:cycle_id>/progress")
@allow("appraisal.manage")
def progress(cycle_id):
    cycle = load(cycle_id)
    run = start_job(cycle, request.args.get("job", type=int))
    expected = services.count_participants(cycle)
    created = db.session.scalar(
        select(func.count(func.distinct(Scorecard.person_id))).where(Scorecard.cycle_id == cycle.id)
    )
    return render_page_or_fragment(
        "cycles/progress.html",
        "cycles/_progress.html",
        cycle=cycle,
        created=created,
        expected=expected,
        run=run,
        live=job_state(run),
        started=cycle.status != CycleStatus.draft,
    )


def start_job(cycle, run_id):
    """The start job named in the URL if it belongs to this cycle, else the cycle's latest one."""
    run = db.session.get(JobRun, run_id) if run_id else None
    if run is not None and run.kind == "cycle_start" and run.subject_id == cycle.id:
        return run
    return jobs.latest("cycle_start", "cycle", cycle.id)


@bp.route("/<int:cycle_id>/health")
@allow("appraisal.manage")
@kept_page("reminder_log")
def health(cycle_id):
    cycle = load(cycle_id)
    sent = (reminder_queries.history(cycle.id, request.args.get("before", type=int))
            if can(current_user, "cycle.reminders", cycle) else None)
    return render_template(
        "cycles/health.html", cycle=cycle, stages=cycle_helpers.health(cycle), today=date.today(), sent=sent,
        stage_names=STAGE_LABELS,
    )


@bp.route("/<int:cycle_id>/remind", methods=["POST"])
@allow("appraisal.manage")
def remind(cycle_id):
    """Notify whoever must act next on the chosen scorecards (one-click or bulk)."""
    cycle = load(cycle_id)
    form = forms.RemindForm()
    valid = form.validate()
    ids = set(form.scorecard_id.data or ()) if valid else set()
    states = dict(cycle_helpers.STAGES).get(form.stage.data, ()) if valid else ()
    cards = [c for c in queries.cycle_scorecards(cycle.id) if (c.id in ids or c.state in states) and not c.is_locked]
    for card in cards:
        notifications.notify_next(card, kind="reminder")
    db.session.commit()
    return back_or_fragment(
        "cycles/_reminded.html",
        safe_next(form.back.data) or url_for(".detail", cycle_id=cycle.id),
        message=_("%(n)s reminders sent.", n=len(cards)),
        count=len(cards),
    )


@bp.route("/<int:cycle_id>/calibration")
@allow("appraisal.manage")
@kept_page()
def calibration(cycle_id):
    cycle = load(cycle_id)
    teams_from, cards_after = request.args.get("teams", type=int), request.args.get("after", type=int)
    bands, (rows, next_teams), (open_cards, next_after), overall = cycle_helpers.calibration(
        cycle, cards_after, teams_from)
    return render_template(
        "cycles/calibration.html",
        cycle=cycle,
        bands=bands,
        rows=rows,
        teams_from=teams_from,
        next_teams=next_teams,
        cards_after=cards_after,
        open_rows=cycle_helpers.calibration_rows(open_cards, current_user),
        next_after=next_after,
        overall=overall,
        shares=cycle_helpers.grade_chart(bands, overall),
    )


def lock_scope():
    """The department or the one scorecard a lock confirmation is about (query or form)."""
    source = request.form if request.method == "POST" else request.args
    return source.get("department_id", type=int), source.get("scorecard_id", type=int)


@bp.route("/<int:cycle_id>/lock")
@allow("appraisal.manage")
def lock_confirm(cycle_id):
    """One confirmation listing who will be locked, with the warnings (works without JS)."""
    cycle = load(cycle_id)
    department_id, scorecard_id = lock_scope()
    ready, not_ready = cycle_helpers.lock_candidates(cycle, current_user, department_id, scorecard_id)
    department = db.session.get(Department, department_id) if department_id else None
    return render_template(
        "cycles/lock_confirm.html", cycle=cycle, ready=ready, not_ready=not_ready, department=department,
        department_id=department_id, scorecard_id=scorecard_id, result_of=result_of,
        warnings=cycle_helpers.lock_warnings(cycle, ready),
        disputed=disputes.blocking([c.id for c in not_ready]),
    )


def confirmed(form):
    """{scorecard id: version seen} from the confirmation's "<id>:<version>" entries."""
    pairs = (entry.split(":", 1) for entry in form.card.data or [] if ":" in entry)
    return {int(card): int(version) for card, version in pairs if card.isdigit() and version.isdigit()}


@bp.route("/<int:cycle_id>/lock", methods=["POST"])
@allow("appraisal.manage")
def lock(cycle_id):
    """Lock the confirmed scorecards one by one (each commits: one refusal keeps the others)."""
    cycle = load(cycle_id)
    form = forms.LockForm()
    department_id, scorecard_id = lock_scope()
    ready, _not_ready = cycle_helpers.lock_candidates(cycle, current_user, department_id, scorecard_id)
    seen = confirmed(form) if form.validate() else {}
    locked, refused = 0, []
    for card_id, card_version in [(c.id, seen[c.id]) for c in ready if c.id in seen]:
        try:
            services.lock(services.get_scorecard(card_id), current_user, expected_version=card_version)
            db.session.commit()
            locked += 1
        except services.AppraisalError as error:
            audit_refusal(error, "scorecard", card_id)
            refused.append(card_id)
    flash(_("%(n)s scorecards locked.", n=locked), "success")
    if refused:
        flash(_("%(n)s scorecards were not locked: they changed or are not ready; see the list.",
                n=len(refused)), "error")
    return redirect(url_for(".calibration", cycle_id=cycle.id))
