"""Admin pages: sites, cameras, users, API tokens."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.admin import camera_pages, notifications, privacy, routes, rules  # noqa: E402,F401
