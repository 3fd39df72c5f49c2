"""The team dashboard (docs/pace.md): every report's projected score, items at risk first,
stage and deadlines; for people with reports, HR and admins (policy "dashboard.team")."""
from flask import abort, request
from flask_login import current_user

from kpiapp.dashboards import team as team_dashboard
from kpiapp.dashboards.routes import common
from kpiapp.dashboards.routes.common import bp
from kpiapp.policy import STAFF, allow, can
from kpiapp.tracking.services import utc_today
from kpiapp.web.pages import ui_lang


@bp.route("/team")
@allow(STAFF)
def team():
    if not can(current_user, "dashboard.team", None):
        abort(404)
    filters, offered, cycle = common.read_filters()
    after = request.args.get("after", type=int)
    view = team_dashboard.team_dashboard(current_user, cycle, filters, after, utc_today(), ui_lang())
    return common.render_dashboard("team", view.panels, filters, offered=offered, cycle=cycle,
                                   months=common.months_of(cycle), view=view, after=after)
