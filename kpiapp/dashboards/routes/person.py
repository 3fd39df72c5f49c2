"""The person dashboard (docs/pace.md): mine at /dashboards/person, a report's (manager up the
line, HR, admin: policy "dashboard.person") at /dashboards/person/<id>."""
from flask_login import current_user

from kpiapp.dashboards import person as person_dashboard
from kpiapp.dashboards.memo import data_token, remember
from kpiapp.dashboards.routes import common
from kpiapp.dashboards.routes.common import bp
from kpiapp.extensions import db
from kpiapp.models import User
from kpiapp.policy import STAFF, allow, authorize
from kpiapp.tracking.services import utc_today
from kpiapp.web.kept_pages import kept_page
from kpiapp.web.pages import ui_lang


@bp.route("/person")
@allow(STAFF)
@kept_page()
def person_me():
    return show(data_token(), current_user._get_current_object())


@bp.route("/person/<int:person_id>")
@allow(STAFF)
@kept_page()
def person(person_id):
    token = data_token()  # first (memo.py): before the person and the rights are read
    return show(token, authorize("dashboard.person", db.session.get(User, person_id)))


def show(token, who):
    """The person's dashboard; the memo keeps it per person (what it shows does not depend on who
    reads it, once `authorize` has let them) while the data token is unchanged."""
    filters, offered, cycle = common.read_filters(token)
    today = utc_today()
    inputs = ("person", who.id, *common.memo_inputs(filters, cycle, today))
    view = remember(token, inputs, lambda: person_dashboard.person_dashboard(who, cycle, today, ui_lang()))
    return common.render_dashboard("person", view.panels, filters, token=token, inputs=inputs,
                                   offered=offered, cycle=cycle, months=common.months_of(cycle), person=who,
                                   view=view)
