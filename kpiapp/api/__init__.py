"""JSON API at /api/v1: bearer tokens (or the browser session plus CSRF), JSON errors, OpenAPI."""


def register(app):
    from kpiapp.api import auth, objectives, routes, tokens  # noqa: F401  (routes attach to the blueprints)
    from kpiapp.api import tasks  # noqa: F401  (/api/v1/tasks on routes.bp)
    from kpiapp.api import comments  # noqa: F401  (comments on key results, scorecards, items)
    from kpiapp.extensions import csrf
    from kpiapp.models import api_tokens  # noqa: F401  (the model joins the metadata)

    # CSRF protects cookies; a bearer token is not sent by the browser on its own.
    # auth.authenticate still demands CSRF from API writes that come with a session.
    csrf.exempt(routes.bp)
    app.before_request(auth.authenticate)
    app.register_blueprint(routes.bp, url_prefix="/api/v1")
    app.register_blueprint(tokens.bp)
