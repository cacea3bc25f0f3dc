"""Security headers on every response and the keys of the sign-in throttles."""

from __future__ import annotations

import hashlib

from flask import Flask, Response, request
from flask_limiter.util import get_remote_address

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def account_key() -> str:
    """Throttle key for failed sign-ins of one account, from the JSON body or the form."""
    data = request.get_json(silent=True) if request.is_json else request.form
    email = data.get("email") if isinstance(data, dict) or hasattr(data, "get") else None
    if not isinstance(email, str):
        return "account:-"
    return "account:" + email.strip().lower()[:254]


def api_client_key() -> str:
    """Throttle key for API calls: the bearer token (hashed, never stored in clear), else the address."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and len(header) > 7:
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "address:" + (get_remote_address() or "-")


def failed_auth(response: Response) -> bool:
    """Only failed attempts count towards the sign-in limits (401, or the form shown again)."""
    return response.status_code == 401 or getattr(response, "auth_failed", False)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CSP)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_security(app: Flask) -> None:
    app.after_request(add_security_headers)


__all__ = ["account_key", "failed_auth", "get_remote_address", "init_security"]
