"""What every objectives page shares: the one blueprint (routes/<name>.py add their views)."""
from flask import Blueprint

bp = Blueprint("objectives", __name__)  # objectives, tasks and reviews: routes set full paths
