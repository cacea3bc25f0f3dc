"""The audit trail records sign-up, site and camera changes and capture-link renewals, and the
audit page reads each entry as a translated sentence (no raw keys, no None, no True)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Camera, Site
from app.services import cameras, sites


def actions(app, tenant_id: int) -> list[tuple[str, int | None, dict]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.id))
        return [(e.action, e.actor_id, dict(e.details)) for e in rows]


def test_sign_up_site_camera_and_link_events_are_audited(app, client, tenant_a, tenant_b):
    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"], "Entrance tablet")
    with app.app_context():
        s = db.session.get(Site, site["id"])
        sites.update_site(s, name="Main gate", actor_id=tenant_a.admin_id)
        sites.update_site(s, name="Main gate", actor_id=tenant_a.admin_id)  # unchanged: no entry
        c = db.session.get(Camera, cam["id"])
        cameras.update_camera(c, name="Desk tablet", fps=3, actor_id=tenant_a.admin_id)
        cameras.rotate_token(c, actor_id=tenant_a.admin_id)
        cameras.delete_camera(c, tenant_a.admin_id)
    seen = actions(app, tenant_a.id)
    names = [a for a, _, _ in seen]
    assert names[0] == "tenant.signed_up" and seen[0][2] == {"organisation": "Alpha School", "email": tenant_a.email}
    for action in ("site.created", "camera.created", "site.changed", "camera.changed", "camera.link_renewed", "camera.deleted"):
        assert names.count(action) == 1, (action, names)
    changed = dict((a, d) for a, _, d in seen)
    assert changed["site.changed"] == {"name": "Main gate"}
    assert changed["camera.changed"] == {"name": "Desk tablet", "fps": 3}
    assert changed["site.created"] == {"name": "Gate", "timezone": "Europe/Paris"}
    # The sites API and the services' callers pass the acting user; the other organisation's trail
    # holds only its own sign-up.
    assert all(
        actor == tenant_a.admin_id
        for a, actor, _ in seen
        if a.startswith("site.") or a in ("camera.changed", "camera.link_renewed", "camera.deleted")
    )
    assert [a for a, _, _ in actions(app, tenant_b.id)] == ["tenant.signed_up"]


def test_audit_page_reads_as_sentences_in_both_languages(app, client, tenant_a):
    site = tenant_a.site("Gate")
    tenant_a.camera(site["id"], "Entrance tablet")
    with app.app_context():
        from app.services import audit

        audit.record(tenant_a.id, tenant_a.admin_id, "alert.acknowledged", "alert", 7, note=None)
        audit.record(tenant_a.id, None, "privacy.settings", "tenant", tenant_a.id, outside_eu=True, retention_days=30)
        audit.record(tenant_a.id, tenant_a.admin_id, "rule.changed", "alert_rule", 3, name="Calm", threshold=0.4, min_share=0.2)
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    en = client.get("/admin/audit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Site Gate created" in en and "Camera Entrance tablet added" in en and "Organisation Alpha School created by" in en
    assert "Alert acknowledged (alert #7)" in en and "outside the EU: yes" in en and "threshold: 0.40" in en
    assert "minimum share: 20%" in en
    for raw in ("None", "True", "tenant.export", "alert.acknowledged", "note:"):
        assert raw not in en, raw
    client.post("/language", data={"locale": "fr", "next": "/admin/audit"})
    fr = client.get("/admin/audit", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert (
        "Site Gate créé" in fr and "hors de l&#39;UE : oui" in fr and "seuil : 0,40" in fr and "part minimale : 20\u00a0%" in fr
    )
    assert "True" not in fr and "None" not in fr
