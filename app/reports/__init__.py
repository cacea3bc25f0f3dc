"""Manager reports: the interactive report page, downloads, schedules and stored reports."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from app.reports import routes  # noqa: E402,F401
