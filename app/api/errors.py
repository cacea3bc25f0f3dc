"""The API's error format: ``{"error": {"code", "message"}}`` with a 4xx status, never HTML."""

from __future__ import annotations

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from app.services.errors import ServiceError

_CODES = {
    400: ("bad_request", "The request is not valid."),
    401: ("unauthorized", "Credentials are missing or invalid."),
    403: ("forbidden", "Your role does not allow this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    409: ("conflict", "The request conflicts with the current state."),
    413: ("too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
    429: ("rate_limited", "Too many requests; try again later."),
}


def error_response(status: int, code: str | None = None, message: str | None = None, **extra) -> Response:
    default_code, default_message = _CODES.get(status, ("error", "The request failed."))
    body = {"code": code or default_code, "message": message or default_message, **extra}
    response = jsonify({"error": body})
    response.status_code = status
    return response


def wants_json() -> bool:
    return request.path.startswith("/api/")


def http_error(exc: HTTPException) -> Response:
    response = error_response(exc.code or 500)
    # The exception's own headers: Allow of a 405 (RFC 9110), WWW-Authenticate, Content-Range...
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if exc.code == 429:
        retry = getattr(exc, "retry_after", None)
        if retry is not None:
            response.headers["Retry-After"] = str(int(retry))
    return response


def service_error(exc: ServiceError) -> Response:
    extra = {"fields": exc.fields} if exc.fields else {}
    return error_response(exc.status, exc.code, exc.message, **extra)
