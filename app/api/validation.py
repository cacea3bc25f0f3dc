"""Validation of JSON bodies and query strings; every failure is a ServiceError (400)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import request

from app.services.errors import ServiceError

_MISSING = object()


def json_body() -> dict:
    """The request's JSON object, or a clear 400/415."""
    if not request.is_json:
        raise ServiceError("unsupported_media_type", "Send JSON with Content-Type: application/json.", status=415)
    data = request.get_json(silent=True)
    if data is None:
        raise ServiceError("malformed_json", "The body is not valid JSON.")
    if not isinstance(data, dict):
        raise ServiceError("validation_error", "The body must be a JSON object.")
    return data


@dataclass(frozen=True)
class Field:
    kind: type | tuple
    required: bool = False
    max_len: int = 200
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple | None = None
    email: bool = False
    item_kind: type | None = None
    nullable: bool = False
    pattern: str | None = None


def _check(name: str, value: Any, spec: Field) -> Any:
    if value is None and spec.nullable:
        return None
    kinds = spec.kind if isinstance(spec.kind, tuple) else (spec.kind,)
    # bool is an int in Python but never a valid number here.
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        return ServiceError("validation_error", f"'{name}' has the wrong type.", fields={name: "wrong_type"})
    if isinstance(value, str):
        value = value.strip()
        if spec.required and not value:
            return ServiceError("validation_error", f"'{name}' is required.", fields={name: "required"})
        if len(value) > spec.max_len:
            return ServiceError("validation_error", f"'{name}' is too long.", fields={name: "too_long"})
        if spec.email:
            try:
                value = validate_email(value, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                return ServiceError("validation_error", "The e-mail address is not valid.", fields={name: "invalid"})
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum or spec.maximum is not None and value > spec.maximum:
            return ServiceError("validation_error", f"'{name}' is out of range.", fields={name: "out_of_range"})
    if spec.pattern is not None and isinstance(value, str) and not re.fullmatch(spec.pattern, value):
        return ServiceError("validation_error", f"'{name}' has the wrong format.", fields={name: "invalid"})
    if spec.choices is not None and value not in spec.choices:
        return ServiceError("validation_error", f"'{name}' must be one of {', '.join(map(str, spec.choices))}.",
                            fields={name: "invalid"})
    if isinstance(value, list):
        if len(value) > 1000 or spec.item_kind and not all(
            isinstance(v, spec.item_kind) and not isinstance(v, bool) for v in value
        ):
            return ServiceError("validation_error", f"'{name}' has items of the wrong type.", fields={name: "wrong_type"})
    return value


def validate(data: dict, spec: dict[str, Field], partial: bool = False) -> dict:
    """Cleaned values of the known fields; unknown fields are ignored. ``partial``: PATCH."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    first: ServiceError | None = None
    for name, field in spec.items():
        value = data.get(name, _MISSING)
        if value is _MISSING:
            if field.required and not partial:
                errors[name] = "required"
                first = first or ServiceError("validation_error", f"'{name}' is required.")
            continue
        result = _check(name, value, field)
        if isinstance(result, ServiceError):
            errors.update(result.fields)
            first = first or result
        else:
            clean[name] = result
    if first is not None:
        raise ServiceError("validation_error", first.message, fields=errors)
    return clean


def query_int(name: str, default: int | None = None, minimum: int = 1, maximum: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ServiceError("validation_error", f"'{name}' must be a whole number.", fields={name: "wrong_type"}) from None
    if value < minimum or maximum is not None and value > maximum:
        raise ServiceError("validation_error", f"'{name}' is out of range.", fields={name: "out_of_range"})
    return value


def query_datetime(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError("validation_error", f"'{name}' must be an ISO 8601 date-time.", fields={name: "invalid"}) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def page_of(stmt, id_column, serialize) -> dict:
    """A list answer ``{"items", "next_cursor"}`` from ``?cursor=`` and ``?limit=``."""
    from flask import current_app

    from app.services.pagination import paginate

    cfg = current_app.config
    limit = query_int("limit", cfg["PAGE_SIZE"], maximum=cfg["PAGE_SIZE_MAX"])
    items, cursor = paginate(stmt, id_column, request.args.get("cursor"), limit)
    return {"items": [serialize(item) for item in items], "next_cursor": cursor}
