"""The dashboard pages (docs/dashboards.md): one module per dashboard, all on one blueprint."""
from flask import Blueprint, render_template
from flask_babel import gettext as _

from kpiapp.dashboards.filters import LABELS
from kpiapp.navigation import nav_groups
from kpiapp.policy import STAFF, allow

bp = Blueprint("dashboards", __name__)


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
    # each dashboard's module adds its views to `bp`: import them here, before registering
    from kpiapp.dashboards.routes import stores  # noqa: F401
    app.register_blueprint(bp, url_prefix="/dashboards")
    app.jinja_env.globals["filter_names"] = filter_names
