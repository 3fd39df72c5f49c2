"""Mandatory two-factor enrolment for admin, HR and client accounts (when configured)."""
from flask import redirect, request, url_for
from flask_login import current_user

from kpiapp.auth.services import mfa_required

ALLOWED_WHILE_ENROLLING = {"auth.two_factor", "auth.logout", "auth.set_language", "static", "main.healthz"}


def require_enrolment():
    """before_request: until enrolled, a user who must use 2FA can only enrol or leave."""
    if not current_user.is_authenticated or current_user.totp_enabled:
        return None
    if mfa_required(current_user) and request.endpoint not in ALLOWED_WHILE_ENROLLING:
        return redirect(url_for("auth.two_factor"))
    return None
