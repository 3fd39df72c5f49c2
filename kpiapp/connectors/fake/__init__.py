"""The local stand-in for the marketplaces (docs/connectors.md): one small Flask app with a
blueprint per platform whose module exists (fake/amazon.py, shopee.py, tiktok.py, lazada.py,
each exposing `bp`), the shared failure switch and the helpers in fake/common.py.

    flask --app wsgi kpi fake-marketplace --port 5999

Never part of the kpiapp web app; tests and the demo mount it on a requests session
(fake/transport.py) or serve it on a port.
"""
from flask import Flask, jsonify, request

from kpiapp.connectors.fake import common
from kpiapp.connectors.fake.common import platform_modules

__all__ = ["create_app", "platform_modules"]


def create_app(now=None, limit=None):
    """A fresh stand-in (its own tokens, reports and failure switches)."""
    app = Flask(__name__)
    app.extensions["fake_marketplace"] = common.State(now=now or common.clock)
    if limit is not None:
        app.extensions["fake_marketplace"].limit = limit
    app.add_url_rule("/_fake/fail", "fail", set_failure, methods=["POST"])
    app.add_url_rule("/_fake/reset", "reset", reset, methods=["POST"])
    app.add_url_rule("/_fake/health", "health", health)
    for module in platform_modules():
        app.register_blueprint(module.bp)
    return app


def set_failure():
    """POST {"platform": "shopee", "failure": "expired_token|fatal|truncated|throttle"|null}."""
    body = request.get_json(silent=True) or {}
    try:
        common.set_failure(body.get("platform") or "", body.get("failure"))
    except ValueError:
        return jsonify({"error": "unknown failure", "known": list(common.FAILURES)}), 400
    return jsonify({"failures": common.state().failures})


def reset():
    common.state().failures.clear()
    common.state().hits.clear()
    return jsonify({"failures": {}})


def health():
    return jsonify({"platforms": [m.__name__.rsplit(".", 1)[1] for m in platform_modules()]})
