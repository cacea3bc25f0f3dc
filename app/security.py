"""Security headers on every response, the keys of the sign-in throttles, the known-device cookie
and the one check of redirect targets."""

from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, abort, current_app, request, url_for
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


DEVICE_COOKIE = "es_device"
_MAX_NEXT = 2048


def known_device_token() -> str | None:
    return request.cookies.get(DEVICE_COOKIE)


def remember_device(response: Response, token: str) -> Response:
    """Marks this browser as one that signed in to the account (see accounts.known_device_token)."""
    from app.services.accounts import KNOWN_DEVICE_DAYS

    config = current_app.config
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=KNOWN_DEVICE_DAYS * 86400,
        path=url_for("auth.login"),
        httponly=True,
        samesite="Lax",
        secure=bool(config.get("SESSION_COOKIE_SECURE")) or config["PUBLIC_URL"].startswith("https://"),
    )
    return response


def known_device_for_account() -> bool:
    """Exempts from the per-account sign-in throttle a browser that signed in to this account before,
    so that an attacker who floods the account with wrong passwords does not lock its owner out."""
    from app.services.accounts import known_device_user

    email = request.form.get("email")
    token = known_device_token()
    return bool(token) and isinstance(email, str) and known_device_user(token, email) is not None


def _unsafe_chars(text: str, allow_spaces: bool = False) -> bool:
    # Control and format characters (tab, CR, LF, NUL, bidi marks...) and, unless allowed, any white space.
    return (
        any(unicodedata.category(c).startswith("C") or (c.isspace() and not (allow_spaces and c == " ")) for c in text)
        or "\\" in text
    )


def safe_next(target: str | None) -> str | None:
    r"""``target`` if it is a path of this site (``/reports?x=1``), else None: the caller uses its default page.

    Refused: anything that a browser or a proxy could read as another host (``//evil``, ``/\evil``,
    ``/%2F/evil``, and ``/<tab>/evil``, which browsers read as ``//evil`` once they drop tabs and newlines),
    schemes (``javascript:``), and control characters (CR/LF would also break the Location header).
    Each check applies to the target as given and to each level of its percent-decoding.
    """
    if not isinstance(target, str) or not target or len(target) > _MAX_NEXT:
        return None
    forms, decoded = [target], target
    for _ in range(3):  # double encoding (%252F) decodes to %2F, then to "/"
        decoded, previous = unquote(decoded), decoded
        if decoded == previous:
            break
        forms.append(decoded)
    for form in forms:
        path, _, query = form.partition("?")
        # A space in the query (?q=a%20b) is harmless; anywhere else, white space is refused.
        if _unsafe_chars(path) or _unsafe_chars(query, allow_spaces=True):
            return None
        if not form.startswith("/") or form.startswith("//"):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    return target


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


def refuse_nul_characters() -> None:
    """NUL in a query string or a form field: 400 before any view. PostgreSQL cannot store it (a
    500 from the driver) and no name, e-mail or note of ours holds one. JSON bodies are checked by
    the API's schemas, which also refuse the other control characters."""
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if any("\x00" in key or "\x00" in value for key, value in fields):
        abort(400)


def init_security(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)


__all__ = [
    "DEVICE_COOKIE",
    "account_key",
    "failed_auth",
    "get_remote_address",
    "init_security",
    "known_device_for_account",
    "remember_device",
    "safe_next",
]
