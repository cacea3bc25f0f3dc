"""JSON API under /api/v1 (the public contract of ARCHITECTURE.md)."""

from flask import Blueprint, current_app

from app.extensions import limiter
from app.security import api_client_key

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Every API call counts against its token (or address): API_LIMIT, 429 with Retry-After beyond.
limiter.limit(lambda: current_app.config["API_LIMIT"], key_func=api_client_key, scope="api")(bp)


@bp.record_once
def _bounded_input(state) -> None:
    """JSON parsing with bounded depth for the whole app (the sign-in throttle reads JSON bodies
    before any view runs). The ``<id:...>`` converter is the app's own (create_app)."""
    from app.api.validation import ApiJSONProvider

    state.app.json = ApiJSONProvider(state.app)


from app.api import accounts, alerts, audit, auth, cameras, observations, openapi, reports, sites, webhooks  # noqa: E402,F401
