"""schemathesis over the whole OpenAPI document.

In process (WSGI), on SQLite and PostgreSQL: every built-in check (server errors, status codes, content types,
response headers and schemas, negative data refused, positive data accepted, auth enforced, 405 with
Allow...). Then the original run against the app started as `make run` (a process test).
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api.schemas import ZONES
from tests.conftest import Tenant
from tests.processes import ApiClient

MAX_EXAMPLES = 6  # per operation and generation phase, both databases: about a minute on two cores
SOME_ZONES = set(sorted(ZONES)[::40])


class World:
    """The fuzzing tenant: an admin token, one object of each kind for positive ids to point at, and
    fresh ones for DELETE (so that a deletion never takes away what later cases use)."""

    def __init__(self, app, client):
        from datetime import UTC, datetime

        from app.extensions import db
        from app.models import Alert, User, Webhook, WebhookDelivery
        from app.models import Tenant as TenantRow
        from app.services import observations

        self.app = app
        self.serial = itertools.count()
        self.tenant = Tenant(client, "Fuzz Org")
        self.site = self.tenant.site("Gate")
        self.camera = self.tenant.camera(self.site["id"])
        rule = self.tenant.call(
            "POST",
            "/api/v1/alert-rules",
            json={"camera_id": self.camera["id"], "emotion": "joy", "threshold": 0.5, "duration_s": 5},
        )
        assert rule.status_code == 201, rule.get_json()
        self.rule = rule.get_json()
        self.staff, _ = self.tenant.user("staff")
        with app.app_context():
            tenant = db.session.get(TenantRow, self.tenant.id)
            tenant.max_cameras, tenant.max_total_fps = 10**6, 10**7  # POST /cameras may succeed many times
            alert = Alert(
                tenant_id=self.tenant.id,
                rule_id=self.rule["id"],
                site_id=self.site["id"],
                camera_id=self.camera["id"],
                emotion="joy",
                severity="warning",
                value=0.7,
                status="open",
                started_at=datetime.now(UTC),
            )
            hook = Webhook(tenant_id=self.tenant.id, url="https://hooks.example.com/in", secret="s", enabled=False)
            db.session.add_all([alert, hook])
            db.session.flush()
            db.session.add(
                WebhookDelivery(
                    tenant_id=self.tenant.id,
                    webhook_id=hook.id,
                    alert_id=alert.id,
                    event="alert.started",
                    attempt=1,
                    status_code=200,
                    ok=True,
                )
            )
            db.session.commit()
            self.alert_id, self.webhook_id = alert.id, hook.id
            face = {
                "box": [10, 10, 80, 80],
                "emotion": "happy",
                "confidence": 0.6,
                "scores": {"angry": 0.0, "disgust": 0.0, "fear": 0.1, "happy": 0.6, "sad": 0.1, "surprise": 0.0, "neutral": 0.2},
            }
            observations.record(self.tenant.id, self.site["id"], self.camera["id"], datetime.now(UTC), "fuzz", [face], 1.0)
            self.admin = db.session.get(User, self.tenant.admin_id)
            db.session.expunge(self.admin)

    def _fresh(self, path: str) -> int:
        """A new object of the kind ``path`` names, for a DELETE to remove."""
        from app.extensions import db
        from app.models import AlertRule, Webhook
        from app.models import Site as SiteRow
        from app.services import accounts, cameras, sites, tokens

        with self.app.app_context():
            if path.startswith("/users"):
                return accounts.create_user(self.tenant.id, f"gone-{next(self.serial)}@fuzz.example", "staff").id
            if path.startswith("/sites"):
                return sites.create_site(self.tenant.id, "Doomed").id
            if path.startswith("/cameras"):
                return cameras.create_camera(db.session.get(SiteRow, self.site["id"]), "Doomed")[0].id
            if path.startswith("/alert-rules"):
                row = AlertRule(tenant_id=self.tenant.id, site_id=self.site["id"], emotion="joy", threshold=0.5, duration_s=5)
            elif path.startswith("/webhooks"):
                row = Webhook(tenant_id=self.tenant.id, url="https://hooks.example.com/gone", secret="s")
            else:
                return tokens.issue_token(db.session.merge(self.admin), name="doomed")[1].id
            db.session.add(row)
            db.session.commit()
            return row.id

    def _stable(self, path: str) -> int:
        for prefix, value in (
            ("/users", self.staff["id"]),
            ("/sites", self.site["id"]),
            ("/cameras", self.camera["id"]),
            ("/alert-rules", self.rule["id"]),
            ("/alerts", self.alert_id),
            ("/webhooks", self.webhook_id),
        ):
            if path.startswith(prefix):
                return value
        raise AssertionError(path)

    def prepare(self, case) -> dict | None:
        """Point the valid ids of ``case`` at this tenant's objects (random ones are 404s, fine but shallow),
        and return the headers to send; None: a case not worth sending."""
        meta = case.meta
        path = case.operation.path
        zone = case.body.get("timezone") if isinstance(case.body, dict) else None
        if meta is not None and meta.phase.name == "coverage" and isinstance(zone, str) and zone in ZONES - SOME_ZONES:
            return None  # the coverage phase sends each of the ~600 zones of the enum: a few say as much

        def positive(location: ParameterLocation) -> bool:
            return meta is None or location not in meta.components or meta.components[location].mode.is_positive

        if "{id}" in path and positive(ParameterLocation.PATH) and isinstance(case.path_parameters.get("id"), int):
            case.path_parameters["id"] = self._fresh(path) if case.method == "DELETE" else self._stable(path)
        if isinstance(case.body, dict) and positive(ParameterLocation.BODY):
            for key, value in (("site_id", self.site["id"]), ("camera_id", self.camera["id"])):
                if isinstance(case.body.get(key), int | float) and not isinstance(case.body[key], bool):
                    case.body[key] = value
            if isinstance(case.body.get("site_ids"), list):
                case.body["site_ids"] = [self.site["id"] for _ in case.body["site_ids"]]
        if isinstance(case.query, dict) and positive(ParameterLocation.QUERY):
            for key, value in (("site_id", self.site["id"]), ("camera_id", self.camera["id"])):
                if key in case.query:
                    case.query[key] = value
        if (case.method, path) == ("DELETE", "/tokens/current"):  # revoke a token of its own, not the fuzzer's
            with self.app.app_context():
                from app.extensions import db
                from app.services import tokens

                return {"Authorization": "Bearer " + tokens.issue_token(db.session.merge(self.admin), name="x")[0]}
        return {}


# Valid per the document, refused (400, same error format) by a rule that JSON Schema cannot state.
SEMANTIC_REFUSALS = [
    # common or personal passwords: accounts.check_password_strength
    lambda op, code, fields, case: code == "weak_password",
    # a destination must resolve to a public address: outbound.check_url (there is no DNS here)
    lambda op, code, fields, case: op == "POST /webhooks" and code == "url_not_allowed",
    # a rule names a camera or a site, and its daily window has both ends (stored values count on PATCH)
    lambda op, code, fields, case: "alert-rules" in op and fields in ({"camera_id": "required"}, {"active_to": "required"}),
    # a site's setting and purpose are declared together (or the other was declared before)
    lambda op, code, fields, case: op.startswith(("POST /sites", "PATCH /sites")) and set(fields) <= {"setting", "purpose"},
    # a report covers at most 366 days between 2000 and 2100, 'from' before 'to'
    lambda op, code, fields, case: op == "GET /reports/emotions" and fields in ({"from": "invalid"}, {"to": "invalid"}),
    # a camera's source fields follow its kind: only a stream camera has a source URL, which must be a
    # well-formed rtsp/http(s) URL whose host resolves into STREAM_SOURCES_ALLOW (empty in tests)
    lambda op, code, fields, case: (
        "/cameras" in op
        and code in ("validation_error", "invalid_source_url", "source_not_allowed")
        and set(fields) <= {"source_url", "username", "password"}
        and bool(fields)
    ),
    # names that are never a mailbox (.invalid, .local, .localhost...: accounts.check_email); JSON Schema's
    # email format allows them
    lambda op, code, fields, case: (
        fields == {"email": "invalid"}
        and str((case.body or {}).get("email")).rstrip(".").rpartition(".")[2].lower()
        in {"invalid", "local", "localhost", "onion", "arpa"}
    ),
]


def positive_data_accepted(ctx, response, case):
    """positive_data_acceptance, but for the refusals listed in SEMANTIC_REFUSALS."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except (AssertionError, FailureGroup):
        error = (response.json() or {}).get("error", {}) if response.status_code == 400 else {}
        op = f"{case.method} {case.operation.path}"
        if error and any(rule(op, error.get("code"), error.get("fields", {}), case) for rule in SEMANTIC_REFUSALS):
            return None
        raise


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis 4.32 names each operation's subtest through Node._nodeid, which pytest 9.2 renamed
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def world(app, client) -> World:
    return World(app, client)


@pytest.fixture
def api_schema(app, world):
    # The token as the document's bearer scheme: schemathesis then knows that auth is given (it would
    # otherwise also send a mangled cookie or Authorization of its own as "negative data").
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearer": {"bearer": world.tenant.token}}}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, world):
    headers = world.prepare(case)
    if headers is None:
        return
    case.call_and_validate(headers=headers, checks=all_checks())


def all_checks() -> list:
    """Every built-in check, positive_data_acceptance as positive_data_accepted. Those that need a
    stateful run's history (use_after_free, ensure_resource_availability, object_level_authorization)
    pass through here without a verdict."""
    load_all_checks()
    return [check for check in CHECKS.get_all() if check is not positive_data_acceptance] + [positive_data_accepted]


@pytest.mark.process
def test_openapi_fuzz_finds_no_server_error(embedded):
    base, proc = embedded
    tenant = ApiClient(base, "Fuzz")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            base + "/api/v1/openapi.json",
            "-H",
            f"Authorization: Bearer {tenant.token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--exclude-path",
            "/tokens/current",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "passed" in result.stdout
    assert "Traceback" not in proc.output()
