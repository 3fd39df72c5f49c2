"""Signing in and out, session timeouts and the `next=` check (SECURITY.md S1-S3, B5)."""
import unicodedata
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from kpiapp.audit import actor_for

UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}  # control and format characters, line/paragraph separators


def safe_next(target):
    """Only same-site relative paths: '/x?y' yes; '//evil', 'http://..', '\\\\evil', '/x\\r\\n..' no."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(unicodedata.category(char) in UNSAFE_CATEGORIES for char in target):
        return None  # a CR/LF in the Location header is a 500; none of these is ever in our URLs
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def login_redirect():
    target = request.full_path if request.method == "GET" else None
    flash(_("Please sign in to continue."), "info")
    return redirect(url_for("auth.login", next=safe_next(target and target.rstrip("?"))))


def start_session(user, remember=False):
    """A fresh session for a signed-in user: old session contents are dropped."""
    user = getattr(user, "_get_current_object", lambda: user)()  # never store the proxy itself
    locale = session.get("locale")
    session.clear()
    now = datetime.now(timezone.utc).timestamp()
    session["login_at"] = now
    session["seen_at"] = now
    if user.locale or locale:
        session["locale"] = user.locale or locale  # the person's own choice wins
    session.permanent = True
    login_user(user, remember=remember, fresh=True)
    g.audit_actor = actor_for(user)


def end_session():
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def check_timeouts():
    """before_request: enforce idle and absolute session timeouts."""
    if not current_user.is_authenticated:
        return None
    now = datetime.now(timezone.utc).timestamp()
    session.setdefault("login_at", now)  # a session restored from remember-me starts now
    idle = current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["SESSION_ABSOLUTE_TIMEOUT"].total_seconds()
    seen = session.get("seen_at", now)
    if now - seen > idle or now - session["login_at"] > absolute:
        end_session()
        flash(_("Your session has expired. Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    session["seen_at"] = now
    return None
