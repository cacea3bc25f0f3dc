"""The OpenAPI 3.1 document of the public API, built from a compact table."""

from __future__ import annotations

from flask import current_app

from app.api import bp

_ERROR = {"$ref": "#/components/schemas/Error"}
_LIST = {"type": "object", "required": ["items", "next_cursor"],
         "properties": {"items": {"type": "array", "items": {"type": "object"}},
                        "next_cursor": {"type": ["string", "null"]}}}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "fields": {"type": "object"}}}}},
    "Signup": {"type": "object", "required": ["organisation", "email", "password"], "properties": {
        "organisation": {"type": "string", "maxLength": 120}, "email": {"type": "string", "format": "email"},
        "password": {"type": "string", "minLength": 8, "maxLength": 200}}},
    "Credentials": {"type": "object", "required": ["email", "password"], "properties": {
        "email": {"type": "string"}, "password": {"type": "string"}, "name": {"type": "string"},
        "ttl_days": {"type": "integer", "minimum": 1, "maximum": 365}}},
    "UserIn": {"type": "object", "required": ["email", "role"], "properties": {
        "email": {"type": "string", "format": "email"}, "password": {"type": "string", "minLength": 8},
        "role": {"type": "string", "enum": ["admin", "manager", "staff"]},
        "site_ids": {"type": "array", "items": {"type": "integer"}}}},
    "SiteIn": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 120}, "timezone": {"type": "string", "example": "Europe/Paris"},
        "setting": {"type": "string", "enum": ["education", "workplace", "healthcare", "retail", "hospitality", "public_space"]},
        "purpose": {"type": "string", "enum": ["safety", "medical", "customer_experience", "research_consent"]}}},
    "CameraIn": {"type": "object", "required": ["site_id", "name"], "properties": {
        "site_id": {"type": "integer"}, "name": {"type": "string", "maxLength": 120},
        "fps": {"type": "integer", "minimum": 1, "maximum": 15}}},
    "RuleIn": {"type": "object", "required": ["emotion", "threshold", "duration_s"], "properties": {
        "camera_id": {"type": ["integer", "null"]}, "site_id": {"type": ["integer", "null"]}, "name": {"type": "string"},
        "emotion": {"type": "string", "enum": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
                                               "distress", "frustration", "joy"]},
        "threshold": {"type": "number", "minimum": 0, "maximum": 1},
        "duration_s": {"type": "integer", "minimum": 1, "maximum": 3600},
        "min_share": {"type": "number", "minimum": 0.05, "maximum": 1, "default": 0.6},
        "min_faces": {"type": "integer", "minimum": 1, "maximum": 50, "default": 1},
        "cooldown_s": {"type": "integer", "minimum": 0, "maximum": 86400, "default": 300},
        "active_from": {"type": ["string", "null"], "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
        "active_to": {"type": ["string", "null"], "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
        "severity": {"type": "string", "enum": ["info", "warning", "critical"], "default": "warning"},
        "enabled": {"type": "boolean", "default": True},
        "escalate_after_s": {"type": ["integer", "null"], "minimum": 30, "maximum": 86400}}},
    "WebhookIn": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "format": "uri"}}},
    "AckIn": {"type": "object", "properties": {"note": {"type": ["string", "null"], "maxLength": 2000}}},
    "List": _LIST,
}

# path -> method -> (summary, request schema or None, success status, roles note)
OPERATIONS: dict[str, dict[str, tuple[str, str | None, int]]] = {
    "/signup": {"post": ("Create an organisation and its admin; returns an API token", "Signup", 201)},
    "/tokens": {"post": ("Exchange e-mail and password for an API token", "Credentials", 200),
                "get": ("List your live API tokens", None, 200)},
    "/tokens/current": {"delete": ("Revoke the token of this request", None, 204)},
    "/tokens/{id}": {"delete": ("Revoke one of your tokens", None, 204)},
    "/me": {"get": ("The calling user and tenant", None, 200), "patch": ("Change your language or password", None, 200)},
    "/users": {"get": ("List users (admin)", None, 200), "post": ("Create or invite a user (admin)", "UserIn", 201)},
    "/users/{id}": {"get": ("A user (admin)", None, 200), "patch": ("Change a user (admin)", "UserIn", 200),
                    "delete": ("Remove a user (admin)", None, 204)},
    "/sites": {"get": ("List sites", None, 200), "post": ("Create a site (admin)", "SiteIn", 201)},
    "/sites/{id}": {"get": ("A site", None, 200),
                    "patch": ("Rename a site, declare its setting and purpose (admin)", "SiteIn", 200),
                    "delete": ("Delete a site and its cameras (admin)", None, 204)},
    "/cameras": {"get": ("List cameras (?site_id=)", None, 200),
                 "post": ("Create a camera; the capture token is shown only now (admin)", "CameraIn", 201)},
    "/cameras/{id}": {"get": ("A camera", None, 200), "patch": ("Change a camera (admin)", "CameraIn", 200),
                      "delete": ("Delete a camera (admin)", None, 204)},
    "/cameras/{id}/rotate-token": {"post": ("New capture token; the old one stops at once (admin)", None, 200)},
    "/observations": {"get": ("Stored observations (?camera_id=&since=&until=)", None, 200)},
    "/alert-rules": {"get": ("List alert rules", None, 200), "post": ("Create an alert rule (admin)", "RuleIn", 201)},
    "/alert-rules/simulate": {"post": ("Replay recent observations against an unsaved rule", "RuleIn", 200)},
    "/alert-rules/{id}": {"get": ("An alert rule", None, 200), "patch": ("Change an alert rule (admin)", "RuleIn", 200),
                          "delete": ("Delete an alert rule (admin)", None, 204)},
    "/alerts": {"get": ("Alerts (?status=&camera_id=&since=), all statuses by default", None, 200)},
    "/alerts/{id}/ack": {"post": ("Acknowledge an alert, with an optional note", "AckIn", 200)},
    "/audit": {"get": ("The audit trail: sign-ins, role and rule changes, acknowledgements (admin)", None, 200)},
    "/webhooks": {"get": ("List webhooks (admin)", None, 200),
                  "post": ("Add a webhook; its signing secret is shown only now (admin)", "WebhookIn", 201)},
    "/webhooks/{id}": {"delete": ("Remove a webhook (admin)", None, 204)},
    "/reports/emotions": {"get": ("Emotion report of the tenant, a site or a camera: JSON, CSV or PDF (manager, admin)",
                                  None, 200)},
    "/webhooks/{id}/deliveries": {"get": ("Delivery log of a webhook (admin)", None, 200)},
}


def _is_list(path: str, method: str) -> bool:
    return method == "get" and not path.endswith("}") and path not in ("/me", "/tokens")


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _operation(path: str, method: str, summary: str, schema: str | None, status: int) -> dict:
    op_id = method + "_" + "".join(c if c.isalnum() else "_" for c in path.strip("/").replace("{", "").replace("}", ""))
    success: dict = {"description": "Success"}
    if status != 204:
        success["content"] = _json(_LIST if _is_list(path, method) else {"type": "object"})
    op: dict = {"summary": summary, "operationId": op_id, "responses": {str(status): success}}
    for code in (400, 401, 403, 404, 413, 429):
        op["responses"][str(code)] = {"description": "Error", "content": _json(_ERROR)}
    if schema:
        op["requestBody"] = {"required": True, "content": _json({"$ref": f"#/components/schemas/{schema}"})}
    if "{id}" in path:
        op["parameters"] = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    if _is_list(path, method):
        op.setdefault("parameters", []).extend([
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}])
    if path in ("/signup", "/tokens") and method == "post":
        op["security"] = []
    if path == "/reports/emotions":
        op["parameters"] = [
            {"name": "site_id", "in": "query", "schema": {"type": "integer"}},
            {"name": "camera_id", "in": "query", "schema": {"type": "integer"}},
            {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
             "description": "First day, inclusive, in the site's time zone (default: 6 days before 'to')"},
            {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
             "description": "Last day, inclusive (default: today); data up to the request is included"},
            {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "pdf"]}}]
        success["content"] = {**_json({"type": "object"}), "text/csv": {"schema": {"type": "string"}},
                              "application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    return op


def build_document(server_url: str) -> dict:
    paths = {path: {m: _operation(path, m, *spec) for m, spec in methods.items()} for path, methods in OPERATIONS.items()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "EmotiScan API", "version": "1.0.0",
                 "description": "Facial expression analytics. Scores describe facial expressions, not inner states."},
        "servers": [{"url": server_url + "/api/v1"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"bearer": []}, {"cookie": []}],
    }


@bp.get("/openapi.json")
def openapi():
    return build_document(current_app.config["PUBLIC_URL"])
