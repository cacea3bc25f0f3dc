"""Who is calling: a bearer token (no CSRF needed) or the browser session (CSRF-checked)."""

from __future__ import annotations

from flask import abort, g, request
from flask_login import current_user

from app.api import bp
from app.extensions import csrf
from app.services.tokens import resolve_token

PUBLIC_ENDPOINTS = {"api.signup", "api.create_token", "api.openapi"}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@bp.before_request
def authenticate() -> None:
    g.api_user = None
    g.api_token = None
    token = bearer_token()
    if token is not None:
        record = resolve_token(token)
        if record is None:
            abort(401)
        g.api_user, g.api_token = record.user, record
        return
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    if not current_user.is_authenticated:
        abort(401)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # cookie-authenticated writes need the CSRF token header
