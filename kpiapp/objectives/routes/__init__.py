"""The objectives pages (docs/objectives.md): objectives and key results, tasks, weekly reviews,
one module each, all on one blueprint (routes.common.bp)."""
from kpiapp.objectives.routes.common import bp


def register(app):
    # each module adds its views to `bp` (imported from routes.common, not from this package,
    # so no import cycle): import them here, before registering (one line per module)
    from kpiapp.objectives.routes import objectives  # noqa: F401
    from kpiapp.objectives.routes import tasks  # noqa: F401
    app.register_blueprint(bp)
