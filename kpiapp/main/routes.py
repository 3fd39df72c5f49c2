from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from kpiapp.appraisal import home
from kpiapp import policy
from kpiapp.extensions import db
from kpiapp.jobs import redis_ping
from kpiapp.policy import PUBLIC, SIGNED_IN, allow
from kpiapp.reports.services import signing_health

bp = Blueprint("main", __name__)


@bp.route("/")
@allow(SIGNED_IN)
def index():
    if policy.is_portal_user(current_user):
        return redirect(url_for("portal.index"))  # a client's home is the portal
    return render_template("main/index.html", user=current_user, **home.summary(current_user))


@bp.route("/favicon.ico")
@allow(PUBLIC)
def favicon():
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    checks = {"database": database_ok(), "redis": redis_ping(), "signing": signing_health()}
    healthy = (checks["database"] == "ok" and checks["redis"] in ("ok", "not configured")
               and checks["signing"] in ("ok", "demo"))
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503


def database_ok():
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:  # reported, not raised: this is the health probe
        current_app.logger.warning("healthz database: %s", error)
        return "unreachable"
