"""Every request and response: the request context, the security headers."""
import secrets

from flask import current_app, g, request
from flask_login import current_user

from kpiapp.audit import actor_for


def set_request_context():
    g.csp_nonce = secrets.token_urlsafe(16)
    g.audit_actor = actor_for(current_user)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Strict-Transport-Security",
                       f"max-age={current_app.config['HSTS_SECONDS']}; includeSubDomains")
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    return response
