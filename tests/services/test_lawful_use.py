"""Lawful use: declared purpose per site (refusal on /capture and in pages), notices, retention,
export and erasure (nothing of the tenant left in the database or Redis)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import redis
from pypdf import PdfReader
from sqlalchemy import func, select, text

from app.extensions import db, socketio
from app.models import Alert, AuditEntry, Observation, ObservationRollup, Tenant, TenantErasure
from app.services import observations
from tests.conftest import REDIS_URL
from tests.images import face_jpeg

SCORES = {"angry": 0.1, "disgust": 0.0, "fear": 0.1, "happy": 0.5, "sad": 0.1, "surprise": 0.1, "neutral": 0.1}


def sign_in(client, email: str, password: str = "secret-pass-1"):
    return client.post("/auth/login", data={"email": email, "password": password})


def send_frame(cap) -> dict:
    return cap.emit("frame", {"ts": int(time.time() * 1000), "jpeg": face_jpeg()}, namespace="/capture", callback=True)


def test_school_site_for_customer_experience_refuses_analysis_until_declared_for_safety(app, client, tenant_a):
    r = tenant_a.call(
        "POST",
        "/api/v1/sites",
        json={"name": "École", "timezone": "Europe/Paris", "setting": "education", "purpose": "customer_experience"},
    )
    site = r.get_json()
    assert r.status_code == 201 and site["analysis_refused"] == "purpose_not_allowed"
    cam = tenant_a.camera(site["id"])
    cap = socketio.test_client(app, namespace="/capture", auth={"token": cam["capture_token"]})
    ready = [e["args"][0] for e in cap.get_received("/capture") if e["name"] == "ready"]
    assert ready[0]["refusal"] == "purpose_not_allowed"
    ack = send_frame(cap)
    assert ack["ok"] is False and ack["error"] == "purpose_not_allowed" and "not allowed" in ack["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Observation)) == 0
    sign_in(client, tenant_a.email)
    page = client.get(f"/admin/sites/{site['id']}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "L&#39;analyse est refusée" in page.replace("&#x27;", "&#39;") or "analyse est refusée" in page

    # Declared for safety, through the page: analysis runs at once, on the same connection.
    r = client.post(f"/admin/sites/{site['id']}/purpose", data={"setting": "education", "purpose": "safety"})
    assert r.status_code == 302
    assert send_frame(cap)["ok"] is True
    declared = tenant_a.call("GET", f"/api/v1/sites/{site['id']}").get_json()
    assert declared["setting"] == "education" and declared["purpose"] == "safety" and declared["purpose_declared_at"]
    assert declared["analysis_refused"] is None
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "site.purpose_declared").order_by(AuditEntry.id)
        ).all()
        assert [(e.actor_id, e.details["purpose"]) for e in entries] == [
            (tenant_a.admin_id, "customer_experience"),
            (tenant_a.admin_id, "safety"),
        ]

    # A workplace for customer experience is refused too, unless the organisation says it is outside the EU.
    tenant_a.call("PATCH", f"/api/v1/sites/{site['id']}", json={"setting": "workplace", "purpose": "customer_experience"})
    assert send_frame(cap)["error"] == "purpose_not_allowed"
    client.post("/admin/privacy", data={"retention_days": "90", "audit_retention_days": "365", "outside_eu": "y"})
    assert send_frame(cap)["ok"] is True


def test_undeclared_site_runs_and_the_admin_pages_ask_for_the_declaration(app, client, tenant_a):
    site = tenant_a.site("Shop")
    assert site["setting"] == "unspecified" and site["analysis_refused"] is None
    cam = tenant_a.camera(site["id"])
    cap = socketio.test_client(app, namespace="/capture", auth={"token": cam["capture_token"]})
    assert send_frame(cap)["ok"] is True
    sign_in(client, tenant_a.email)
    listing = client.get("/admin/sites", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "no declared setting and purpose" in listing
    detail = client.get(f"/admin/sites/{site['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Declare what this site is" in detail
    r = tenant_a.call("PATCH", f"/api/v1/sites/{site['id']}", json={"setting": "retail"})
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"purpose": "invalid"}
    live = client.get("/live", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "not inner feelings" in live


def test_notice_pdf_in_french_and_english(client, tenant_a):
    site = tenant_a.call(
        "POST", "/api/v1/sites", json={"name": "Portail nord", "setting": "education", "purpose": "safety"}
    ).get_json()
    sign_in(client, tenant_a.email)
    client.post(
        "/admin/privacy", data={"retention_days": "30", "audit_retention_days": "365", "privacy_contact": "dpo@alpha.example"}
    )
    texts = {}
    for lang in ("fr", "en"):
        r = client.get(f"/admin/sites/{site['id']}/notice.pdf?lang={lang}")
        assert r.status_code == 200 and r.mimetype == "application/pdf"
        texts[lang] = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages).split())
    for expected in (
        "Analyse des expressions du visage en cours",
        "Portail nord",
        "Alpha School",
        "Sécurité",
        "Aucune image n'est enregistrée",
        "Personne n'est identifié",
        "30 jours",
        "dpo@alpha.example",
    ):
        assert expected in texts["fr"], expected
    for expected in ("Facial expression analysis in progress", "No image is recorded or kept", "30 days", "Safety"):
        assert expected in texts["en"], expected
    assert client.get(f"/admin/sites/{site['id']}/notice.pdf?lang=de").status_code == 404


def _seed(app, tenant_id: int, site_id: int, camera_id: int, days_ago: list[int]) -> None:
    now = datetime.now(UTC)
    face = {"box": [0, 0, 60, 60], "emotion": "happy", "confidence": 0.5, "scores": SCORES}
    with app.app_context():
        for days in days_ago:
            at = now - timedelta(days=days)
            observations.record(tenant_id, site_id, camera_id, at, "test", [face], 5.0)
            db.session.add(
                Alert(
                    tenant_id=tenant_id,
                    site_id=site_id,
                    camera_id=camera_id,
                    emotion="joy",
                    value=0.6,
                    started_at=at,
                    status="resolved",
                )
            )
            db.session.add(AuditEntry(tenant_id=tenant_id, action="test.old", created_at=at - timedelta(days=400)))
        db.session.commit()


def test_retention_deletes_old_data_in_batches_per_tenant(app, client, tenant_a, tenant_b):
    from app.services.privacy import run_retention

    ids = {}
    for tenant in (tenant_a, tenant_b):
        site = tenant.site()
        ids[tenant.id] = (site["id"], tenant.camera(site["id"])["id"])
        _seed(app, tenant.id, *ids[tenant.id], [45, 40, 35, 10, 1])
    sign_in(client, tenant_a.email)
    r = client.post("/admin/privacy", data={"retention_days": "30", "audit_retention_days": "365"})
    assert r.status_code == 302
    page = client.get("/admin/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "deletes 3 observations and 3 alerts" in page and "5 audit entries" in page
    with app.app_context():
        done = run_retention(batch=2)
        # Both tenants keep the audit trail 365 days: their 5 entries of 400+ days ago each go.
        assert done["observations"] == 3 and done["alerts"] == 3 and done["audit_entries"] == 10
        count = lambda model, tenant_id: db.session.scalar(  # noqa: E731
            select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
        )
        assert (count(Observation, tenant_a.id), count(Alert, tenant_a.id)) == (2, 2)
        assert (count(Observation, tenant_b.id), count(Alert, tenant_b.id)) == (5, 5)  # 90 days by default
        rollups = db.session.scalars(select(ObservationRollup).where(ObservationRollup.tenant_id == tenant_a.id)).all()
        assert sum(r.observations for r in rollups) == 2
        assert run_retention()["observations"] == 0
    assert "deletes 0 observations and 0 alerts" in client.get("/admin/privacy", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


def test_export_zip_holds_all_data_with_a_manifest_and_no_secrets(app, client, tenant_a, tenant_b):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    _seed(app, tenant_a.id, site["id"], cam["id"], [3, 2, 1])
    _seed(app, tenant_b.id, tenant_b.site()["id"], tenant_b.camera(tenant_b.site("B2")["id"])["id"], [1])
    sign_in(client, tenant_a.email)
    r = client.post("/admin/privacy/export")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["organisation_id"] == tenant_a.id
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == meta["sha256"], name
    assert manifest["files"]["observations.csv"]["rows"] == 3 and manifest["files"]["alerts.json"]["rows"] == 3
    rows = list(csv.DictReader(io.StringIO(archive.read("observations.csv").decode())))
    assert {int(r["camera_id"]) for r in rows} == {cam["id"]} and json.loads(rows[0]["faces"])[0]["scores"] == SCORES
    everything = b"".join(archive.read(n) for n in archive.namelist()).decode()
    assert tenant_a.email in everything and tenant_b.email not in everything and "Beta Clinic" not in everything
    assert "pbkdf2" not in everything and "scrypt" not in everything and cam["capture_token"] not in everything
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "tenant.export")) == 1
    client.post("/auth/logout")
    manager, _ = tenant_a.user("manager")
    sign_in(client, manager["email"], "secret-pass-2")
    assert client.post("/admin/privacy/export").status_code == 403
    assert client.get("/admin/privacy").status_code == 403


@pytest.fixture
def redis_app(app):
    app.config["REDIS_URL"] = REDIS_URL  # state in Redis, as in the distributed mode
    # From an empty Redis: ids restart with each test's database, and an earlier test's frames
    # still counted in flight for a camera of the same id would refuse this test's frames.
    redis.Redis.from_url(REDIS_URL).flushdb()
    yield app
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_erasure_leaves_nothing_of_the_tenant_in_the_database_or_redis(redis_app, client, tenant_a, tenant_b):
    app = redis_app
    cams = {}
    for tenant in (tenant_a, tenant_b):
        site = tenant.site()
        cams[tenant.id] = tenant.camera(site["id"])
        tenant.call(
            "POST",
            "/api/v1/alert-rules",
            json={"camera_id": cams[tenant.id]["id"], "emotion": "joy", "threshold": 0.3, "duration_s": 2},
        )
        cap = socketio.test_client(app, namespace="/capture", auth={"token": cams[tenant.id]["capture_token"]})
        for _ in range(3):
            assert send_frame(cap)["ok"] is True
            time.sleep(0.25)
        cap.disconnect(namespace="/capture")
    r = redis.Redis.from_url(REDIS_URL)
    keys_of = lambda cam_id: [k for k in r.keys("*") if k.decode().endswith((f"smooth:{cam_id}", f"camera:{cam_id}"))]  # noqa: E731
    assert keys_of(cams[tenant_a.id]["id"]) and keys_of(cams[tenant_b.id]["id"])
    sign_in(client, tenant_a.email)
    wrong = client.post("/admin/privacy/erase", data={"confirmation": "Alpha"})
    assert wrong.status_code == 400
    assert client.get("/admin/privacy/erase").status_code == 200  # asks before deleting
    r_ok = client.post("/admin/privacy/erase", data={"confirmation": "Alpha School"})
    assert r_ok.status_code == 302
    assert client.get("/admin/sites").status_code in (302, 401)  # signed out
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if "tenant_id" in table.c and table.name != "tenant_erasures":
                left = db.session.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_a.id))
                assert left == 0, table.name
        assert db.session.get(Tenant, tenant_a.id) is None and db.session.get(Tenant, tenant_b.id) is not None
        dump = " ".join(str(row) for table in db.metadata.sorted_tables for row in db.session.execute(select(table)).all())
        assert "Alpha School" not in dump and tenant_a.email not in dump and "Beta Clinic" in dump
        erasure = db.session.scalars(select(TenantErasure)).one()
        assert erasure.tenant_id == tenant_a.id and erasure.deleted_rows["observations"] == 3
        if db.engine.dialect.name == "postgresql":
            assert db.session.scalar(text("SELECT count(*) FROM user_sites")) == 0
    assert keys_of(cams[tenant_a.id]["id"]) == [] and keys_of(cams[tenant_b.id]["id"])
    assert tenant_b.call("GET", "/api/v1/sites").status_code == 200
    assert tenant_a.call("GET", "/api/v1/sites").status_code == 401  # its tokens went too


def test_deletions_of_sites_and_cameras_are_audited(tenant_a):
    site = tenant_a.site("Annex")
    cam = tenant_a.camera(site["id"], "Door")
    assert tenant_a.call("DELETE", f"/api/v1/cameras/{cam['id']}").status_code == 204
    assert tenant_a.call("DELETE", f"/api/v1/sites/{site['id']}").status_code == 204
    entries = {(e["action"], e["target_id"]) for e in tenant_a.call("GET", "/api/v1/audit").get_json()["items"]}
    assert {("camera.deleted", cam["id"]), ("site.deleted", site["id"])} <= entries


def test_export_neutralises_formulas_and_holds_scopes_tokens_deliveries_and_settings(app, client, tenant_a):
    site = tenant_a.site('=HYPERLINK("http://evil.example")')
    tenant_a.camera(site["id"], "+cmd|' /C calc'!A0")
    manager, manager_token = tenant_a.user("manager", site_ids=[site["id"]])
    assert (
        tenant_a.call(
            "POST",
            "/api/v1/alert-rules",
            json={"site_id": site["id"], "name": "@SUM(1+1)", "emotion": "fear", "threshold": 0.6, "duration_s": 20},
        ).status_code
        == 201
    )
    with app.app_context():
        from app.models import Webhook, WebhookDelivery

        hook = Webhook(tenant_id=tenant_a.id, url="https://hooks.example/x", secret="s")
        db.session.add(hook)
        db.session.flush()
        db.session.add(
            WebhookDelivery(tenant_id=tenant_a.id, webhook_id=hook.id, event="alert.open", ok=False, error="unreachable")
        )
        db.session.commit()
    sign_in(client, tenant_a.email)
    archive = zipfile.ZipFile(io.BytesIO(client.post("/admin/privacy/export").data))
    for name in archive.namelist():
        if name.endswith(".csv"):
            for row in csv.reader(io.StringIO(archive.read(name).decode())):
                assert not any(cell[:1] in ("=", "+", "@") for cell in row), (name, row)
    sites = list(csv.DictReader(io.StringIO(archive.read("sites.csv").decode())))
    assert sites[0]["name"] == '\'=HYPERLINK("http://evil.example")'  # kept, but inert
    assert json.loads(archive.read("sites.json"))[0]["name"].startswith("=")  # JSON is data, not a spreadsheet
    scopes = json.loads(archive.read("user_sites.json"))
    assert scopes == [{"user_id": manager["id"], "site_id": site["id"]}]
    users = {u["id"]: u for u in json.loads(archive.read("users.json"))}
    assert users[manager["id"]]["all_sites"] is False and "notify_alerts" in users[manager["id"]]
    tokens = json.loads(archive.read("api_tokens.json"))
    assert {t["user_id"] for t in tokens} == {tenant_a.admin_id, manager["id"]}
    assert manager_token not in archive.read("api_tokens.json").decode() and "token_hash" not in tokens[0]
    deliveries = json.loads(archive.read("webhook_deliveries.json"))
    assert [d["error"] for d in deliveries] == ["unreachable"]
    assert "generated_reports.json" in archive.namelist()


def test_every_tenant_table_is_exported_and_erased():
    """A table that belongs to a tenant is a TenantOwned model that declares its export (``__export__``);
    the export and erasure walk those models, so a new one is exported and erased, or fails here."""
    from app.models.tenancy import TenantOwned
    from app.services import privacy

    exported = {model.__table__.name for model, _ in privacy.export_tables().values()}
    exported |= {model.__table__.name for model, _ in privacy.paged_export_tables().values()}
    exported |= {"user_sites", "tenants"}
    recomputable = {"observation_rollups"}  # sums of the exported observations
    owned = {t.name for t in db.metadata.sorted_tables if "tenant_id" in t.c and t.name != "tenant_erasures"}
    owned |= {"user_sites"}
    assert owned - exported - recomputable == set()
    for mapper in db.Model.registry.mappers:
        model, table = mapper.class_, mapper.local_table.name
        if table in owned:
            assert issubclass(model, TenantOwned), f"{model.__name__} has a tenant_id but is not TenantOwned"
        if issubclass(model, TenantOwned):
            assert "__export__" in vars(model), f"{model.__name__} does not declare its __export__"
            assert set(model.__export__) <= set(mapper.local_table.c.keys()), f"{model.__name__} exports unknown columns"
            assert not {"password_hash", "token_hash", "secret"} & set(model.__export__), f"{model.__name__} exports a secret"
            if not model.__export__:
                assert table in recomputable, f"{model.__name__} is not exported"
    erased = {name for name, _ in privacy.erasure_plan(1)}
    for table in owned:
        assert table in erased, f"{table} is not erased"
