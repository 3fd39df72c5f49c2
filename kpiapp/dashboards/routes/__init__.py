"""The dashboard pages (docs/dashboards.md): one module per dashboard, all on one blueprint."""
from flask import render_template
from flask_babel import gettext as _

from kpiapp.dashboards.filters import LABELS
from kpiapp.dashboards.routes.common import bp
from kpiapp.navigation import nav_groups
from kpiapp.policy import STAFF, allow


@bp.route("/")
@allow(STAFF)
def index():
    """The dashboards this user may open (the menu's "Dashboards" section, with descriptions)."""
    group = next((g for g in nav_groups() if g["key"] == "dashboards"), None)
    return render_template("dashboards/index.html", items=group["items"] if group else [])


def filter_names(names):
    """The filters named, translated and joined ("门店、周期")."""
    return _(", ").join(_(LABELS[name]) for name in names)


def register(app):
    # each dashboard's module adds its views to `bp` (imported from routes.common, not from this
    # package, so no import cycle): import them here, before registering
    from kpiapp.dashboards.routes import company, person, stores, team  # noqa: F401
    app.register_blueprint(bp, url_prefix="/dashboards")
    app.jinja_env.globals["filter_names"] = filter_names
