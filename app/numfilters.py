"""Jinja filters and globals for numbers ("0,40", "20 %" in French) and optional links."""

from __future__ import annotations

from flask import Flask, current_app

from app.numformat import number, percent


def has_endpoint(name: str) -> bool:
    """Lets the base template link pages that another part of the app may not have yet."""
    return name in current_app.view_functions


def register_number_filters(app: Flask) -> None:
    app.jinja_env.filters.update(number=number, percent=percent)
    from app.services.audit import describe

    app.jinja_env.globals.update(has_endpoint=has_endpoint, describe_audit=describe)
