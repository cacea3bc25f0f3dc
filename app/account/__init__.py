"""The signed-in user's own page: password, language and alert e-mails."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from app.account import routes  # noqa: E402,F401
