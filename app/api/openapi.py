"""The OpenAPI 3.1 document of the public API, built from the routes and their contracts (contract.py):
paths and methods from the URL map, bodies, query strings and answers from the pydantic models."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from app.api import bp
from app.api import schemas as s
from app.api.contract import Operation

PREFIX = "/api/v1"
_ERROR = {"$ref": "#/components/schemas/Error"}
# Kept for clients that referred to it: the shape of every list answer.
_LIST = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {"items": {"type": "array", "items": {"type": "object"}}, "next_cursor": {"type": ["string", "null"]}},
}
ERRORS = {
    400: "Invalid request: validation_error (with fields: name -> reason), malformed_json, invalid_cursor, ...",
    401: "Credentials are missing or invalid",
    403: "Your role does not allow this",
    404: "Not found, or not visible to you (another tenant's object is always a 404)",
    409: "Conflicts with the current state (e-mail taken, last admin, quota exceeded...)",
    413: "The body is larger than 1 MiB",
    415: "The body is not JSON (Content-Type: application/json)",
    423: "The account is locked after too many failed sign-ins",
    429: "Too many requests; Retry-After says when to try again",
}


class _Schema(GenerateJsonSchema):
    """pydantic's JSON schema without the noise: no per-field titles, no ``default: null`` of optional fields."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def default_schema(self, schema) -> dict:
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None:
            del json_schema["default"]
        return json_schema


def api_operations() -> list[tuple[str, str, Any, Operation]]:
    """(document path, method, rule, contract) of every documented route, in the order they were declared."""
    found = []
    for rule in current_app.url_map.iter_rules():
        view = current_app.view_functions.get(rule.endpoint)
        contract = getattr(view, "operation", None)
        if not rule.endpoint.startswith("api.") or contract is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "{id}", rule.rule.removeprefix(PREFIX))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), rule, contract))
    return found


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(by_alias=True, schema_generator=_Schema)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        description = prop.pop("description", None)
        # An empty value (?status=) counts as absent, as it always has.
        parameter = {"name": name, "in": "query", "required": name in required, "allowEmptyValue": True, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def error_statuses(path: str, method: str, op: Operation) -> list[int]:
    """The 4xx answers an operation can give: those its inputs imply, and those it declares."""
    implied = {401, 429}  # 401 also on public operations, for a bearer token that is not valid
    if op.body or op.query or (method != "get" and not op.public):  # cookie-authenticated writes need a CSRF token
        implied.add(400)
    if op.body:
        implied |= {413, 415}
    if "{id}" in path:
        implied.add(404)
    return sorted(implied | set(op.errors))


CAMERA_KINDS = (
    "Cameras have a kind. **browser** (the default): frames are pushed over the Socket.IO namespace /capture "
    "with the camera's capture token, by a browser tab or by the edge agent (`emotiscan-agent --server URL "
    "--token CAPTURE_TOKEN SOURCE`), which reads an RTSP/HTTP camera or a video file on the customer's network "
    "and connects out. **stream**: the server's gateway pulls `source_url` (rtsp://, rtsps://, http(s):// MJPEG "
    "or snapshot) itself, at `fps` (default 2); its credentials are stored encrypted and never returned "
    "(`has_credentials`), and `stream_status` tells connecting, live, unreachable (with the last error) or "
    "disabled. Server-side pulling is allowed only when the source's host resolves into the operator's "
    "STREAM_SOURCES_ALLOW networks, checked on save and at each connection; otherwise the API answers 400 "
    "`source_not_allowed`: use a browser camera fed by the edge agent."
)


def _operation(path: str, method: str, op: Operation) -> dict:
    op_id = method + "_" + "".join(c if c.isalnum() else "_" for c in path.strip("/").replace("{", "").replace("}", ""))
    success: dict = {"description": "Success" if op.status != 204 else "Done (no content)"}
    if op.returns is not None:
        success["content"] = _json(_ref(op.returns))
        for media in op.media:
            success["content"][media] = {
                "schema": {"type": "string", "format": "binary"} if media == "application/pdf" else {"type": "string"}
            }
    doc: dict = {"summary": op.summary, "operationId": op_id, "responses": {str(op.status): success}}
    for code in error_statuses(path, method, op):
        doc["responses"][str(code)] = {"description": ERRORS[code], "content": _json(_ERROR)}
    parameters = []
    if "{id}" in path:
        parameters.append(
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": s.MAX_ID}}
        )
    if op.query is not None:
        parameters += _query_parameters(op.query)
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": op.body_required, "content": _json(_ref(op.body))}
    if op.public:
        doc["security"] = []
    return doc


def _components(operations: list[tuple[str, str, Any, Operation]]) -> dict:
    inputs = {op.body for *_, op in operations if op.body is not None}
    answers = {op.returns for *_, op in operations if op.returns is not None} | {s.Error}
    keys = [(m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)]
    keys += [(m, "serialization") for m in sorted(answers, key=lambda m: m.__name__)]
    _, schema = models_json_schema(keys, ref_template="#/components/schemas/{model}", schema_generator=_Schema)
    return {**schema.get("$defs", {}), "List": _LIST}


def build_document(server_url: str) -> dict:
    operations = api_operations()
    paths: dict[str, dict] = {}
    for path, method, _, op in operations:
        paths.setdefault(path, {})[method] = _operation(path, method, op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "EmotiScan API",
            "version": "1.0.0",
            "description": "Facial expression analytics. Scores describe facial expressions, not inner states.\n\n"
            + CAMERA_KINDS,
        },
        "servers": [{"url": server_url + PREFIX}],
        "paths": paths,
        "components": {
            "schemas": _components(operations),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
    }


@bp.get("/openapi.json")
def openapi():
    # Built once per app: the routes and models do not change while it runs (about 30 ms to build).
    cache = current_app.extensions.setdefault("api_openapi", {})
    url = current_app.config["PUBLIC_URL"]
    if url not in cache:
        cache[url] = build_document(url)
    return cache[url]
