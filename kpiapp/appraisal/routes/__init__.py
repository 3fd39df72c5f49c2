"""The appraisal screens: scorecards, my team, inbox, KPI templates and cycles (HTMX pages)."""

from kpiapp.appraisal import notifications, progress
from kpiapp.appraisal.routes import common
from kpiapp.appraisal.services import APPEAL_REPLY_DAYS


def register(app):
    from kpiapp.appraisal.routes import bonus  # noqa: F401  (its routes join the cycles blueprint)
    from kpiapp.appraisal.routes.cycles import bp as cycles_bp
    from kpiapp.appraisal.routes.disputes import bp as disputes_bp
    from kpiapp.appraisal.routes.inbox import bp as inbox_bp
    from kpiapp.appraisal.routes.kpi_templates import bp as templates_bp
    from kpiapp.appraisal.routes.scorecards import bp as scorecards_bp

    app.register_blueprint(scorecards_bp, url_prefix="/scorecards")
    app.register_blueprint(inbox_bp, url_prefix="/inbox")
    app.register_blueprint(templates_bp, url_prefix="/kpi-templates")
    app.register_blueprint(cycles_bp, url_prefix="/cycles")
    app.register_blueprint(disputes_bp, url_prefix="/disputes")
    app.jinja_env.globals.update(
        error_text=common.error_text,
        explain=common.explain,
        notification_text=notifications.text,
        plain=common.plain,
        shown=common.shown,
        affix=common.affix,
        metric_label=common.metric_label,
        reason_actions=common.REASON_ACTIONS,
        due_date=common.due_date,
        appeal_overdue=common.appeal_overdue,
        appeal_reply_days=APPEAL_REPLY_DAYS,
        standing=progress.standing,
        beside_form=common.beside_form,
        participant_label=common.participant_label,
        stage_label=lambda s: common.STAGE_LABELS.get(s, s),
    )
