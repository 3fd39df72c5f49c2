"""The person dashboard (docs/pace.md): mine at /dashboards/person, a report's (manager up the
line, HR, admin: policy "dashboard.person") at /dashboards/person/<id>."""
from flask_login import current_user

from kpiapp.dashboards import person as person_dashboard
from kpiapp.dashboards.routes import common
from kpiapp.dashboards.routes.common import bp
from kpiapp.extensions import db
from kpiapp.models import User
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.tracking.services import utc_today
from kpiapp.web.pages import ui_lang


@bp.route("/person")
@allow(STAFF)
def person_me():
    return show(current_user)


@bp.route("/person/<int:person_id>")
@allow(STAFF)
def person(person_id):
    return show(authorize("dashboard.person", db.session.get(User, person_id)))


def show(who):
    filters, offered, cycle = common.read_filters()
    view = person_dashboard.person_dashboard(who, cycle, utc_today(), ui_lang())
    return common.render_dashboard("person", view.panels, filters, offered=offered, cycle=cycle,
                                   months=common.months_of(cycle), person=who, view=view)
