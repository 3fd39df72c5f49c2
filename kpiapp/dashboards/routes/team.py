"""The team dashboard (docs/pace.md): every report's projected score, items at risk first,
stage and deadlines; for people with reports, HR and admins (policy "dashboard.team")."""
from flask import abort, request
from flask_login import current_user

from kpiapp.dashboards import team as team_dashboard
from kpiapp.dashboards.memo import data_token, remember
from kpiapp.dashboards.routes import common
from kpiapp.dashboards.routes.common import bp
from kpiapp.policy import STAFF, allow, can
from kpiapp.tracking.services import utc_today
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import ui_lang


@bp.route("/team")
@allow(STAFF)
@kept_page()
def team():
    """The reader's team (the memo keeps it per reader and role while the data token is unchanged)."""
    token = data_token()
    if not can(current_user, "dashboard.team", None):
        abort(404)
    filters, offered, cycle = common.read_filters(token, common.BAR["team"])
    after = request.args.get("after", type=int)
    today, user = utc_today(), current_user._get_current_object()
    inputs = ("team", *common.memo_inputs(filters, cycle, today), after, user.id, user.role)
    view = remember(token, inputs,
                    lambda: team_dashboard.team_dashboard(user, cycle, filters, after, today, ui_lang()))
    return common.render_dashboard("team", view.panels, filters, token=token, inputs=inputs, offered=offered,
                                   cycle=cycle, months=common.months_of(cycle), view=view, after=after)
