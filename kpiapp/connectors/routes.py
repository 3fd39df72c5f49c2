"""The connections page and the connect form (admins only: policy rule "connections.manage").

Credentials are write-only here: the form shows whether each is set, never its value.
The platform authorisation link (where a connector has `authorize_url`) carries a `state`
that is signed, bound to this browser session and usable once."""
import secrets
from itertools import groupby

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kpiapp.connectors import base, services
from kpiapp.connectors.forms import connection_form, credential_fields, setting_fields, submitted
from kpiapp.extensions import db
from kpiapp.models import Store
from kpiapp.models.connectors import ConnectionStatus, PullStatus, StoreConnection
from kpiapp.org.forms import ConfirmForm
from kpiapp.policy import allow
from kpiapp.vault import VaultError
from kpiapp.web.pages import is_fragment_request

bp = Blueprint("connections", __name__)
STATE_MAX_AGE = 900  # seconds an authorisation link stays valid
STATE_SALT = "connector-oauth-state"
SESSION_KEY = "connector_oauth"


def register(app):
    app.register_blueprint(bp)
    app.jinja_env.globals.update(ConnectionStatus=ConnectionStatus, PullStatus=PullStatus,
                                 stale_store_ids=stale_store_ids, failure_words=services.failure_words,
                                 kind_words=services.kind_words, platform_name=services.platform_name)


def stale_store_ids():
    """Stores whose pulled data is older than their freshness limit (asked once per request)."""
    if "stale_store_ids" not in g:
        g.stale_store_ids = services.stale_store_ids()
    return g.stale_store_ids


@bp.route("/connections")
@allow("connections.manage")
def index():
    states = services.kind_states()
    groups = [(store, list(rows)) for store, rows in groupby(states, key=lambda s: s.connection.store)]
    return render_template("connections/index.html", groups=groups)


def platform_or_404(platform):
    try:
        return services.connector_class(platform)
    except services.ConnectError:
        abort(404)


@bp.route("/org/stores/<int:store_id>/connections/<platform>", methods=["GET", "POST"])
@allow("connections.manage")
def edit(store_id, platform):
    store = db.get_or_404(Store, store_id)
    cls = platform_or_404(platform)
    connection = services.find_connection(store.id, platform)
    form = connection_form(cls, connection)
    if form.validate_on_submit():
        settings, credentials = submitted(form, cls)
        services.connect(store, platform, settings, credentials, kinds=form.kinds.data,
                         every_minutes=form.every_minutes.data, freshness_hours=form.freshness_hours.data)
        db.session.commit()
        flash(_("Connection saved."), "success")
        return redirect(url_for("connections.edit", store_id=store.id, platform=platform))
    return render_template("connections/edit.html", store=store, cls=cls, connection=connection, form=form,
                           settings=setting_fields(form, cls), credentials=credential_fields(form, cls),
                           is_set=credentials_set(connection), confirm=ConfirmForm(),
                           can_authorize=hasattr(cls, "authorize_url"))


def credentials_set(connection):
    """{credential name: True} for the stored ones; empty when the vault cannot open them."""
    if connection is None:
        return {}
    try:
        return {name: bool(value) for name, value in connection.credentials.items()}
    except VaultError:
        return {}


@bp.route("/connections/<int:connection_id>/test", methods=["POST"])
@allow("connections.manage")
def test(connection_id):
    connection = db.get_or_404(StoreConnection, connection_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    failure = services.test_connection(connection)
    db.session.commit()
    if is_fragment_request():
        return render_template("connections/_test_result.html", failure=failure)
    flash(services.failure_words(failure) if failure else _("The connection works."),
          "error" if failure else "success")
    return redirect(url_for("connections.edit", store_id=connection.store_id, platform=connection.platform))


@bp.route("/connections/<int:connection_id>/pull", methods=["POST"])
@allow("connections.manage")
def pull_now(connection_id):
    """Queue a pull of each kind now (the schedule's ranges)."""
    connection = db.get_or_404(StoreConnection, connection_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    now = services.utcnow()
    for kind in connection.kinds or []:
        services.queue_pull(connection, kind, *services.default_range(connection, kind, now))
    db.session.commit()
    flash(_("Pulls queued."), "success")
    return redirect(url_for("connections.index"))


# ---- the platform's authorisation page (OAuth-style, with a checked state) --------------------

def serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STATE_SALT)


def redirect_uri():
    return url_for("connections.callback", _external=True)


@bp.route("/connections/<int:connection_id>/authorize")
@allow("connections.manage")
def authorize(connection_id):
    connection = db.get_or_404(StoreConnection, connection_id)
    connector = services.build_connector(connection)
    if not hasattr(connector, "authorize_url"):
        abort(404)
    nonce = secrets.token_urlsafe(16)
    session[SESSION_KEY] = nonce  # bound to this session; a newer link replaces an older one
    state = serializer().dumps({"c": connection.id, "n": nonce})
    connector.context.settings.update(redirect_uri=redirect_uri(), beta=current_app.config["SPAPI_DRAFT_APP"])
    try:
        return redirect(connector.authorize_url(state))
    except base.ConnectorError as error:
        flash(services.failure_words(error.failure), "error")
        return redirect(url_for("connections.edit", store_id=connection.store_id, platform=connection.platform))


@bp.route("/connections/callback")
@allow("connections.manage")
def callback():
    connection = checked_state(request.args.get("state", ""))
    code = request.args.get("code") or request.args.get("spapi_oauth_code")  # SP-API names it its own way
    if connection is None or not code:
        flash(_("The authorisation link was not valid (expired, used, or from another session). Try again."),
              "error")
        return redirect(url_for("connections.index"))
    cls = services.connector_class(connection.platform)
    extras = {k: v for k, v in request.args.items() if k in cls.setting_fields}
    if extras:
        connection.settings = {**(connection.settings or {}), **extras}
        db.session.commit()
    return finish_authorisation(connection, code)


def checked_state(state):
    """The connection the state names, if it is signed, fresh, this session's, and unused."""
    expected = session.pop(SESSION_KEY, None)
    try:
        data = serializer().loads(state, max_age=STATE_MAX_AGE)
    except BadSignature:
        return None
    if not expected or not secrets.compare_digest(str(data.get("n", "")), expected):
        return None
    return db.session.get(StoreConnection, data.get("c"))


def finish_authorisation(connection, code):
    connector = services.build_connector(connection)
    connector.context.settings["redirect_uri"] = redirect_uri()
    try:
        connector.exchange_code(code)
    except base.ConnectorError as error:
        services.note_failure(connection, error.failure)
        db.session.commit()
        flash(services.failure_words(error.failure), "error")
    else:
        connection.status, connection.last_error = ConnectionStatus.connected, None
        db.session.commit()
        flash(_("The store is authorised."), "success")
    return redirect(url_for("connections.edit", store_id=connection.store_id, platform=connection.platform))
