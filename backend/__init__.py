"""红色信箱 backend: create_app() wires extensions, blueprints, error handlers and CLI."""
import logging
import os

from flask import Flask, abort, redirect, send_from_directory, url_for
from flask_smorest import Api

from . import apidoc, errors, headers, ratelimits
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

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    redis.init_app(app)
    ratelimits.init_app(app)
    _sqlite_tuning(app)
    api.init_app(app)
    errors.register(app)
    headers.register(app)

    from . import models  # noqa: F401  (every model registered before migrations/queries)
    from .accounts.api import blp as auth_blp
    from .chat.api import blp as chat_blp, bot_blp
    from .console import bp as console_bp
    from .dispatch import hooks as dispatch_hooks, jobs as dispatch_jobs
    from .notifications import services as notifications
    from .dispatch.api import blp as dispatch_blp
    from .health import bp as health_bp
    from .public.views import bp as public_bp
    from .open311.api import bp as open311_bp
    from .h5.views import bp as h5_bp
    from .orders import notices as order_notices
    from .orders.api import blp as orders_blp, files as uploads_bp
    from .disputes.api import blp as disputes_blp
    from .disputes import jobs as dispute_jobs
    from . import wechat
    for blueprint in (auth_blp, orders_blp, dispatch_blp, chat_blp, bot_blp, disputes_blp):
        api.register_blueprint(blueprint)
    order_notices.connect()
    dispatch_hooks.connect()
    dispatch_jobs.register()
    dispute_jobs.register()
    notifications.register_jobs()
    from .privacy import jobs as privacy_jobs, services as privacy
    privacy_jobs.register()
    from .wishes import jobs as wish_jobs
    wish_jobs.register()
    privacy.connect()
    wechat.init_app(app, api)
    app.register_blueprint(health_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(open311_bp)
    app.register_blueprint(h5_bp)
    app.register_blueprint(uploads_bp)
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
