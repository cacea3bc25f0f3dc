"""Jinja filters that show a stored moment in the time zone it belongs to, labelled with that zone:
``site_time`` for what belongs to a site (its zone), ``org_time`` for events of no site (sign-ins,
audit, webhook deliveries: the organisation's zone, which its admin sets)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import get_locale
from markupsafe import Markup, escape

from app.tenancy import current_actor
from app.timefmt import as_moment, iso_utc, local_iso, local_time


def site_time(value: datetime | str | None, zone: str | None, fmt: str = "short", labelled: bool = True) -> Markup | str:
    """``<time datetime="2026-12-02T04:05:00+14:00" data-zone="...">`` with the local text in the user's
    language (``labelled=False``: without the zone's name, which the page shows beside it); a missing
    moment reads as a dash."""
    if value is None:
        return "—"
    text = local_time(value, zone, str(get_locale() or "en"), fmt, labelled)
    return Markup('<time datetime="{}" data-utc="{}" data-zone="{}">{}</time>').format(
        local_iso(value, zone), iso_utc(as_moment(value)), zone or "UTC", escape(text)
    )


def org_zone() -> str:
    """The signed-in person's organisation zone (the tenant is loaded with the user: no extra query)."""
    user = current_actor()
    return getattr(getattr(user, "tenant", None), "timezone", None) or "UTC"


def org_time(value: datetime | str | None, fmt: str = "short") -> Markup | str:
    return site_time(value, org_zone(), fmt)


def register_time_filters(app: Flask) -> None:
    app.jinja_env.filters.update(site_time=site_time, org_time=org_time)
    app.jinja_env.globals.update(org_zone=org_zone)
