import io
from datetime import datetime, timezone

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from kpiapp.audit import record
from kpiapp.auth import services
from kpiapp.auth.forms import (CodeForm, DisableTwoFactorForm, EnableTwoFactorForm, LanguageForm,
                               LoginForm, PasswordChangeForm)
from kpiapp.auth.passwords import password_problems, verify_password
from kpiapp.auth.session import end_session, safe_next, start_session
from kpiapp.extensions import db
from kpiapp.models import User
from kpiapp.models.base import utcnow
from kpiapp.policy import PUBLIC, SIGNED_IN, allow

bp = Blueprint("auth", __name__)

LOGIN_ERRORS = {
    "bad_credentials": lambda: _("E-mail or password is wrong."),
    "throttled": lambda: _("Too many failed attempts from your network. Try again later."),
}
PENDING_KEYS = ("pending_token", "pending_at", "pending_mark", "pending_remember", "pending_next")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    try:
        user = services.authenticate(form.email.data, form.password.data, request.remote_addr)
    except services.AuthError as error:
        flash(LOGIN_ERRORS[error.code](), "error")
        return render_template("auth/login.html", form=form), 200
    if user.totp_enabled:
        session.clear()
        session["pending_token"] = user.session_token
        session["pending_at"] = utcnow().timestamp()
        session["pending_mark"] = services.audit_mark()
        session["pending_remember"] = bool(form.remember.data)
        session["pending_next"] = safe_next(form.next.data)
        db.session.commit()
        return redirect(url_for("auth.verify"))
    return finish_login(user, bool(form.remember.data), safe_next(form.next.data), "password")


def finish_login(user, remember, target, method):
    services.record_login(user, request.remote_addr, method)
    db.session.commit()
    start_session(user, remember=remember)
    if services.mfa_required(user) and not user.totp_enabled:
        flash(_("Your role requires two-factor sign-in. Please set it up now."), "info")
        return redirect(url_for("auth.two_factor"))
    return redirect(target or url_for("main.index"))


@bp.route("/login/verify", methods=["GET", "POST"])
@allow(PUBLIC)
def verify():
    token = session.get("pending_token")
    user = db.session.query(User).filter_by(session_token=token).one_or_none() if token else None
    if user is None or not user.active:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/verify.html", form=form)
    pending = services.Pending(datetime.fromtimestamp(session.get("pending_at", 0), timezone.utc),
                               session.get("pending_mark", 0))
    try:
        method = services.check_pending_code(user, form.code.data, request.remote_addr, pending)
    except services.AuthError as error:
        return refuse_code(user, form, error, pending)
    return finish_login(user, session.get("pending_remember", False),
                        session.get("pending_next"), f"password+{method}")


def refuse_code(user, form, error, pending):
    """A wrong code may be retried; a spent, expired, locked or throttled sign-in starts over."""
    if error.code == "bad_code" and services.pending_problem(user, request.remote_addr, pending) is None:
        flash(_("That code is not valid."), "error")
        return render_template("auth/verify.html", form=form)
    for key in PENDING_KEYS:
        session.pop(key, None)
    if error.code == "throttled":
        flash(LOGIN_ERRORS["throttled"](), "error")
    else:
        flash(_("Too many wrong codes, or the sign-in took too long. Please sign in again."), "error")
    return redirect(url_for("auth.login"))


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout():
    current_user.rotate_session_token()  # every copy of the cookie dies with this one
    record(db.session, "auth.logout", "user", current_user.id)
    db.session.commit()
    end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        problems = password_problems(form.new.data, email=current_user.email, name=current_user.name)
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        elif problems:
            form.new.errors.extend(str(p) for p in problems)
        else:
            services.change_password(current_user, form.new.data)
            db.session.commit()
            start_session(current_user)
            flash(_("Password changed. Other devices have been signed out."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


def qr_svg(uri):
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return Markup(buffer.getvalue().decode("utf-8"))  # generated by us, no user text inside


@bp.route("/account/two-factor", methods=["GET", "POST"])
@allow(SIGNED_IN)
def two_factor():
    if current_user.totp_enabled:
        return render_template("auth/two_factor.html", disable_form=DisableTwoFactorForm())
    secret = session.get("enrol_secret") or services.new_totp_secret()
    session["enrol_secret"] = secret
    form = EnableTwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = services.enable_two_factor(current_user, secret, form.code.data)
        except services.AuthError:
            form.code.errors.append(_("That code is not valid. Check the time on your phone."))
        else:
            db.session.commit()
            session.pop("enrol_secret", None)
            start_session(current_user)
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = services.provisioning_uri(current_user, secret)
    return render_template("auth/two_factor.html", form=form, secret=secret, qr=qr_svg(uri))


@bp.route("/account/two-factor/disable", methods=["POST"])
@allow(SIGNED_IN)
def disable_two_factor():
    form = DisableTwoFactorForm()
    if services.mfa_required(current_user):
        abort(403)
    user = current_user._get_current_object()
    try:  # CSRFProtect has checked the token; an empty or overlong code is just a wrong one
        services.disable_with_code(user, (form.code.data or "")[:32], request.remote_addr)
    except services.AuthError as error:
        flash(_("That code is not valid.") if error.code == "bad_code"
              else _("Too many wrong codes. Try again later."), "error")
        return redirect(url_for("auth.two_factor"))
    db.session.commit()
    start_session(user)
    flash(_("Two-factor sign-in is off."), "success")
    return redirect(url_for("auth.two_factor"))


@bp.route("/language", methods=["POST"])
@allow(PUBLIC)
def set_language():
    form = LanguageForm()
    if form.validate_on_submit() and form.locale.data in current_app.config["LANGUAGES"]:
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    return redirect(safe_next(form.back.data) or url_for("main.index"))
