"""The cross-tenant matrix, on SQLite and PostgreSQL alike.

Every route of ``app.url_map`` that takes an object id is called by tenant A's admin with each of
tenant B's objects (404, nothing of B shown, nothing anywhere changed) and by A's site-limited
manager with the objects of A's other site; the same call on an object of A's own shows that the
body is one that works. Routes without an id are listed on purpose below. Then: deleted or erased
ids are never given again, and deletes leave no row that references what went.
"""

from __future__ import annotations

import io
import itertools
import shutil
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import url_for
from pypdf import PdfReader
from sqlalchemy import exists, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.extensions import db
from app.models import Alert, ApiToken, GeneratedReport, ReportSchedule, TenantErasure, WebhookDelivery
from app.models.base import utcnow
from app.services import observations
from app.services.reports import schedules as report_schedules
from tests.conftest import Tenant, _testing, truncate_all

PASSWORD = "secret-pass-9"
LOCAL = "127.0.0.0/8"  # webhook receivers here are local; by default only public addresses are allowed
SCORES = {"angry": 0.0, "disgust": 0.0, "fear": 0.5, "happy": 0.1, "sad": 0.2, "surprise": 0.0, "neutral": 0.2}
FACE = {"box": [10, 10, 80, 80], "emotion": "fear", "confidence": 0.5, "scores": SCORES}

# Path parameters that name an object, and the kind of object.
OBJECT_PARAMS = {
    "site_id": "site",
    "camera_id": "camera",
    "user_id": "user",
    "rule_id": "rule",
    "alert_id": "alert",
    "hook_id": "webhook",
    "schedule_id": "schedule",
    "report_id": "report",
    "token_id": "token",
}
# Kinds that belong to a site: a site-limited user must not reach those of its other sites.
SITE_BOUND = {"site", "camera", "rule", "alert", "schedule", "report"}
# Path parameters that are not ids, and the value the matrix puts there.
OTHER_PARAMS = {"fmt": "csv"}

# Routes with a parameter that is not a tenant's object looked up (each tested where it says).
NOT_LOOKUPS = {
    "live.capture": "the tablet's public page; it looks nothing up, its token is checked on connect (test below)",
    "auth.reset_password": "a signed reset token, not an id (test_accounts_pages)",
    "static": "files of the app",
}

# Routes without an object id in the path: why none is needed. As A's admin and as A's limited
# manager, each GET is scanned for what they may not see; ids they take in the query string or
# the body are tried in ARGUMENT_PROBES.
NO_ID_ROUTES = {
    "api.update_organisation": "the caller's own organisation",
    "account.change_password": "the caller's own password",
    "account.index": "the caller's own settings",
    "account.preferences": "the caller's own settings",
    "admin.onboarding_dismiss": "the admin's own tenant",
    "admin.alert_history": "A's alerts (filters probed)",
    "admin.audit_list": "A's audit trail",
    "admin.camera_create": "creates in A (site_id probed)",
    "admin.privacy_erase": "erases the admin's own tenant (test_erased_tenant_id_is_never_given_again)",
    "admin.privacy_export": "the admin's own tenant (its zip scanned)",
    "admin.privacy_settings": "the admin's own tenant",
    "admin.rules_list": "A's rules; creates in A (target probed)",
    "admin.site_create": "creates in A",
    "admin.sites_list": "A's sites",
    "admin.tokens_list": "the caller's tokens",
    "admin.users_list": "A's users; creates in A (site_ids probed)",
    "admin.webhooks_list": "A's webhooks; creates in A",
    "api.create_camera": "creates in A (site_id probed)",
    "api.create_rule": "creates in A (camera_id, site_id probed)",
    "api.create_site": "creates in A",
    "api.create_token": "credentials, not an id",
    "api.create_user": "creates in A (site_ids probed)",
    "api.create_webhook": "creates in A",
    "api.emotions_report": "A's report (site_id, camera_id probed)",
    "api.list_alerts": "A's alerts (camera_id probed)",
    "api.list_audit": "A's audit trail",
    "api.list_cameras": "A's cameras (site_id probed)",
    "api.list_observations": "A's observations (camera_id probed)",
    "api.list_rules": "A's rules",
    "api.list_sites": "A's sites",
    "api.list_tokens": "the caller's tokens",
    "api.list_users": "A's users",
    "api.list_webhooks": "A's webhooks",
    "api.me": "the caller",
    "api.openapi": "the contract, no data",
    "api.revoke_current_token": "the calling token",
    "api.signup": "a new tenant",
    "api.simulate_rule": "A's observations (camera_id, site_id probed)",
    "api.update_me": "the caller",
    "auth.forgot_password": "an e-mail address, same answer for all",
    "auth.login": "credentials",
    "auth.logout": "the caller's session",
    "auth.signup": "a new tenant",
    "live.room": "A's cameras (site_id probed)",
    "live.trend": "A's cameras' recent scores (site_id probed)",
    "main.healthz": "no data",
    "main.favicon": "a static icon",
    "main.index": "no data",
    "main.metrics": "aggregate figures, no names",
    "main.readyz": "no data",
    "main.set_language": "the caller's locale",
    "reports.download": "A's report (scope probed)",
    "reports.index": "A's report (scope probed)",
    "reports.schedules": "A's schedules; creates in A (scope, recipients probed)",
}

# (scenario, endpoint, method) -> why it fails today, where the fix belongs outside these views.
KNOWN_FAILURES: dict[tuple[str, str, str], str] = {}


def _url_rules() -> list[tuple[str, list[str], list[str]]]:
    app = create_app(_testing())
    return sorted((r.endpoint, sorted(r.arguments), sorted(r.methods - {"HEAD", "OPTIONS"})) for r in app.url_map.iter_rules())


URL_RULES = _url_rules()


def _matrix() -> list:
    cases = []
    for endpoint, args, methods in URL_RULES:
        kinds = [OBJECT_PARAMS[a] for a in args if a in OBJECT_PARAMS]
        if not kinds or endpoint in NOT_LOOKUPS:
            continue
        for method, scenario in itertools.product(methods, ("cross_tenant", "site_limited")):
            # Users, webhooks and tokens belong to no site: roles decide there (test_api_tenancy).
            if scenario == "site_limited" and not set(kinds) <= SITE_BOUND:
                continue
            reason = KNOWN_FAILURES.get((scenario, endpoint, method))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(scenario, endpoint, method, id=f"{scenario}-{endpoint}-{method}", marks=marks))
    return cases


MATRIX = _matrix()


# The database, seen generically through db.metadata ------------------------------------------

VOLATILE = {("api_tokens", "last_used_at")}  # written by every authenticated API call


def _tenant_condition(table, tenant_id: int):
    """Rows of ``table`` that belong to the tenant; None for a table of no tenant (erasure log)."""
    if table.name == "tenants":
        return table.c.id == tenant_id
    if "tenant_id" in table.c and table.name != "tenant_erasures":
        return table.c.tenant_id == tenant_id
    for fk in table.foreign_keys:  # user_sites: through its parent
        parent = fk.column.table
        if "tenant_id" in parent.c:
            return fk.parent.in_(select(fk.column).where(parent.c.tenant_id == tenant_id))
    return None


def snapshot(app, tenant_id: int | None = None, site_id: int | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (or of one tenant, or of one site), by primary key."""
    with app.app_context():
        rows = {}
        for table in db.metadata.sorted_tables:
            stmt = select(*(c for c in table.c if (table.name, c.name) not in VOLATILE)).order_by(*table.primary_key.columns)
            if tenant_id is not None:
                condition = _tenant_condition(table, tenant_id)
                if condition is None:
                    continue
                stmt = stmt.where(condition)
            if site_id is not None:
                if table.name != "sites" and "site_id" not in table.c:
                    continue
                stmt = stmt.where(table.c.id == site_id if table.name == "sites" else table.c.site_id == site_id)
            rows[table.name] = [tuple(r) for r in db.session.execute(stmt)]
        return rows


def changes(before: dict, after: dict) -> list[str]:
    return [
        f"{name}: {len(before[name])} -> {len(after[name])} rows"
        + (" (changed)" if len(before[name]) == len(after[name]) else "")
        for name in before
        if before[name] != after[name]
    ]


def orphans(app) -> list[str]:
    """Rows whose foreign key names a row that does not exist."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for fk in table.foreign_keys:
                parent = fk.column.table
                count = db.session.scalar(
                    select(func.count()).select_from(table).where(fk.parent.is_not(None), ~exists().where(fk.column == fk.parent))
                )
                if count:
                    found.append(f"{table.name}.{fk.parent.name} -> {parent.name}: {count}")
    return found


def references(app, table_name: str, ids) -> list[str]:
    """Rows of any table whose foreign key column holds one of these ids of ``table_name``."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table.name == table_name:
                    count = db.session.scalar(select(func.count()).select_from(table).where(fk.parent.in_(list(ids))))
                    if count:
                        found.append(f"{table.name}.{fk.parent.name}: {count}")
    return found


def cross_tenant_references(app) -> list[str]:
    """Rows of one tenant that point at a row of another (user_sites through its user)."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            owners = [fk for fk in table.foreign_keys if "tenant_id" in fk.column.table.c and fk.column.table.name != "tenants"]
            if "tenant_id" in table.c:
                own = table.c.tenant_id
            elif owners:
                first = owners[0]
                own = select(first.column.table.c.tenant_id).where(first.column == first.parent).scalar_subquery()
            else:
                continue
            for fk in owners:
                parent = fk.column.table
                theirs = select(parent.c.tenant_id).where(fk.column == fk.parent).scalar_subquery()
                count = db.session.scalar(select(func.count()).select_from(table).where(fk.parent.is_not(None), own != theirs))
                if count:
                    found.append(f"{table.name}.{fk.parent.name} -> {parent.name} of another tenant: {count}")
    return found


def shown(response) -> str:
    """All a response shows, lower case: headers, body, the text of a PDF, the files of a zip."""
    data = response.get_data()
    parts = [str(response.headers), data.decode("utf-8", "replace")]
    if data.startswith(b"%PDF"):
        parts += [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]
    elif data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
    return "\n".join(parts).lower()


def signed_in(app, email: str, password: str):
    """A browser session: a test client signed in through the login page."""
    browser = app.test_client()
    r = browser.post("/auth/login", data={"email": email, "password": password})
    assert r.status_code == 302, r.status_code
    return browser


# Two tenants with an object of every kind ---------------------------------------------------


@dataclass
class Actor:
    id: int
    email: str
    token: str
    session: object  # a signed-in test client


@dataclass
class Org:
    label: str
    tenant: Tenant
    ids: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> name -> id
    actors: dict[str, Actor] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return f"{self.label.lower()}-org.example"


def build_org(app, label: str, actors: tuple[str, ...] = (), real_reports: bool = False) -> Org:
    """Sites north and south, a camera, a rule, an alert, a schedule and a report on each (and a
    whole-tenant schedule and report), users of each role (limited to north or not), a webhook with
    a delivery, observations, tokens, audit entries."""
    tenant = Tenant(app.test_client(use_cookies=False), f"{label} Org")
    org = Org(label, tenant)
    ok = lambda r: r.get_json()["id"] if r.status_code == 201 else pytest.fail(r.get_data(as_text=True))  # noqa: E731
    sites = {part: tenant.site(f"{label} {part.title()}")["id"] for part in ("north", "south")}
    cams = {part: tenant.camera(sites[part], f"{label} {part.title()} tablet")["id"] for part in sites}
    assert (
        tenant.call(
            "PATCH", f"/api/v1/sites/{sites['north']}", json={"setting": "retail", "purpose": "customer_experience"}
        ).status_code
        == 200
    )
    users = {"admin": tenant.admin_id}
    for name, role, scope in (
        ("manager_north", "manager", [sites["north"]]),
        ("staff_north", "staff", [sites["north"]]),
        ("manager_all", "manager", []),
        ("staff_all", "staff", []),
    ):
        users[name] = ok(
            tenant.call(
                "POST",
                "/api/v1/users",
                json={"email": f"{name.replace('_', '-')}@{org.domain}", "password": PASSWORD, "role": role, "site_ids": scope},
            )
        )
    rules = {
        part: ok(
            tenant.call(
                "POST",
                "/api/v1/alert-rules",
                json={
                    "camera_id" if part == "north" else "site_id": cams[part] if part == "north" else sites[part],
                    "name": f"{label} {part.title()} rule",
                    "emotion": "distress",
                    "threshold": 0.6,
                    "duration_s": 20,
                },
            )
        )
        for part in sites
    }
    hook = ok(tenant.call("POST", "/api/v1/webhooks", json={"url": f"http://127.0.0.1:9/{label.lower()}-hook"}))
    with app.app_context():
        alerts = {}
        for part in sites:
            for second in range(3):
                observations.record(
                    tenant.id, sites[part], cams[part], utcnow() - timedelta(minutes=10, seconds=second), "test", [FACE], 5.0
                )
            alert = Alert(
                tenant_id=tenant.id,
                rule_id=rules[part],
                site_id=sites[part],
                camera_id=cams[part],
                emotion="distress",
                value=0.8,
                started_at=utcnow() - timedelta(minutes=5),
                note=f"{label} {part.title()} note",
            )
            if part == "north":
                alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", utcnow(), users["manager_north"]
            db.session.add(alert)
            db.session.flush()
            alerts[part] = alert.id
        db.session.add(
            WebhookDelivery(
                tenant_id=tenant.id, webhook_id=hook, alert_id=alerts["north"], event="alert.created", error=f"{label} delivery"
            )
        )
        schedules, reports = {}, {}
        for part in ("north", "south", "tenant"):  # tenant: the whole tenant's, which a site-limited user may not read
            schedule = report_schedules.create_schedule(
                tenant.id, users["admin"], "monthly", "en", [users["admin"], users["manager_north"]], site_id=sites.get(part)
            )
            schedules[part] = schedule.id
            if real_reports:  # as the scheduler makes them (a PDF takes a second)
                reports[part] = report_schedules.run_schedule(schedule).id
            else:
                names = [f"{label} {p.title()}" for p in sites if part in (p, "tenant")]
                stored = GeneratedReport(
                    tenant_id=tenant.id,
                    schedule_id=schedule.id,
                    site_id=sites.get(part),
                    frequency="monthly",
                    language="en",
                    period_from=utcnow().date(),
                    period_to=utcnow().date(),
                    scope_label=names[0] if len(names) == 1 else f"{label} Org",
                    pdf=b"%PDF-1.4\n%%EOF\n",
                    csv="scope\n" + "\n".join(names) + "\n",
                )
                db.session.add(stored)
                db.session.flush()
                reports[part] = stored.id
        db.session.commit()
        tokens = db.session.scalars(select(ApiToken.id).where(ApiToken.tenant_id == tenant.id)).all()
    org.ids = {
        "site": sites,
        "camera": cams,
        "user": users,
        "rule": rules,
        "alert": alerts,
        "webhook": {"hook": hook},
        "schedule": schedules,
        "report": reports,
        "token": {str(t): t for t in tokens},
    }
    for name in actors:
        email = tenant.email if name == "admin" else f"{name.replace('_', '-')}@{org.domain}"
        password = "secret-pass-1" if name == "admin" else PASSWORD
        token = (
            tenant.token
            if name == "admin"
            else tenant.client.post("/api/v1/tokens", json={"email": email, "password": password}).get_json()["token"]
        )
        org.actors[name] = Actor(users[name], email, token, signed_in(app, email, password))
    return org


class World:
    """Tenant A (whose admin and north-limited manager call) and tenant B, on one database; built
    again should a check (or another test truncating PostgreSQL) have changed what checks aim at."""

    def __init__(self, kind: str, url: str, template=None, path=None):
        self.kind, self.url, self.template, self.path = kind, url, template, path
        self.build()

    def build(self) -> None:
        if self.kind == "sqlite":
            shutil.copy(self.template, self.path)
        else:
            truncate_all(self.url)
        self.app = create_app(
            {
                **_testing(),
                "SQLALCHEMY_DATABASE_URI": self.url,
                "PUBLIC_URL": "https://emotiscan.test",
                "WEBHOOK_BACKOFF_S": 0,
                "OUTBOUND_ALLOW_NETWORKS": LOCAL,
            }
        )
        self.api = self.app.test_client(use_cookies=False)
        self.a = build_org(self.app, "Alphamx", actors=("admin", "manager_north"))
        self.b = build_org(self.app, "Betamx", real_reports=True)
        self.baseline = self.targets()

    def targets(self) -> tuple[dict, dict]:
        """What the checks aim at and must never change: B's rows, and those of A's south site."""
        return snapshot(self.app, self.b.tenant.id), snapshot(self.app, site_id=self.a.ids["site"]["south"])

    def ensure(self) -> None:
        if self.targets() != self.baseline:
            self.close()
            self.build()

    def close(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def send(self, actor: Actor, method: str, url: str, body=None, query=None):
        """An API call with the actor's token, a page with its session cookie."""
        if url.startswith("/api/"):
            return self.api.open(
                url, method=method, json=body, query_string=query, headers={"Authorization": f"Bearer {actor.token}"}
            )
        return actor.session.open(url, method=method, data=body, query_string=query)

    def path_for(self, endpoint: str, values: dict) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **values)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory, sqlite_template):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "app.db"
        built = World("sqlite", f"sqlite:///{path}", sqlite_template, path)
    else:
        built = World("postgresql", request.getfixturevalue("pg_database"))
    yield built
    built.close()
    if built.kind == "postgresql":
        truncate_all(built.url)


# Bodies that do something on an object of one's own ----------------------------------------


def _rule_form(site_id: int) -> dict:
    return {
        "name": "Changed by A",
        "target": f"site:{site_id}",
        "emotion": "distress",
        "threshold": "0.55",
        "duration_s": "25",
        "min_share": "0.6",
        "min_faces": "1",
        "cooldown_s": "300",
        "severity": "warning",
        "enabled": "y",
        "submit": "y",
    }


BODIES = {
    ("api.update_site", "PATCH"): lambda own: {"name": "Changed by A", "timezone": "Europe/Lisbon"},
    ("api.update_camera", "PATCH"): lambda own: {"name": "Changed by A", "fps": 2},
    ("api.rotate_token", "POST"): lambda own: {},
    ("api.update_rule", "PATCH"): lambda own: {"threshold": 0.11, "enabled": False},
    ("api.update_user", "PATCH"): lambda own: {"role": "manager", "notify_alerts": True},
    ("api.acknowledge_alert", "POST"): lambda own: {"note": "Acknowledged by A"},
    ("admin.site_detail", "POST"): lambda own: {"name": "Changed by A", "timezone": "Europe/Lisbon"},
    ("admin.site_purpose", "POST"): lambda own: {"setting": "hospitality", "purpose": "customer_experience"},
    ("admin.camera_detail", "POST"): lambda own: {"name": "Changed by A", "fps": "2", "site_id": own},
    ("admin.rule_detail", "POST"): lambda own: _rule_form(own),
    ("admin.user_detail", "POST"): lambda own: {
        "email": f"changed-{uuid.uuid4().hex[:8]}@alphamx-org.example",
        "role": "manager",
    },
}


def body_for(endpoint: str, method: str, own_site: int):
    if method in ("GET", "DELETE"):
        return None
    make = BODIES.get((endpoint, method))
    if make is not None:
        return make(own_site)
    # A ConfirmForm is all that delete, rotate, unlock and revoke pages ask for.
    return {"name": "Changed by A"} if endpoint.startswith("api.") else {"submit": "y"}


def fresh(world: World, kind: str) -> int:
    """A new object of A's, on its north site (which its limited manager sees)."""
    a = world.a
    north, camera = a.ids["site"]["north"], a.ids["camera"]["north"]
    ok = lambda r: r.get_json()["id"] if r.status_code in (200, 201) else pytest.fail(r.get_data(as_text=True))  # noqa: E731
    if kind == "site":
        return ok(a.tenant.call("POST", "/api/v1/sites", json={"name": "Alphamx fresh site"}))
    if kind == "camera":
        return ok(a.tenant.call("POST", "/api/v1/cameras", json={"site_id": north, "name": "Alphamx fresh camera"}))
    if kind == "user":
        return ok(
            a.tenant.call(
                "POST",
                "/api/v1/users",
                # Invited (no password yet): the invitation's resend and withdraw routes act on it too.
                json={"email": f"fresh-{uuid.uuid4().hex[:8]}@{a.domain}", "role": "staff"},
            )
        )
    if kind == "rule":
        return ok(
            a.tenant.call(
                "POST", "/api/v1/alert-rules", json={"site_id": north, "emotion": "distress", "threshold": 0.6, "duration_s": 20}
            )
        )
    if kind == "webhook":
        return ok(a.tenant.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/alphamx-fresh"}))
    if kind == "token":
        return ok(a.tenant.client.post("/api/v1/tokens", json={"email": a.tenant.email, "password": "secret-pass-1"}))
    with world.app.app_context():
        if kind == "alert":
            row = Alert(
                tenant_id=a.tenant.id,
                rule_id=a.ids["rule"]["north"],
                site_id=north,
                camera_id=camera,
                emotion="distress",
                value=0.7,
                started_at=utcnow(),
            )
        elif kind == "schedule":
            row = ReportSchedule(tenant_id=a.tenant.id, site_id=north, frequency="weekly", language="en", recipient_ids=[])
        else:
            row = GeneratedReport(
                tenant_id=a.tenant.id,
                site_id=north,
                frequency="weekly",
                language="en",
                period_from=utcnow().date(),
                period_to=utcnow().date(),
                scope_label="Alphamx fresh",
                pdf=b"%PDF-1.4\n%%EOF\n",
                csv="scope\nAlphamx fresh\n",
            )
        db.session.add(row)
        db.session.commit()
        return row.id


# 1 and 4: every route with an object id -----------------------------------------------------


@pytest.mark.parametrize("scenario,endpoint,method", MATRIX)
def test_other_objects_are_404_on_every_route(world, scenario, endpoint, method):
    world.ensure()
    args = next(args for e, args, _ in URL_RULES if e == endpoint)
    kinds = {a: OBJECT_PARAMS[a] for a in args if a in OBJECT_PARAMS}
    if scenario == "cross_tenant":
        actor, markers = world.a.actors["admin"], ("betamx",)
        targets = {p: sorted(world.b.ids[k].values()) for p, k in kinds.items()}
    else:  # the manager limited to A's north site, and A's south objects
        actor, markers = world.a.actors["manager_north"], ("betamx", "alphamx south")
        targets = {p: [world.a.ids[k][n] for n in ("south", "tenant") if n in world.a.ids[k]] for p, k in kinds.items()}
    own_site = world.a.ids["site"]["north"]
    problems = []
    for combination in itertools.product(*targets.values()):
        values = {**{p: v for p, v in OTHER_PARAMS.items() if p in args}, **dict(zip(targets, combination, strict=True))}
        url = world.path_for(endpoint, values)
        before = snapshot(world.app)
        r = world.send(actor, method, url, body_for(endpoint, method, own_site))
        if r.status_code != 404:
            problems.append(f"{method} {url}: {r.status_code}, not 404")
        elif endpoint.startswith("api.") and r.get_json()["error"]["code"] != "not_found":
            problems.append(f"{method} {url}: error {r.get_json()['error']}")
        problems += [f"{method} {url} shows {m!r}" for m in markers if m in shown(r)]
        problems += [f"{method} {url} changed {c}" for c in changes(before, snapshot(world.app))]
    # The same call on an object of A's own that the actor may see does reach it: the 404 above
    # comes from the lookup, not from a wrong path, method or body.
    values = {
        **{p: v for p, v in OTHER_PARAMS.items() if p in args},
        **{p: own_site if k == "site" and scenario == "site_limited" else fresh(world, k) for p, k in kinds.items()},
    }
    url = world.path_for(endpoint, values)
    before = snapshot(world.app)
    r = world.send(actor, method, url, body_for(endpoint, method, own_site))
    changed = changes(before, snapshot(world.app))
    if scenario == "cross_tenant" and not (r.status_code < 400 and (method == "GET" or changed)):
        problems.append(f"control {method} {url} on A's own object: {r.status_code}, changed {changed or 'nothing'}")
    if scenario == "site_limited" and (r.status_code == 404 or r.status_code >= 500):
        problems.append(f"control {method} {url} on the manager's own site: {r.status_code}")
    assert not problems, "\n".join(problems)


def test_every_route_is_in_the_matrix_or_listed():
    endpoints = {e for e, _, _ in URL_RULES}
    unclassified = []
    for endpoint, args, _ in URL_RULES:
        if endpoint in NOT_LOOKUPS:
            continue
        unknown = [a for a in args if a not in OBJECT_PARAMS and a not in OTHER_PARAMS]
        takes_id = any(a in OBJECT_PARAMS for a in args)
        if unknown or (not takes_id and endpoint not in NO_ID_ROUTES) or (takes_id and endpoint in NO_ID_ROUTES):
            unclassified.append(f"{endpoint} {args}")
    assert not unclassified, "add these to OBJECT_PARAMS, OTHER_PARAMS, NOT_LOOKUPS or NO_ID_ROUTES:\n" + "\n".join(unclassified)
    stale = (
        set(NO_ID_ROUTES) | set(NOT_LOOKUPS) | {e for _, e, _ in KNOWN_FAILURES} | {p.endpoint for p in ARGUMENT_PROBES}
    ) - endpoints
    assert not stale, stale
    in_matrix = {p.values[1] for p in MATRIX}
    assert in_matrix == {e for e, args, _ in URL_RULES if set(args) & set(OBJECT_PARAMS) and e not in NOT_LOOKUPS}


# Routes without an id: nothing of B (nor of the other site) on any page ---------------------


@pytest.mark.parametrize("role", ["admin", "manager_north"])
def test_routes_without_ids_show_nothing_of_others(world, role):
    world.ensure()
    actor = world.a.actors[role]
    markers = ("betamx",) if role == "admin" else ("betamx", "alphamx south")
    problems = []
    for endpoint, args, methods in URL_RULES:
        if args or "GET" not in methods:
            continue
        url = world.path_for(endpoint, {})
        before = snapshot(world.app)
        r = world.send(actor, "GET", url)
        if r.status_code >= 500:
            problems.append(f"GET {url}: {r.status_code}")
        problems += [f"GET {url} shows {m!r}" for m in markers if m in shown(r)]
        problems += [f"GET {url} changed {c}" for c in changes(before, snapshot(world.app))]
    if role == "admin":
        export = world.send(actor, "POST", world.path_for("admin.privacy_export", {}), {"submit": "y"})
        assert export.status_code == 200 and "alphamx north" in shown(export)  # the scan reads the zip
        problems += [f"the export shows {m!r}" for m in markers if m in shown(export)]
    assert not problems, "\n".join(problems)


def test_the_scan_reads_every_format(world):
    """The names of A's own objects are found where they are shown: the scan above could fail."""
    world.ensure()
    admin, a = world.a.actors["admin"], world.a
    north = a.ids["site"]["north"]
    assert "alphamx north" in shown(world.send(admin, "GET", f"/admin/sites/{north}"))
    assert "alphamx north" in shown(world.send(admin, "GET", f"/api/v1/sites/{north}"))
    assert "alphamx north" in shown(world.send(admin, "GET", f"/admin/sites/{north}/notice.pdf"))
    assert "alphamx north note" in shown(world.send(admin, "GET", "/admin/alerts"))
    assert "alphamx north" in shown(world.send(admin, "GET", f"/reports/files/{a.ids['report']['north']}.csv"))
    for fmt in ("csv", "pdf"):  # the whole tenant's report names both sites: a limited one's would show the other
        assert "alphamx south" in shown(world.send(admin, "GET", f"/reports/download.{fmt}", query={"period": "this_month"}))
    b_report = world.b.ids["report"]["north"]
    assert "betamx north" in shown(world.b.tenant.call("GET", "/api/v1/sites"))
    with world.app.app_context():  # B's real report PDF: its text is read
        pdf = db.session.get(GeneratedReport, b_report).pdf
    assert "betamx north" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).lower()


def test_capture_page_names_nothing(world):
    world.ensure()
    for camera_id in world.b.ids["camera"].values():
        r = world.app.test_client().get(f"/capture/{camera_id}")
        assert r.status_code == 200 and "betamx" not in shown(r)


# Ids in query strings and bodies ------------------------------------------------------------


@dataclass
class Probe:
    name: str
    actor: str  # admin: B's ids; manager_north: A's south ids
    endpoint: str
    method: str
    path: dict = field(default_factory=dict)  # (kind, name): an object of A's own
    query: dict = field(default_factory=dict)  # with placeholders for the target's ids (see _resolve)
    body: dict | None = None
    # refused: 400 or 404; filtered: 404 or an empty list (pages: nothing shown); scanned: 200, nothing shown
    outcome: str = "refused"


def _target(kind: str, name: str = "north") -> tuple:
    return ("target", kind, name)


ARGUMENT_PROBES = [
    Probe("cameras-of-site", "admin", "api.list_cameras", "GET", query={"site_id": _target("site")}, outcome="filtered"),
    Probe(
        "observations-of-camera",
        "admin",
        "api.list_observations",
        "GET",
        query={"camera_id": _target("camera")},
        outcome="filtered",
    ),
    Probe("alerts-of-camera", "admin", "api.list_alerts", "GET", query={"camera_id": _target("camera")}, outcome="filtered"),
    Probe("report-of-site", "admin", "api.emotions_report", "GET", query={"site_id": _target("site")}),
    Probe("report-of-camera", "admin", "api.emotions_report", "GET", query={"camera_id": _target("camera"), "format": "csv"}),
    Probe("camera-on-site", "admin", "api.create_camera", "POST", body={"site_id": _target("site"), "name": "Spy"}),
    Probe(
        "rule-on-camera",
        "admin",
        "api.create_rule",
        "POST",
        body={"camera_id": _target("camera"), "emotion": "distress", "threshold": 0.5, "duration_s": 10},
    ),
    Probe(
        "rule-on-site",
        "admin",
        "api.create_rule",
        "POST",
        body={"site_id": _target("site"), "emotion": "distress", "threshold": 0.5, "duration_s": 10},
    ),
    Probe(
        "simulate-on-camera",
        "admin",
        "api.simulate_rule",
        "POST",
        body={"camera_id": _target("camera"), "emotion": "distress", "threshold": 0.1, "duration_s": 1},
    ),
    Probe(
        "simulate-on-site",
        "admin",
        "api.simulate_rule",
        "POST",
        body={"site_id": _target("site"), "emotion": "distress", "threshold": 0.1, "duration_s": 1},
    ),
    Probe(
        "user-with-site",
        "admin",
        "api.create_user",
        "POST",
        body={"email": "spy@alphamx-org.example", "password": PASSWORD, "role": "staff", "site_ids": [_target("site")]},
    ),
    Probe(
        "user-moved-to-site",
        "admin",
        "api.update_user",
        "PATCH",
        path={"user_id": ("user", "staff_north")},
        body={"site_ids": [_target("site")]},
    ),
    Probe(
        "camera-moved-to-site",
        "admin",
        "api.update_camera",
        "PATCH",
        path={"camera_id": ("camera", "north")},
        body={"site_id": _target("site")},
    ),
    Probe(
        "rule-moved-to-camera",
        "admin",
        "api.update_rule",
        "PATCH",
        path={"rule_id": ("rule", "north")},
        body={"camera_id": _target("camera")},
    ),
    Probe(
        "rule-moved-to-site",
        "admin",
        "api.update_rule",
        "PATCH",
        path={"rule_id": ("rule", "north")},
        body={"site_id": _target("site"), "camera_id": None},
    ),
    Probe("live-of-site", "admin", "live.room", "GET", query={"site_id": _target("site")}),
    Probe("live-trend-of-site", "admin", "live.trend", "GET", query={"site_id": _target("site")}),
    Probe("history-of-site", "admin", "admin.alert_history", "GET", query={"site_id": _target("site")}, outcome="filtered"),
    Probe("history-of-camera", "admin", "admin.alert_history", "GET", query={"camera_id": _target("camera")}, outcome="filtered"),
    Probe("history-of-rule", "admin", "admin.alert_history", "GET", query={"rule_id": _target("rule")}, outcome="filtered"),
    Probe("report-page-of-site", "admin", "reports.index", "GET", query={"scope": ("site:", "site", "north")}),
    Probe("report-page-of-camera", "admin", "reports.index", "GET", query={"scope": ("camera:", "camera", "north")}),
    Probe(
        "report-file-of-site",
        "admin",
        "reports.download",
        "GET",
        path={"fmt": "csv"},
        query={"scope": ("site:", "site", "north")},
    ),
    Probe(
        "schedule-of-site",
        "admin",
        "reports.schedules",
        "POST",
        body={"scope": ("site:", "site", "north"), "frequency": "weekly", "language": "en"},
    ),
    Probe(
        "schedule-to-recipient",
        "admin",
        "reports.schedules",
        "POST",
        body={"scope": "tenant", "frequency": "weekly", "language": "en", "recipients": [_target("user", "manager_all")]},
    ),
    Probe(
        "page-camera-on-site",
        "admin",
        "admin.camera_create",
        "POST",
        body={"site_id": _target("site"), "name": "Spy", "fps": "2"},
    ),
    Probe(
        "page-user-with-site",
        "admin",
        "admin.users_list",
        "POST",
        body={"email": "spy2@alphamx-org.example", "role": "staff", "password": PASSWORD, "site_ids": [_target("site")]},
    ),
    Probe("page-rule-on-site", "admin", "admin.rules_list", "POST", body={**_rule_form(0), "target": ("site:", "site", "north")}),
    Probe(
        "page-rule-on-camera",
        "admin",
        "admin.rules_list",
        "POST",
        body={**_rule_form(0), "target": ("camera:", "camera", "north")},
    ),
    Probe(
        "page-simulate-on-camera",
        "admin",
        "admin.rules_list",
        "POST",
        body={**_rule_form(0), "target": ("camera:", "camera", "north"), "simulate": "y"},
    ),
    Probe(
        "page-user-moved-to-site",
        "admin",
        "admin.user_detail",
        "POST",
        path={"user_id": ("user", "staff_north")},
        body={"email": "staff-north@alphamx-org.example", "role": "staff", "site_ids": [_target("site")]},
    ),
    Probe(
        "page-camera-moved-to-site",
        "admin",
        "admin.camera_detail",
        "POST",
        path={"camera_id": ("camera", "north")},
        body={"name": "Alphamx North tablet", "fps": "5", "site_id": _target("site")},
    ),
    Probe(
        "page-rule-moved-to-camera",
        "admin",
        "admin.rule_detail",
        "POST",
        path={"rule_id": ("rule", "north")},
        body={**_rule_form(0), "target": ("camera:", "camera", "north")},
    ),
    # A's manager limited to north, with A's south ids.
    Probe(
        "limited-cameras-of-site",
        "manager_north",
        "api.list_cameras",
        "GET",
        query={"site_id": _target("site", "south")},
        outcome="filtered",
    ),
    Probe(
        "limited-observations",
        "manager_north",
        "api.list_observations",
        "GET",
        query={"camera_id": _target("camera", "south")},
        outcome="filtered",
    ),
    Probe(
        "limited-alerts",
        "manager_north",
        "api.list_alerts",
        "GET",
        query={"camera_id": _target("camera", "south")},
        outcome="filtered",
    ),
    Probe("limited-report", "manager_north", "api.emotions_report", "GET", query={"site_id": _target("site", "south")}),
    Probe(
        "limited-simulate",
        "manager_north",
        "api.simulate_rule",
        "POST",
        body={"camera_id": _target("camera", "south"), "emotion": "distress", "threshold": 0.1, "duration_s": 1},
    ),
    Probe("limited-live", "manager_north", "live.room", "GET", query={"site_id": _target("site", "south")}),
    Probe("limited-live-trend", "manager_north", "live.trend", "GET", query={"site_id": _target("site", "south")}),
    Probe(
        "limited-history",
        "manager_north",
        "admin.alert_history",
        "GET",
        query={"site_id": _target("site", "south")},
        outcome="filtered",
    ),
    Probe("limited-report-page", "manager_north", "reports.index", "GET", query={"scope": ("site:", "site", "south")}),
    Probe(
        "limited-report-file",
        "manager_north",
        "reports.download",
        "GET",
        path={"fmt": "pdf"},
        query={"scope": ("camera:", "camera", "south")},
    ),
    Probe(
        "limited-schedule",
        "manager_north",
        "reports.schedules",
        "POST",
        body={"scope": ("site:", "site", "south"), "frequency": "weekly", "language": "en"},
    ),
    # Whole-tenant reports in every format: they cover only what the caller may see.
    *(
        Probe(
            f"{who}-tenant-report-{fmt}",
            who,
            "reports.download",
            "GET",
            path={"fmt": fmt},
            query={"period": "this_month"},
            outcome="scanned",
        )
        for who in ("admin", "manager_north")
        for fmt in ("csv", "pdf")
    ),
    *(
        Probe(f"{who}-tenant-report-api-{fmt}", who, "api.emotions_report", "GET", query={"format": fmt}, outcome="scanned")
        for who in ("admin", "manager_north")
        for fmt in ("json", "csv", "pdf")
    ),
]


def _resolve(org: Org, value):
    """Placeholders: ("target", kind, name) an id of the target org; ("site:", kind, name) a scope."""
    if isinstance(value, list):
        return [_resolve(org, v) for v in value]
    if isinstance(value, tuple) and value[0] == "target":
        return org.ids[value[1]][value[2]]
    if isinstance(value, tuple):
        return f"{value[0]}{org.ids[value[1]][value[2]]}"
    return value


@pytest.mark.parametrize("probe", ARGUMENT_PROBES, ids=lambda p: p.name)
def test_ids_in_queries_and_bodies_are_refused(world, probe):
    world.ensure()
    actor = world.a.actors[probe.actor]
    target = world.b if probe.actor == "admin" else world.a
    markers = ("betamx",) if probe.actor == "admin" else ("betamx", "alphamx south")
    path = {k: world.a.ids[v[0]][v[1]] if isinstance(v, tuple) else v for k, v in probe.path.items()}
    url = world.path_for(probe.endpoint, path)
    query = {k: _resolve(target, v) for k, v in probe.query.items()}
    body = {k: _resolve(target, v) for k, v in probe.body.items()} if probe.body is not None else None
    before = snapshot(world.app)
    r = world.send(actor, probe.method, url, body, query)
    api = probe.endpoint.startswith("api.")
    if probe.outcome == "scanned":
        assert r.status_code == 200, r.status_code
    elif probe.outcome == "filtered" and r.status_code == 200 and api:
        assert r.get_json()["items"] == [], r.get_json()
    elif probe.outcome == "filtered" and r.status_code == 200:
        pass  # a page: what it lists is scanned below
    elif api:
        assert r.status_code in (400, 404), (r.status_code, r.get_data(as_text=True)[:300])
    else:
        assert r.status_code in (200, 302, 400, 404), r.status_code  # a form shown again or refused
    assert [m for m in markers if m in shown(r)] == []
    assert changes(before, snapshot(world.app)) == []
    assert cross_tenant_references(world.app) == []


# 2: ids never given again -------------------------------------------------------------------


def _delete(via: str, tenant: Tenant, session, kind: str, object_id: int) -> None:
    api = {"users": "users", "sites": "sites", "cameras": "cameras", "alert_rules": "alert-rules", "webhooks": "webhooks"}
    page = {
        "users": "users/{}/delete",
        "sites": "sites/{}/delete",
        "cameras": "cameras/{}/delete",
        "alert_rules": "rules/{}/delete",
        "webhooks": "webhooks/{}/delete",
    }
    if via == "api":
        assert tenant.call("DELETE", f"/api/v1/{api[kind]}/{object_id}").status_code == 204
    else:
        assert session.post("/admin/" + page[kind].format(object_id), data={"submit": "y"}).status_code == 302
    get = f"/api/v1/{api[kind]}/{object_id}" if kind != "webhooks" else f"/api/v1/webhooks/{object_id}/deliveries"
    assert tenant.call("GET", get).status_code == 404, (kind, object_id)


# SQLite hands out the highest deleted id again unless the table says AUTOINCREMENT.
@pytest.mark.parametrize("via", ["api", "pages"])
def test_deleted_ids_never_come_back(request, app, client, tenant_a, tenant_b, via):
    app.config["OUTBOUND_ALLOW_NETWORKS"] = LOCAL
    kept = tenant_a.site("Alpha kept")
    gone = tenant_a.site("Alpha gone")  # the highest site id: the one SQLite would hand out again
    camera = tenant_a.camera(kept["id"], "Alpha gone tablet")
    rule = tenant_a.call(
        "POST", "/api/v1/alert-rules", json={"camera_id": camera["id"], "emotion": "distress", "threshold": 0.6, "duration_s": 20}
    ).get_json()
    hook = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/alpha"}).get_json()
    manager, manager_token = tenant_a.user("manager", site_ids=[gone["id"]])
    staff, staff_token = tenant_a.user("staff")  # the highest user id
    staff_session = signed_in(app, staff["email"], "secret-pass-2")
    manager_session = signed_in(app, manager["email"], "secret-pass-2")
    assert staff_session.get("/admin/sites").status_code == 200
    assert tenant_a.call("GET", "/api/v1/me", token=staff_token).status_code == 200
    admin_session = signed_in(app, tenant_a.email, "secret-pass-1")
    deleted = {
        "alert_rules": rule["id"],
        "cameras": camera["id"],
        "webhooks": hook["id"],
        "users": staff["id"],
        "sites": gone["id"],
    }
    for kind, object_id in deleted.items():
        _delete(via, tenant_a, admin_session, kind, object_id)
    # 3: nothing anywhere still names what was deleted.
    for kind, object_id in deleted.items():
        assert references(app, kind, [object_id]) == [], kind
    assert orphans(app) == [] and cross_tenant_references(app) == []
    # B makes one of each: without AUTOINCREMENT, SQLite would give each the id just freed.
    site_b = tenant_b.site("Beta new site")
    camera_b = tenant_b.camera(site_b["id"], "Beta new tablet")
    rule_b = tenant_b.call(
        "POST", "/api/v1/alert-rules", json={"site_id": site_b["id"], "emotion": "distress", "threshold": 0.6, "duration_s": 20}
    ).get_json()
    hook_b = tenant_b.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/beta"}).get_json()
    user_b, user_b_token = tenant_b.user("staff")
    new = {
        "alert_rules": rule_b["id"],
        "cameras": camera_b["id"],
        "webhooks": hook_b["id"],
        "users": user_b["id"],
        "sites": site_b["id"],
    }
    # The manager limited to the deleted site now sees no site at all, of A or of B.
    me = tenant_a.call("GET", "/api/v1/me", token=manager_token).get_json()["user"]
    assert me["all_sites"] is False and me["site_ids"] == []
    for path in ("/api/v1/sites", "/api/v1/cameras", "/api/v1/alert-rules", "/api/v1/alerts"):
        assert tenant_a.call("GET", path, token=manager_token).get_json()["items"] == [], path
    for site_id in (kept["id"], site_b["id"], gone["id"]):
        assert tenant_a.call("GET", f"/api/v1/sites/{site_id}", token=manager_token).status_code == 404
    report = tenant_a.call("GET", "/api/v1/reports/emotions", token=manager_token)
    assert report.status_code == 200 and "Alpha kept" not in report.get_data(as_text=True)
    for page in ("/admin/sites", "/live", "/admin/alerts", "/reports/"):
        r = manager_session.get(page)
        assert r.status_code == 200 and "Alpha kept" not in r.get_data(as_text=True), page
        assert "Beta new" not in r.get_data(as_text=True), page
    # An empty site_ids still means every site when a user is created.
    _, everywhere = tenant_a.user("manager", site_ids=[])
    assert [s["id"] for s in tenant_a.call("GET", "/api/v1/sites", token=everywhere).get_json()["items"]] == [kept["id"]]
    # The deleted user's token and cookie are dead, and not B's new user's.
    assert tenant_b.call("GET", "/api/v1/me", token=user_b_token).get_json()["tenant"]["id"] == tenant_b.id
    for path in ("/api/v1/me", "/api/v1/sites"):
        assert tenant_a.call("GET", path, token=staff_token).status_code == 401
        assert staff_session.get(path).status_code == 401, path
    for page in ("/admin/sites", "/live", f"/admin/sites/{site_b['id']}"):
        r = staff_session.get(page)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"], (page, r.status_code)
    assert [k for k in new if new[k] <= deleted[k]] == [], (deleted, new)


def test_erased_tenant_id_is_never_given_again(request, app, client, tenant_a):
    gamma = Tenant(client, "Gamma Erased")  # the highest tenant id
    site = gamma.site("Gamma site")
    camera = gamma.camera(site["id"], "Gamma tablet")
    assert (
        gamma.call(
            "POST",
            "/api/v1/alert-rules",
            json={"camera_id": camera["id"], "emotion": "distress", "threshold": 0.6, "duration_s": 20},
        ).status_code
        == 201
    )
    staff, staff_token = gamma.user("staff", site_ids=[site["id"]])  # the highest user id
    with app.app_context():
        observations.record(gamma.id, site["id"], camera["id"], utcnow(), "test", [FACE], 5.0)
    admin_elsewhere = signed_in(app, gamma.email, "secret-pass-1")
    staff_session = signed_in(app, staff["email"], "secret-pass-2")
    eraser = signed_in(app, gamma.email, "secret-pass-1")
    assert eraser.post("/admin/privacy/erase", data={"confirmation": "Gamma Erased"}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TenantErasure).where(TenantErasure.tenant_id == gamma.id)) == 1
        left = [
            t.name
            for t in db.metadata.sorted_tables
            if (condition := _tenant_condition(t, gamma.id)) is not None
            and db.session.scalar(select(func.count()).select_from(t).where(condition))
        ]
    assert left == []
    assert orphans(app) == [] and cross_tenant_references(app) == []
    # The next sign-ups: a new tenant id, and the erased tenant's credentials name nobody.
    delta = Tenant(client, "Delta New")
    delta_staff, _ = delta.user("staff")
    assert delta.id > gamma.id
    assert delta.call("GET", "/api/v1/sites").get_json()["items"] == []
    assert tenant_a.call("GET", "/api/v1/me").status_code == 200
    for token in (gamma.token, staff_token):
        assert gamma.call("GET", "/api/v1/me", token=token).status_code == 401
    for browser in (admin_elsewhere, staff_session, eraser):
        assert browser.get("/api/v1/me").status_code == 401
        r = browser.get("/admin/sites")
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert delta.admin_id > staff["id"] and delta_staff["id"] > staff["id"]


# 3: deletes leave no orphan rows ------------------------------------------------------------


def test_deletes_leave_no_row_that_names_what_went(app, tenant_a):
    app.config["OUTBOUND_ALLOW_NETWORKS"] = LOCAL
    site = tenant_a.site("Busy site")
    cameras = [tenant_a.camera(site["id"], f"Tablet {i}")["id"] for i in range(2)]
    other = tenant_a.site("Other site")
    other_camera = tenant_a.camera(other["id"], "Other tablet")["id"]
    second_admin, second_token = tenant_a.user("admin")
    assert (
        tenant_a.call(
            "PATCH",
            f"/api/v1/sites/{site['id']}",
            token=second_token,
            json={"setting": "retail", "purpose": "customer_experience"},
        ).status_code
        == 200
    )
    limited, _ = tenant_a.user("staff", site_ids=[site["id"], other["id"]])
    rules = [
        tenant_a.call(
            "POST", "/api/v1/alert-rules", json={key: value, "emotion": "distress", "threshold": 0.6, "duration_s": 20}
        ).get_json()["id"]
        for key, value in (("site_id", site["id"]), ("camera_id", cameras[0]), ("camera_id", other_camera))
    ]
    hook = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/alpha"}).get_json()["id"]
    with app.app_context():
        for camera_id, site_id, rule_id in ((cameras[0], site["id"], rules[1]), (other_camera, other["id"], rules[2])):
            observations.record(tenant_a.id, site_id, camera_id, utcnow(), "test", [FACE], 5.0)
            alert = Alert(
                tenant_id=tenant_a.id,
                rule_id=rule_id,
                site_id=site_id,
                camera_id=camera_id,
                emotion="distress",
                value=0.9,
                started_at=utcnow(),
                status="acknowledged",
                acknowledged_at=utcnow(),
                acknowledged_by=second_admin["id"],
            )
            db.session.add(alert)
            db.session.flush()
            db.session.add(WebhookDelivery(tenant_id=tenant_a.id, webhook_id=hook, alert_id=alert.id, event="alert.created"))
        for site_id in (site["id"], other["id"]):
            schedule = report_schedules.create_schedule(
                tenant_a.id, second_admin["id"], "weekly", "en", [second_admin["id"]], site_id=site_id
            )
            db.session.add(
                GeneratedReport(
                    tenant_id=tenant_a.id,
                    schedule_id=schedule.id,
                    site_id=site_id,
                    frequency="weekly",
                    language="en",
                    period_from=utcnow().date(),
                    period_to=utcnow().date(),
                    scope_label="x",
                    pdf=b"%PDF",
                    csv="",
                )
            )
        db.session.commit()
    before = {name: len(rows) for name, rows in snapshot(app).items()}
    assert tenant_a.call("DELETE", f"/api/v1/users/{second_admin['id']}").status_code == 204
    assert references(app, "users", [second_admin["id"]]) == []
    assert tenant_a.call("DELETE", f"/api/v1/cameras/{other_camera}").status_code == 204
    assert references(app, "cameras", [other_camera]) == []
    assert tenant_a.call("DELETE", f"/api/v1/sites/{site['id']}").status_code == 204
    assert references(app, "sites", [site["id"]]) == [] and references(app, "cameras", cameras) == []
    assert references(app, "alert_rules", rules) == []
    assert orphans(app) == []
    after = {name: len(rows) for name, rows in snapshot(app).items()}
    # Deletes did cascade (the rows existed, and went).
    for table in (
        "observations",
        "observation_rollups",
        "alerts",
        "alert_rules",
        "report_schedules",
        "generated_reports",
        "user_sites",
        "cameras",
        "api_tokens",
    ):
        assert after[table] < before[table], table
    me = tenant_a.call("GET", f"/api/v1/users/{limited['id']}").get_json()
    assert me["site_ids"] == [other["id"]] and me["all_sites"] is False


def test_foreign_keys_are_those_of_the_models_and_enforced(app):
    """The schema the migrations build has the models' foreign keys (ON DELETE included), enforced."""
    with app.app_context():
        inspector = inspect(db.engine)
        for table in db.metadata.sorted_tables:
            built = {
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    ((fk.get("options") or {}).get("ondelete") or "").upper(),
                )
                for fk in inspector.get_foreign_keys(table.name)
            }
            declared = {((fk.parent.name,), fk.column.table.name, (fk.ondelete or "").upper()) for fk in table.foreign_keys}
            assert built == declared, table.name
        with pytest.raises(IntegrityError):
            db.session.execute(insert(db.metadata.tables["sites"]).values(tenant_id=10**9, name="nowhere"))
            db.session.flush()
        db.session.rollback()


def test_the_schema_never_gives_an_id_twice(request, app):
    """AUTOINCREMENT on SQLite, a sequence on PostgreSQL, for every table with an integer id."""
    with app.app_context():
        tables = [t for t in db.metadata.sorted_tables if [c.name for c in t.primary_key.columns] == ["id"]]
        if db.engine.dialect.name == "sqlite":
            ddl = dict(db.session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
            assert [t.name for t in tables if "AUTOINCREMENT" not in ddl[t.name].upper()] == []
        else:
            columns = {t.name: next(c for c in inspect(db.engine).get_columns(t.name) if c["name"] == "id") for t in tables}
            assert [
                name
                for name, c in columns.items()
                if not str(c.get("default") or "").startswith("nextval") and not c.get("identity")
            ] == []


# Columns that hold ids but have no foreign key, each on purpose.
IDS_WITHOUT_FOREIGN_KEY = {
    ("audit_entries", "target_id"): "the trail names what was deleted too; ids are never given again",
    ("tenant_erasures", "tenant_id"): "the erased tenant, on record",
    ("report_schedules", "recipient_ids"): "user ids in JSON: test_a_deleted_user_is_no_report_recipient",
    ("track_spans", "track_id"): "a random opaque code of an anonymous face track, not a row of another table",
    ("observations", "frame_id"): "the intake's random code of the frame, unique per camera, not a row of another table",
}


def test_every_id_column_has_a_foreign_key_or_a_reason():
    found = {
        (t.name, c.name)
        for t in db.metadata.sorted_tables
        for c in t.c
        if c.name.endswith(("_id", "_ids", "_by")) and not c.foreign_keys
    }
    assert found == set(IDS_WITHOUT_FOREIGN_KEY)


def test_a_deleted_user_is_no_report_recipient(app, tenant_a):
    manager, _ = tenant_a.user("manager")
    with app.app_context():
        schedule_id = report_schedules.create_schedule(
            tenant_a.id, tenant_a.admin_id, "weekly", "en", [tenant_a.admin_id, manager["id"]]
        ).id
    assert tenant_a.call("DELETE", f"/api/v1/users/{manager['id']}").status_code == 204
    with app.app_context():
        assert db.session.get(ReportSchedule, schedule_id).recipient_ids == [tenant_a.admin_id]


def test_scoping_refuses_a_model_that_is_not_tenant_owned():
    """What belongs to a tenant is declared (TenantOwned), never guessed from a tenant_id column."""
    from app.models import Camera, Tenant
    from app.models.tenancy import SiteOwned, TenantOwned, get_owned, is_site_owned
    from app.tenancy import get_for_tenant, scoped

    for model in (Tenant, TenantErasure):
        with pytest.raises(TypeError):
            scoped(select(model), model)
        with pytest.raises(TypeError):
            get_for_tenant(model, 1)
        with pytest.raises(TypeError):
            get_owned(model, 1, 1)
    assert issubclass(Camera, SiteOwned) and is_site_owned(Alert) and not is_site_owned(ApiToken)
    assert issubclass(ApiToken, TenantOwned) and issubclass(WebhookDelivery, TenantOwned)


def test_get_owned_finds_only_the_tenants_objects(app, tenant_a, tenant_b):
    from app.models import Camera
    from app.models.tenancy import get_owned

    camera = tenant_a.camera(tenant_a.site()["id"])
    with app.app_context():
        assert get_owned(Camera, camera["id"], tenant_a.id).id == camera["id"]
        assert get_owned(Camera, camera["id"], tenant_b.id) is None
        assert get_owned(Camera, None, tenant_a.id) is None


def test_webhook_deletion_is_audited(app, tenant_a):
    from app.models import AuditEntry

    app.config["OUTBOUND_ALLOW_NETWORKS"] = LOCAL
    hook = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/alpha-audited"})
    assert hook.status_code == 201, hook.get_json()
    assert tenant_a.call("DELETE", f"/api/v1/webhooks/{hook.get_json()['id']}").status_code == 204
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.delete"))
        assert (entry.tenant_id, entry.actor_id, entry.target_id) == (tenant_a.id, tenant_a.admin_id, hook.get_json()["id"])
