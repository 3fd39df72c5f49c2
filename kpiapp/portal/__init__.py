"""The client portal (/portal) and client users' invitations (docs/contracts.md)."""


def register(app):
    from kpiapp.portal.clients import bp as clients_bp
    from kpiapp.portal.routes import bp as portal_bp

    app.register_blueprint(clients_bp)
    app.register_blueprint(portal_bp, url_prefix="/portal")
