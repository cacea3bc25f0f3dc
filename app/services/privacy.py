"""Lawful use: each site's setting and purpose (the EU AI Act forbids emotion recognition in
workplaces and education except for medical or safety reasons), retention, export, erasure."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

from sqlalchemy import JSON, Delete, delete, func, or_, select

from app.connections import revoke
from app.extensions import db
from app.models import (
    Alert,
    AlertRule,
    AuditEntry,
    Camera,
    GeneratedReport,
    Observation,
    ObservationRollup,
    Site,
    Tenant,
    TenantErasure,
    TrackSpan,
    User,
    WebhookDelivery,
    user_sites,
)
from app.models.base import utcnow
from app.models.tenancy import export_file, tenant_owned_models
from app.reporting.aggregate import SLOT_S
from app.reporting.csv_export import safe_cell
from app.services import audit
from app.services.errors import ServiceError
from app.timefmt import iso_value

log = logging.getLogger(__name__)

SETTINGS = ("unspecified", "education", "workplace", "healthcare", "retail", "hospitality", "public_space")
PURPOSES = ("unspecified", "safety", "medical", "customer_experience", "research_consent")
RESTRICTED_SETTINGS = ("education", "workplace")
ALLOWED_PURPOSES_THERE = ("safety", "medical")
RETENTION_BATCH = 5000


def analysis_refusal(setting: str, purpose: str, outside_eu: bool) -> str | None:
    """Why analysis may not run at a site, or None. Education and workplace sites need a safety or
    medical purpose, unless the organisation declared that it operates outside the EU. An
    undeclared site runs (the admin pages keep asking for the declaration)."""
    if setting in RESTRICTED_SETTINGS and purpose not in ALLOWED_PURPOSES_THERE and not outside_eu:
        return "purpose_not_allowed"
    return None


def site_refusal(site: Site) -> str | None:
    tenant = db.session.get(Tenant, site.tenant_id)
    return analysis_refusal(site.setting, site.purpose, bool(tenant and tenant.outside_eu))


def declare_purpose(site: Site, setting: str, purpose: str, actor_id: int | None) -> Site:
    """Record the site's setting and purpose, who declared them and when (audit logged)."""
    if setting not in SETTINGS or setting == "unspecified":
        raise ServiceError("validation_error", "Choose the site's setting.", fields={"setting": "invalid"})
    if purpose not in PURPOSES or purpose == "unspecified":
        raise ServiceError("validation_error", "Choose the purpose of the analysis.", fields={"purpose": "invalid"})
    site.setting, site.purpose = setting, purpose
    site.purpose_declared_at, site.purpose_declared_by = utcnow(), actor_id
    audit.record(
        site.tenant_id,
        actor_id,
        "site.purpose_declared",
        "site",
        site.id,
        commit=False,
        setting=setting,
        purpose=purpose,
        analysis=analysis_refusal(setting, purpose, bool(site_tenant(site).outside_eu)) or "allowed",
    )
    db.session.commit()
    revoke("site_purpose_declared", site_id=site.id)  # open captures re-check lawful use on their next frame
    return site


def site_tenant(site: Site) -> Tenant:
    return db.session.get(Tenant, site.tenant_id)


def update_settings(
    tenant: Tenant,
    actor_id: int | None,
    retention_days: int | None = None,
    audit_retention_days: int | None = None,
    privacy_contact: str | None = None,
    outside_eu: bool | None = None,
    timezone: str | None = None,
) -> Tenant:
    """Retention periods, the privacy contact shown on notices, the outside-EU declaration, the
    organisation's time zone (where events of no site are shown)."""
    changes: dict = {}
    if timezone is not None:
        if timezone not in available_timezones():
            raise ServiceError("validation_error", "Unknown time zone.", fields={"timezone": "invalid"})
        changes["timezone"] = timezone
    if retention_days is not None:
        if not 1 <= retention_days <= 3650:
            raise ServiceError("validation_error", "Retention is 1 to 3650 days.", fields={"retention_days": "out_of_range"})
        changes["retention_days"] = retention_days
    if audit_retention_days is not None:
        if not 30 <= audit_retention_days <= 3650:
            raise ServiceError(
                "validation_error", "The audit trail is kept 30 to 3650 days.", fields={"audit_retention_days": "out_of_range"}
            )
        changes["audit_retention_days"] = audit_retention_days
    if privacy_contact is not None:
        changes["privacy_contact"] = privacy_contact.strip()[:200]
    if outside_eu is not None:
        changes["outside_eu"] = bool(outside_eu)
    changed = {k: v for k, v in changes.items() if getattr(tenant, k) != v}
    for key, value in changed.items():
        setattr(tenant, key, value)
    if changed:
        audit.record(tenant.id, actor_id, "privacy.settings", "tenant", tenant.id, commit=False, **changed)
    db.session.commit()
    if "outside_eu" in changed:  # lawful use at every site changes: open captures re-check it
        revoke("outside_eu_changed", tenant_id=tenant.id)
    return tenant


# Retention ---------------------------------------------------------------------------------------


def _cutoffs(tenant: Tenant, now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=tenant.retention_days), now - timedelta(days=tenant.audit_retention_days)


def retention_preview(tenant: Tenant, now: datetime | None = None) -> dict:
    """What the next retention run would delete for this tenant (counts, and the cut-off dates)."""
    now = now or utcnow()
    data_cutoff, audit_cutoff = _cutoffs(tenant, now)
    count = lambda model, column, cutoff: db.session.scalar(  # noqa: E731
        select(func.count()).select_from(model).where(model.tenant_id == tenant.id, column < cutoff)
    )
    return {
        "observations": count(Observation, Observation.ts, data_cutoff),
        "alerts": count(Alert, Alert.started_at, data_cutoff),
        "audit_entries": count(AuditEntry, AuditEntry.created_at, audit_cutoff),
        "data_cutoff": data_cutoff,
        "audit_cutoff": audit_cutoff,
    }


def _delete_in_batches(model, condition, batch: int) -> int:
    """Delete matching rows a batch at a time, committing between batches, so that the live path
    (inserts of new observations) never waits behind one long transaction."""
    total = 0
    while True:
        ids = db.session.scalars(select(model.id).where(condition).limit(batch)).all()
        if not ids:
            return total
        db.session.execute(delete(model).where(model.id.in_(ids)))
        db.session.commit()
        total += len(ids)


def run_retention(now: datetime | None = None, batch: int = RETENTION_BATCH) -> dict[str, int]:
    """Delete each tenant's observations, rollups, track spans and alerts older than its retention, and audit
    entries older than the audit retention. Returns how many rows went."""
    now = now or utcnow()
    done = {"observations": 0, "rollups": 0, "track_spans": 0, "alerts": 0, "audit_entries": 0}
    for tenant in db.session.scalars(select(Tenant)).all():
        data_cutoff, audit_cutoff = _cutoffs(tenant, now)
        done["observations"] += _delete_in_batches(
            Observation, (Observation.tenant_id == tenant.id) & (Observation.ts < data_cutoff), batch
        )
        # Whole slots only: a slot that straddles the cut-off goes when all of it is past.
        last_slot = int(data_cutoff.timestamp()) // SLOT_S
        result = db.session.execute(
            delete(ObservationRollup).where(ObservationRollup.tenant_id == tenant.id, ObservationRollup.slot < last_slot)
        )
        db.session.commit()
        done["rollups"] += result.rowcount or 0
        # Track spans go with the observations they summarise: once the track's last frame is past.
        done["track_spans"] += _delete_in_batches(
            TrackSpan, (TrackSpan.tenant_id == tenant.id) & (TrackSpan.last_seen < data_cutoff), batch
        )
        stale = (WebhookDelivery.tenant_id == tenant.id) & WebhookDelivery.alert_id.in_(
            select(Alert.id).where(Alert.tenant_id == tenant.id, Alert.started_at < data_cutoff)
        )
        _delete_in_batches(WebhookDelivery, stale, batch)
        done["alerts"] += _delete_in_batches(Alert, (Alert.tenant_id == tenant.id) & (Alert.started_at < data_cutoff), batch)
        done["audit_entries"] += _delete_in_batches(
            AuditEntry, (AuditEntry.tenant_id == tenant.id) & (AuditEntry.created_at < audit_cutoff), batch
        )
    if any(done.values()):
        log.info("retention: deleted %s", done)
    return done


# Export ------------------------------------------------------------------------------------------


def _rows(model, condition, columns: list[str], limit: int | None = None) -> list[dict]:
    stmt = select(*(getattr(model, c) for c in columns)).where(condition).order_by(model.id).limit(limit)
    return [{c: iso_value(v) for c, v in zip(columns, row, strict=True)} for row in db.session.execute(stmt)]


def export_tables() -> dict[str, tuple[type, list[str]]]:
    """File stem: (model, columns) of each table exported whole, from the ``__export__`` that the
    organisation and each TenantOwned model declare (secrets are never declared). A model that
    declares ``()`` is not exported (rollups: sums of the exported observations); a paged one
    (observations) streams as CSV and JSON, see :func:`paged_export_tables`."""
    models = [Tenant, *(m for m in tenant_owned_models() if m.__export__ and not m.__export_paged__)]
    return {(getattr(m, "__export_file__", None) or m.__table__.name): (m, list(m.__export__)) for m in models}


def paged_export_tables() -> dict[str, tuple[type, list[str]]]:
    """The TenantOwned models exported page by page, as CSV and JSON (observations)."""
    return {export_file(m): (m, list(m.__export__)) for m in tenant_owned_models() if m.__export__ and m.__export_paged__}


# Exported another way: user_sites (below, joined to users), and TenantErasure (the record of an
# erased tenant) is not the tenant's.


def _paged_cell(model, column: str, value):
    if isinstance(model.__table__.c[column].type, JSON):
        return json.dumps(value)
    return safe_cell(value)


def export_tenant(tenant: Tenant, actor_id: int | None) -> bytes:
    """Everything the organisation has here, as JSON and CSV in a zip with a manifest (row counts
    and SHA-256 of each file). Observations stream into the archive page by page."""
    buffer = io.BytesIO()
    manifest: dict = {
        "organisation_id": tenant.id,
        "generated_at": iso_value(utcnow()),
        "format": 1,
        "files": {},
        "note": "Numbers only: no image of a face is ever stored by EmotiScan.",
    }

    def add(name: str, payload: bytes, rows: int) -> None:
        archive.writestr(name, payload)
        manifest["files"][name] = {"rows": rows, "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}

    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for stem, (model, columns) in export_tables().items():
            condition = (model.id == tenant.id) if model is Tenant else (model.tenant_id == tenant.id)
            rows = _rows(model, condition, columns)
            add(f"{stem}.json", json.dumps(rows, ensure_ascii=False, indent=1).encode(), len(rows))
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(
                {k: safe_cell(json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in r.items()} for r in rows
            )
            add(f"{stem}.csv", out.getvalue().encode(), len(rows))
        scopes = [
            {"user_id": u, "site_id": s}
            for u, s in db.session.execute(
                select(user_sites.c.user_id, user_sites.c.site_id)
                .join(User, User.id == user_sites.c.user_id)
                .where(User.tenant_id == tenant.id)
                .order_by(user_sites.c.user_id, user_sites.c.site_id)
            )
        ]
        add("user_sites.json", json.dumps(scopes, indent=1).encode(), len(scopes))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["user_id", "site_id"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(scopes)
        add("user_sites.csv", out.getvalue().encode(), len(scopes))
        for report in db.session.scalars(
            select(GeneratedReport).where(GeneratedReport.tenant_id == tenant.id).order_by(GeneratedReport.id)
        ):
            add(f"reports/{report.id}.pdf", report.pdf or b"", 1)
            add(f"reports/{report.id}.csv", (report.csv or "").encode(), 1)
        counts: dict[str, int] = {}
        for stem, (model, columns) in paged_export_tables().items():
            out, count, last_id = io.StringIO(), 0, 0
            as_json = io.StringIO()  # the same rows as a JSON array, written page by page like the CSV
            as_json.write("[")
            writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            while True:  # keyset pages: memory stays flat on large tenants
                page = _rows(model, (model.tenant_id == tenant.id) & (model.id > last_id), columns, limit=5000)
                if not page:
                    break
                writer.writerows({k: _paged_cell(model, k, v) for k, v in r.items()} for r in page)
                for r in page:
                    as_json.write(("," if count else "") + "\n" + json.dumps(r, ensure_ascii=False))
                    count += 1
                last_id = page[-1]["id"]
            as_json.write("\n]\n")
            add(f"{stem}.json", as_json.getvalue().encode(), count)
            add(f"{stem}.csv", out.getvalue().encode(), count)
            counts[stem] = count
        audit.record(
            tenant.id,
            actor_id,
            "tenant.export",
            "tenant",
            tenant.id,
            commit=False,
            files=len(manifest["files"]) + 1,
            observations=counts.get("observations", 0),
        )
        db.session.commit()
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
    return buffer.getvalue()


# Erasure -----------------------------------------------------------------------------------------


def redis_keys_of(tenant_id: int) -> list[str]:
    """State keys that name the tenant's cameras or rules (rule state, smoothing, frames in flight)."""
    cameras = db.session.scalars(select(Camera.id).where(Camera.tenant_id == tenant_id)).all()
    rules = db.session.scalars(select(AlertRule.id).where(AlertRule.tenant_id == tenant_id)).all()
    from app.services.admission import camera_key, tenant_key
    from app.services.camera_status import stats_key

    today = datetime.now(UTC)
    days = [(today - timedelta(days=d)).strftime("%Y%m%d") for d in range(3)]
    keys = [k for c in cameras for k in (f"smooth:{c}", camera_key(c), *(stats_key(c, day) for day in days))]
    keys += [f"rule:{r}:camera:{c}" for r in rules for c in cameras] + [tenant_key(tenant_id)]
    return keys


def erasure_plan(tenant_id: int) -> list[tuple[str, Delete]]:
    """(table name, delete) for every table that holds the tenant's rows, children first (the
    reverse of db.metadata.sorted_tables): each TenantOwned model's rows by ``tenant_id``, and each
    association table without a model (user_sites) by its foreign keys to those tables' rows."""
    owned = {m.__table__.name: m for m in tenant_owned_models()}
    mapped = {m.local_table.name for m in db.Model.registry.mappers}
    plan: list[tuple[str, Delete]] = []
    for table in reversed(db.metadata.sorted_tables):
        model = owned.get(table.name)
        if model is not None:
            plan.append((table.name, delete(model).where(model.tenant_id == tenant_id)))
            continue
        links = [fk for fk in table.foreign_keys if fk.column.table.name in owned]
        if table.name not in mapped and links:
            plan.append(
                (
                    table.name,
                    delete(table).where(
                        or_(
                            *(
                                fk.parent.in_(select(fk.column).where(owned[fk.column.table.name].tenant_id == tenant_id))
                                for fk in sorted(links, key=lambda fk: fk.parent.name)
                            )
                        )
                    ),
                )
            )
    return plan


def erase_tenant(tenant: Tenant, actor_id: int | None, confirmation: str) -> dict[str, int]:
    """Delete the organisation and everything of it, here and in Redis, after the admin typed its
    name. Explicit deletes in dependency order (:func:`erasure_plan`), not left to cascades."""
    if confirmation.strip() != tenant.name:
        raise ServiceError(
            "confirmation_mismatch", "Type the organisation's name exactly to confirm.", fields={"confirmation": "mismatch"}
        )
    from app.infra.state import store

    tenant_id = tenant.id
    store().delete(redis_keys_of(tenant_id))
    deleted: dict[str, int] = {}
    for name, stmt in erasure_plan(tenant_id):
        deleted[name] = db.session.execute(stmt).rowcount or 0
    db.session.execute(delete(Tenant).where(Tenant.id == tenant_id))
    db.session.add(TenantErasure(tenant_id=tenant_id, deleted_rows=deleted))
    db.session.commit()
    revoke("tenant_erased", tenant_id=tenant_id)  # its open sockets close in every process
    log.info("tenant %s erased by user %s: %s", tenant_id, actor_id, deleted)
    return deleted
