"""Language choice: the user's saved choice, then the session's, then the browser's."""

from __future__ import annotations

from flask import current_app, request, session

from app.tenancy import current_actor


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    try:
        user = current_actor()
    except Exception:  # noqa: BLE001 - outside a request (e-mails, CLI)
        user = None
    if user is not None and user.locale in languages:
        return user.locale
    chosen = session.get("locale") if request else None
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
