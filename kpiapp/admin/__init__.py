from flask import Blueprint

bp = Blueprint("admin", __name__)

from kpiapp.admin import routes  # noqa: E402,F401
