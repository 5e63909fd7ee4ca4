"""红色信箱 backend: create_app() wires extensions, blueprints, error handlers and CLI."""
import logging
import os

from flask import Flask, abort, redirect, send_from_directory, url_for
from flask_smorest import Api

from . import apidoc, errors, headers, ratelimits, replica
from .config import ROOT, check_production, config_for
from .extensions import db, migrate, redis


class JsonErrorApi(Api):
    """flask-smorest, but errors follow our contract {"error": {...}}, documented as such, and each
    operation lists its own error answers (apidoc.errors) instead of one catch-all "default"."""

    ERROR_SCHEMA = apidoc.ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


api = JsonErrorApi()


def create_app(config: str | type | None = None) -> Flask:
    # Our own scripts and styles are files (static/): the pages' CSP allows no inline ones.
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    cfg = config if isinstance(config, type) else config_for(config or os.environ.get("RED_MAILBOX_ENV"))
    app.config.from_object(cfg)
    app.json.ensure_ascii = False  # Chinese stays readable in API responses
    if app.config.get("ENV_NAME") == "production":
        check_production(app.config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    errors.redact_logs()

    replica.configure(app.config)
    db.init_app(app)
    replica.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    redis.init_app(app)
    ratelimits.init_app(app)
    _sqlite_tuning(app)
    api.init_app(app)
    errors.register(app)
    headers.register(app)

    from . import models  # noqa: F401  (every model registered before migrations/queries)
    from . import accounts, chat, dispatch, disputes, knowledge, notifications, orders, privacy, wechat, wishes
    # Each domain package registers itself: its API blueprints, signal receivers and periodic jobs
    # (in this order: receivers of order_changed connect as they always have).
    for package in (accounts, orders, dispatch, chat, disputes, notifications, privacy, wishes, wechat, knowledge):
        package.init_app(app, api)
    from .console import bp as console_bp
    from .h5.views import bp as h5_bp
    from .health import bp as health_bp
    from .open311.api import bp as open311_bp
    from .public.views import bp as public_bp
    for page_blueprint in (health_bp, console_bp, public_bp, open311_bp, h5_bp):  # the HTML faces, /healthz
        app.register_blueprint(page_blueprint)
    app.add_template_filter(_localtime(app.config["TIMEZONE"]), "localtime")

    @app.get("/")
    def index():
        return redirect(url_for("console.dashboard"))

    vendor = ROOT / "node_modules"
    vendored = {"swagger-ui": "swagger-ui-dist", "chart.js": "chart.js"}

    @app.get("/vendor/<string:package>/<path:filename>")
    def vendor_assets(package, filename):
        """Front-end packages from npm, served locally: these machines reach no CDN."""
        if package not in vendored:
            abort(404)
        return send_from_directory(vendor / vendored[package], filename)

    from . import cli
    cli.register(app)
    return app



def _localtime(tz: str):
    from . import clock

    def localtime(value):
        return clock.local(value, tz).strftime("%Y-%m-%d %H:%M")
    return localtime


def _sqlite_tuning(app: Flask) -> None:
    """SQLite: wait for locks, and take the write lock at BEGIN so concurrent writers queue
    instead of failing with 'database is locked' on upgrade (SQLAlchemy's documented recipe)."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
