"""JSON API under /api/v1 (the public contract of ARCHITECTURE.md)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import accounts, alerts, audit, auth, cameras, observations, openapi, reports, sites, webhooks  # noqa: E402,F401
