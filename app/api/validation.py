"""Reading requests: JSON bodies and query strings validated with the operation's models (schemas.py),
bounded JSON parsing and bounded ids in paths. Every refusal is a ServiceError in the API's format."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app, g, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel, ValidationError

from app.api.contract import current_operation
from app.services.errors import ServiceError

MAX_JSON_DEPTH = 32

# pydantic error type -> the reason shown in ``fields`` (custom errors of schemas.py are named by reason)
REASONS = {
    "missing": "required",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "string_too_short": "too_short",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "finite_number": "out_of_range",
    "string_pattern_mismatch": "invalid",
    "literal_error": "invalid",
    "int_type": "wrong_type",
    "float_type": "wrong_type",
    "string_type": "wrong_type",
    "bool_type": "wrong_type",
    "list_type": "wrong_type",
    "datetime_type": "wrong_type",
}
MESSAGES = {
    "required": "'{}' is required.",
    "wrong_type": "'{}' has the wrong type.",
    "too_long": "'{}' is too long.",
    "too_short": "'{}' is too short.",
    "out_of_range": "'{}' is out of range.",
    "invalid": "'{}' is not valid.",
}


class JSONTooDeep(ValueError):
    pass


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def nesting_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than ``limit``, found without parsing (a
    recursive parser would overflow the stack on 100,000 nested brackets); strings are skipped whole."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _refuse_constant(value: str) -> Any:
    raise ValueError(f"{value} is not JSON")  # NaN, Infinity: Python's json reads them, no JSON peer writes them


class ApiJSONProvider(DefaultJSONProvider):
    """Flask's JSON with parsing bounded: nesting depth checked first, NaN and Infinity refused. Every
    request.get_json() goes through it (the sign-in throttle's key reads the body before any view)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode(json.detect_encoding(s), "surrogatepass") if isinstance(s, bytes | bytearray) else s
        if nesting_exceeds(text):
            raise JSONTooDeep(f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
        kwargs.setdefault("parse_constant", _refuse_constant)
        return json.loads(text, **kwargs)


def json_body() -> dict:
    """The request's JSON object, or a clear 400/415."""
    if not request.is_json:
        raise ServiceError("unsupported_media_type", "Send JSON with Content-Type: application/json.", status=415)
    try:
        data = current_app.json.loads(request.get_data(cache=True))
    except JSONTooDeep as exc:
        raise ServiceError("malformed_json", str(exc)) from None
    except ValueError:  # also UnicodeDecodeError, RecursionError cannot happen past the depth check
        raise ServiceError("malformed_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ServiceError("validation_error", "The body must be a JSON object.")
    return data


def _reason(error: dict) -> str:
    kind = error["type"]
    if kind == "literal_error" and not isinstance(error.get("input"), str):
        return "wrong_type"  # 3 for a role is a wrong type; "god" is an invalid choice
    return REASONS.get(kind, kind if kind in MESSAGES else "invalid")


def validate(data: dict, model: type[BaseModel]) -> dict:
    """The cleaned values of the fields present in ``data`` (unknown fields are ignored)."""
    # Rule bodies also check the rule kinds' own parameters, read from the registry (schemas.KindFields).
    extra, errors = model.validate_kind_fields(data) if hasattr(model, "validate_kind_fields") else ({}, [])
    try:
        clean = model.model_validate(data)
    except ValidationError as exc:
        errors = [*exc.errors(), *errors]
    if errors:
        fields: dict[str, str] = {}
        for error in errors:
            fields.setdefault(str(error["loc"][0]) if error["loc"] else "body", _reason(error))
        first, reason = next(iter(fields.items()))
        # schemas.refuse() messages say what is wrong ("Unknown time zone."); else a message by reason
        if errors[0]["type"] == "invalid":
            message = errors[0]["msg"]
        elif errors[0]["type"] == "literal_error" and reason == "invalid":
            message = f"'{first}' must be one of {errors[0]['ctx']['expected']}."
        else:
            message = MESSAGES.get(reason, MESSAGES["invalid"]).format(first)
        raise ServiceError("validation_error", message, fields=fields) from None
    return {**{name: getattr(clean, name) for name in clean.model_fields_set}, **extra}


def payload() -> dict:
    """The body of this request validated with its operation's ``body`` model; an optional body may be absent."""
    operation = current_operation()
    if not operation.body_required and not request.get_data(cache=True):
        return validate({}, operation.body)
    return validate(json_body(), operation.body)


def params() -> dict:
    """The query string validated with the operation's ``query`` model, by the parameters' names
    (``from``, not ``start``); an empty value counts as absent."""
    if "api_params" not in g:
        model = current_operation().query
        if model is None:
            return {}
        raw = {}
        for field_name, field in model.model_fields.items():
            value = request.args.get(field.alias or field_name)
            if value:
                raw[field.alias or field_name] = value
        g.api_params = {(model.model_fields[k].alias or k): v for k, v in validate(raw, model).items()}
    return g.api_params


def page_of(stmt, id_column, serialize) -> dict:
    """A list answer ``{"items", "next_cursor"}`` from ``?cursor=`` and ``?limit=``."""
    from app.infra.pagination import paginate

    args = params()
    items, cursor = paginate(stmt, id_column, args.get("cursor"), args.get("limit") or current_app.config["PAGE_SIZE"])
    return {"items": [serialize(item) for item in items], "next_cursor": cursor}
