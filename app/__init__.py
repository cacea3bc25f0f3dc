"""Application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from config import INSTANCE_DIR, Config


def create_app(config: type[Config] | dict | None = None) -> Flask:
    """Build the app; ``config`` is a Config class or a dict of overrides (the test hook)."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite file of the embedded mode lives here
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)

    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    from flask_babel import format_datetime, get_locale

    from app.celery_app import celery_init_app
    from app.errors import register_error_handlers
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
    from app.i18n import select_locale
    from app.realtime import register_namespaces
    from app.security import init_security

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    celery_init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        # Each event handled in its connection's own thread, not in a new thread per event: a
        # thread started per frame cost more web CPU than the frame's checks (issue 15).
        async_handlers=False,
        message_queue=app.config["REDIS_URL"] if app.config["TASK_MODE"] == "celery" else None,
        cors_allowed_origins=app.config["SOCKETIO_CORS_ALLOWED_ORIGINS"] or [app.config["PUBLIC_URL"]],
        max_http_buffer_size=app.config["MAX_FRAME_BYTES"] + 64 * 1024,
        logger=False,
        engineio_logger=False,
    )
    init_security(app)
    from app.logs import configure_logging, init_request_ids

    configure_logging(app)
    init_request_ids(app)
    if app.config["BEHIND_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    from flask_babel import format_date

    from app.labels import (
        CAVEAT,
        EMOTION_LABELS,
        PURPOSE_LABELS,
        SETTING_LABELS,
        SEVERITY_LABELS,
        STREAM_STATE_LABELS,
        face_outputs,
        stream_error_text,
    )

    app.jinja_env.globals.update(
        get_locale=get_locale,
        format_datetime=format_datetime,
        format_date=format_date,
        emotion_labels=EMOTION_LABELS,
        face_outputs=face_outputs,
        severity_labels=SEVERITY_LABELS,
        caveat=CAVEAT,
        setting_labels=SETTING_LABELS,
        purpose_labels=PURPOSE_LABELS,
        stream_state_labels=STREAM_STATE_LABELS,
    )
    app.jinja_env.filters["stream_error"] = stream_error_text
    from app.timefilters import register_time_filters

    register_time_filters(app)
    from app.numfilters import register_number_filters

    register_number_filters(app)
    register_error_handlers(app)

    from app.account import bp as account_bp
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.cli import register_cli
    from app.infra.ids import IdConverter
    from app.live import bp as live_bp
    from app.main import bp as main_bp
    from app.reports import bp as reports_bp

    # Every blueprint's ids in paths: 1..2**31-1 like the id columns, anything else a 404.
    app.url_map.converters["id"] = IdConverter
    for blueprint in (main_bp, auth_bp, account_bp, admin_bp, live_bp, reports_bp, api_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie-authenticated writes

    register_namespaces(socketio, app)
    register_cli(app)
    return app


def _private_sqlite_file(uri: str) -> None:
    """The embedded database holds e-mail addresses and hashes: readable by its owner only."""
    if not uri.startswith("sqlite:///") or uri == "sqlite://":
        return
    path = Path(uri.removeprefix("sqlite:///"))
    if not path.name or str(path) == ":memory:":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # created private, never briefly world-readable
    path.chmod(0o600)
