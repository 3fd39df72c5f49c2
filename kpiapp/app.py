"""The app factory: bind extensions, register blueprints and hooks."""
from flask import Flask, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from config import BASE_DIR, config_from_env, instance_secret_key
from kpiapp.extensions import babel, csrf, db, htmx, login_manager, migrate
from kpiapp.startup import check_startup


def create_app(config=None):
    """Build the app: bind extensions, register blueprints and hooks, nothing else."""
    config = config or config_from_env()
    app = Flask(__name__, template_folder=str(BASE_DIR / "templates"),
                instance_path=str(config.INSTANCE_DIR))
    app.config.from_object(config)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or instance_secret_key(config.INSTANCE_DIR)
    bind_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    check_startup(app)
    return app


def bind_extensions(app):
    from kpiapp import audit, audit_anchor, models  # noqa: F401  (models and audit hooks registered)
    from kpiapp.metrics import fact_day  # noqa: F401  (fact_day follows facts written through the session)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)


def register_blueprints(app):
    from kpiapp.admin.routes import bp as admin_bp
    from kpiapp.auth.routes import bp as auth_bp
    from kpiapp.cli import kpi
    from kpiapp.imports.routes import bp as imports_bp
    from kpiapp.main.routes import bp as main_bp
    from kpiapp.metrics.routes import bp as metrics_bp
    from kpiapp.org.routes import bp as org_bp
    from kpiapp.reports.routes import bp as reports_bp
    from kpiapp.tracking.routes import bp as provenance_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(org_bp, url_prefix="/org")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(imports_bp, url_prefix="/imports")
    app.register_blueprint(metrics_bp, url_prefix="/metrics")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(provenance_bp, url_prefix="/provenance")
    from kpiapp import api
    from kpiapp.appraisal import routes as appraisal_routes
    from kpiapp.contracts import routes as contract_routes
    from kpiapp.dashboards import routes as dashboard_routes
    from kpiapp.notifications.routes import bp as integrations_bp
    from kpiapp.objectives import routes as objective_routes

    appraisal_routes.register(app)
    dashboard_routes.register(app)
    contract_routes.register(app)
    objective_routes.register(app)
    app.register_blueprint(integrations_bp)
    api.register(app)
    from kpiapp import portal
    from kpiapp.connectors import routes as connection_routes

    portal.register(app)
    connection_routes.register(app)
    app.cli.add_command(kpi)


def register_hooks(app):
    from kpiapp import job_views, jobs, policy
    from kpiapp.auth.mfa import require_enrolment
    from kpiapp.auth.session import check_timeouts
    from kpiapp.navigation import nav_groups, nav_items, register_menu, role_label
    from kpiapp.web import errors, filters, headers, pages, refusals

    app.before_request(check_timeouts)
    app.before_request(headers.set_request_context)
    app.before_request(refusals.enforce_route_rule)
    app.before_request(require_enrolment)
    app.after_request(headers.security_headers)
    for status in (400, 403, 404, 405, 409, 413, 500, 503):
        app.register_error_handler(status, errors.error_page(status))
    app.register_error_handler(jobs.QueueUnavailable, errors.error_page(503))
    app.register_error_handler(CSRFError, errors.csrf_failed)
    app.jinja_env.globals["policy"] = policy
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["nav_groups"] = nav_groups
    app.jinja_env.globals["ui_lang"] = pages.ui_lang
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["job_status_text"] = job_views.status_text
    filters.register_filters(app)
    register_menu()


def load_user(token):
    from kpiapp.models import User

    return db.session.query(User).filter_by(session_token=token, active=True).one_or_none()


def select_locale():
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if session.get("locale") in languages:
        return session["locale"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    best = request.accept_languages.best_match(["en", "zh_CN", "zh"])
    return "zh_CN" if best and best.startswith("zh") else "en"
