"""Errors: JSON for the API (never a traceback), friendly pages for browsers."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.api.errors import error_response, http_error, service_error, wants_json
from app.extensions import db
from app.services.errors import ServiceError

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service(exc: ServiceError):
        if wants_json():
            return service_error(exc)
        return render_template("error.html", code=exc.status, message=exc.message), exc.status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if wants_json():
            return http_error(exc)
        response = exc.get_response()
        if exc.code and exc.code >= 400:
            body = render_template("error.html", code=exc.code, message=None)
            response.set_data(body)
            response.mimetype = "text/html"
        return response

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError):
        if not exc.connection_invalidated and not isinstance(exc, OperationalError):
            return _unexpected(exc)
        # The database is restarting or unreachable: a clear, retryable answer; the pool
        # (pre-ping) reconnects on a later request without restarting the app.
        db.session.rollback()
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
        if wants_json():
            response = error_response(503, "database_unavailable", "The database is unavailable; try again shortly.")
            response.headers["Retry-After"] = "5"
            return response
        return render_template("error.html", code=503, message=None), 503, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error")
        if wants_json():
            return error_response(500, "server_error", "Something went wrong on our side.")
        return render_template("error.html", code=500, message=None), InternalServerError.code
