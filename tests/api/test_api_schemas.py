"""The OpenAPI document and the validation come from the same models: what one says the other does.

The document covers every route with its answers (409, 415, 401/403/404/429 where they happen); its
JSON schemas accept exactly what the validation accepts (checked here with the validator clients
use, on generated text and numbers); the character classes and ranges it spells are right.
"""

from __future__ import annotations

import random
import re
import unicodedata

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from app.api import schemas
from app.api.auth import PUBLIC_ENDPOINTS
from app.api.openapi import api_operations, build_document
from app.api.validation import nesting_exceeds, validate
from app.infra.ids import decimal_range
from app.infra.pagination import CURSOR_PATTERN, decode_cursor, encode_cursor
from app.services.errors import ServiceError

# The document's operations before it was derived from the models: all are still there.
PREVIOUS_OPERATIONS = {
    ("/signup", "post"),
    ("/tokens", "post"),
    ("/tokens", "get"),
    ("/tokens/current", "delete"),
    ("/tokens/{id}", "delete"),
    ("/me", "get"),
    ("/me", "patch"),
    ("/users", "get"),
    ("/users", "post"),
    ("/users/{id}", "get"),
    ("/users/{id}", "patch"),
    ("/users/{id}", "delete"),
    ("/sites", "get"),
    ("/sites", "post"),
    ("/sites/{id}", "get"),
    ("/sites/{id}", "patch"),
    ("/sites/{id}", "delete"),
    ("/cameras", "get"),
    ("/cameras", "post"),
    ("/cameras/{id}", "get"),
    ("/cameras/{id}", "patch"),
    ("/cameras/{id}", "delete"),
    ("/cameras/{id}/rotate-token", "post"),
    ("/observations", "get"),
    ("/alert-rules", "get"),
    ("/alert-rules", "post"),
    ("/alert-rules/simulate", "post"),
    ("/alert-rules/{id}", "get"),
    ("/alert-rules/{id}", "patch"),
    ("/alert-rules/{id}", "delete"),
    ("/alerts", "get"),
    ("/alerts/{id}/ack", "post"),
    ("/audit", "get"),
    ("/webhooks", "get"),
    ("/webhooks", "post"),
    ("/webhooks/{id}", "delete"),
    ("/reports/emotions", "get"),
    ("/webhooks/{id}/deliveries", "get"),
}
CONFLICTS = {
    ("/signup", "post"),
    ("/users", "post"),
    ("/users/{id}", "patch"),
    ("/users/{id}", "delete"),
    ("/cameras", "post"),
    ("/cameras/{id}", "patch"),
}


@pytest.fixture(scope="module")
def doc() -> dict:
    from app import create_app
    from tests.conftest import _testing

    app = create_app({**_testing(), "SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_URL": "https://emotiscan.test"})
    with app.test_request_context():
        return {"document": build_document("https://emotiscan.test"), "operations": api_operations(), "app": app}


def test_every_api_route_is_documented_and_nothing_else(doc):
    documented = {(path, method) for path, methods in doc["document"]["paths"].items() for method in methods}
    routed = {(path, method) for path, method, _, _ in doc["operations"]}
    api_rules = {r.endpoint for r in doc["app"].url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert documented == routed and PREVIOUS_OPERATIONS <= documented
    assert api_rules - {rule.endpoint for _, _, rule, _ in doc["operations"]} == {"api.openapi"}
    assert doc["document"]["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer"},
        "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
    }


def test_the_document_loads_in_schemathesis_without_errors(doc):
    loaded = schemathesis.openapi.from_dict(doc["document"])
    results = list(loaded.get_all_operations())
    assert len(results) == len(doc["operations"]) and all(isinstance(result, Ok) for result in results)


def test_each_operation_documents_its_errors(doc):
    paths = doc["document"]["paths"]
    for path, method, rule, op in doc["operations"]:
        codes = set(paths[path][method]["responses"])
        assert {"401", "429"} <= codes, (path, method)
        if op.body is not None:
            assert {"400", "413", "415"} <= codes and "requestBody" in paths[path][method], (path, method)
        if "{id}" in path:
            assert "404" in codes
        assert ("409" in codes) == ((path, method) in CONFLICTS), (path, method, codes)
        public = rule.endpoint in PUBLIC_ENDPOINTS
        assert (paths[path][method].get("security") == []) == public, path
        for code, answer in paths[path][method]["responses"].items():
            if code.startswith("4"):
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "403" in paths["/users/{id}"]["get"]["responses"] and "403" not in paths["/sites/{id}"]["get"]["responses"]
    assert "423" in paths["/tokens"]["post"]["responses"]


def test_ids_are_bounded_everywhere_in_the_document(doc):
    for path, methods in doc["document"]["paths"].items():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in ("id", "site_id", "camera_id"):
                    assert parameter["schema"]["minimum"] == 1 and parameter["schema"]["maximum"] == 2**31 - 1, path
    for name in ("CameraIn", "RuleIn", "UserIn"):
        props = doc["document"]["components"]["schemas"][name]["properties"]
        for field in ("site_id", "camera_id", "site_ids"):
            if field in props:
                assert "2147483647" in str(props[field]), (name, field)


# The document's schemas, as a client's validator reads them, agree with the server's validation.


def _component_validator(doc, name: str):
    root = {"$ref": f"#/components/schemas/{name}", "components": doc["document"]["components"]}
    return jsonschema_rs.Draft202012Validator(root)


def _accepted(model, body: dict) -> bool:
    try:
        validate(body, model)
    except ServiceError:
        return False
    return True


TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=130) | st.sampled_from(
    ["", " ", "\u3000", " a ", "a\x00", "\t", "a\nb", "x\u202ey", "\u2066", "ok", "a" * 120, "a" * 121, " " * 121]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=TEXT)
def test_text_fields_accept_what_the_document_accepts(doc, text):
    cases = [
        ("SitePatch", schemas.SitePatch, {"name": text}),
        ("RuleIn", schemas.RuleIn, {"emotion": "joy", "threshold": 0.5, "duration_s": 5, "name": text}),
        ("RuleIn", schemas.RuleIn, {"emotion": "joy", "threshold": 0.5, "duration_s": 5, "active_from": text}),
        ("Credentials", schemas.Credentials, {"email": "a@b.example", "password": text}),
        ("Credentials", schemas.Credentials, {"email": text, "password": "x"}),
        ("Credentials", schemas.Credentials, {"email": "a@b.example", "password": "x", "name": text}),
        ("AckIn", schemas.AckIn, {"note": text}),
    ]  # not here: minLength of new passwords and format of URLs, which the services check (weak_password, url_not_allowed)
    for name, model, body in cases:
        assert _component_validator(doc, name).is_valid(body) == _accepted(model, body), (name, body)


NUMBERS = st.one_of(
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 5.0, 0.05, 72, 72.0001, "1"]),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    value=NUMBERS,
    field=st.sampled_from(
        ["camera_id", "threshold", "duration_s", "min_share", "min_faces", "cooldown_s", "escalate_after_s", "hours"]
    ),
)
def test_number_fields_accept_what_the_document_accepts(doc, value, field):
    body = {"emotion": "joy", "threshold": 0.5, "duration_s": 5, field: value}
    assert _component_validator(doc, "RuleSimulation").is_valid(body) == _accepted(schemas.RuleSimulation, body), body


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    value=st.one_of(
        st.text(alphabet="0123456789abcdefABCDEF-x ", max_size=12), st.integers(0, 2**40).map(lambda n: format(n, "x"))
    )
)
def test_cursor_pattern_is_exactly_what_decodes(value):
    in_pattern = re.search(CURSOR_PATTERN, value) is not None
    try:
        last = decode_cursor(value)
    except ServiceError:
        assert not in_pattern, value
    else:
        assert in_pattern and 0 <= last <= 2**31 - 1 and decode_cursor(encode_cursor(last)) == last


def test_space_is_what_strip_removes_besides_control_characters():
    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace() and unicodedata.category(chr(c)) != "Cc"}
    assert {c for c in spaces if re.fullmatch(f"[{schemas.SPACE}]", c)} == spaces
    assert not re.search(f"[{schemas.SPACE}]", "".join(chr(c) for c in range(0x21, 0x3000) if not chr(c).isspace()))


def test_decimal_range_is_exact():
    pattern = re.compile(f"(?:{decimal_range(2**31 - 1)})")
    for n in [0, 1, 9, 10, 2**31 - 1, 2**31, 2**32, 10**10, 1999999999, 2147483639, 2147483640]:
        assert bool(pattern.fullmatch(str(n))) == (1 <= n <= 2**31 - 1), n
    rng = random.Random(7)
    for _ in range(20000):
        n = rng.randrange(0, 2**33)
        assert bool(pattern.fullmatch(str(n))) == (1 <= n <= 2**31 - 1), n
    assert not pattern.fullmatch("01") and not pattern.fullmatch("١")
    for maximum in (1, 9, 10, 99, 100, 365, 1000):
        small = re.compile(f"(?:{decimal_range(maximum)})")
        assert [n for n in range(0, 1200) if small.fullmatch(str(n))] == list(range(1, maximum + 1))


def test_nesting_is_measured_outside_strings():
    assert not nesting_exceeds("[" * 32 + "]" * 32) and nesting_exceeds("[" * 33 + "]" * 33)
    assert not nesting_exceeds('["' + "[" * 100 + '"]') and not nesting_exceeds('["\\"' + "{" * 100 + '"]')
    assert nesting_exceeds('{"a": "\\\\", "b": ' + "[" * 40 + "]" * 40 + "}")
    assert nesting_exceeds("[{" * 17 + "}]" * 17) and not nesting_exceeds("[{" * 16 + "}]" * 16)
    assert not nesting_exceeds("[" + "[], " * 10000 + "[]]")  # wide is fine, only deep is refused
