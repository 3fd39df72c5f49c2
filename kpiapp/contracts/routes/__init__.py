"""The agency's contract pages (docs/contracts.md): blueprint `contracts` under /contracts."""


def register(app):
    from kpiapp.contracts.routes import contracts, reports, terms  # noqa: F401  (their routes join bp)
    from kpiapp.contracts.routes.common import bp

    app.register_blueprint(bp, url_prefix="/contracts")
