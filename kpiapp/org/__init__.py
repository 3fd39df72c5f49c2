from flask import Blueprint

bp = Blueprint("org", __name__)

from kpiapp.org import routes  # noqa: E402,F401
