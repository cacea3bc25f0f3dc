"""Sites of a tenant."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import TZPATH, available_timezones

from sqlalchemy import func, select

from app.connections import revoke
from app.extensions import db
from app.models import Site, Tenant
from app.services import audit
from app.services.errors import ServiceError

_ZONES = available_timezones()


def _places() -> frozenset[str]:
    """The zones tzdata lists by country (zone.tab): one name per place, without the old aliases that
    available_timezones() also holds (Africa/Asmera beside Africa/Asmara, America/Atka...). Every
    zone stays valid; this only shortens the lists people choose from. Empty where tzdata has no
    zone.tab."""
    for root in TZPATH:
        path = Path(root) / "zone.tab"
        if path.is_file():
            rows = (line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
            return frozenset(row[2] for row in rows if len(row) > 2) & _ZONES
    return frozenset()


_PLACES = _places()


def _check(name: str | None, timezone: str | None) -> None:
    if name is not None and not name.strip():
        raise ServiceError("validation_error", "The site needs a name.", fields={"name": "required"})
    if timezone is not None and timezone not in _ZONES:
        raise ServiceError("validation_error", "Unknown time zone.", fields={"timezone": "invalid"})


def create_site(tenant_id: int, name: str, timezone: str = "Europe/Paris", actor_id: int | None = None) -> Site:
    _check(name, timezone)
    first = db.session.scalar(select(func.count()).select_from(Site).where(Site.tenant_id == tenant_id)) == 0
    site = Site(tenant_id=tenant_id, name=name.strip()[:120], timezone=timezone)
    db.session.add(site)
    # Sign-up does not ask for a zone, so the organisation's events (sign-ins, audit, tokens) read in
    # UTC until told otherwise: its first site's zone becomes the organisation's while that is still
    # the default. An admin changes it in the privacy settings.
    tenant = db.session.get(Tenant, tenant_id)
    adopted = first and tenant.timezone == "UTC" and timezone != "UTC"
    if adopted:
        tenant.timezone = timezone
        audit.record(tenant_id, actor_id, "privacy.settings", "tenant", tenant_id, commit=False, timezone=timezone)
    db.session.commit()
    audit.record(tenant_id, actor_id, "site.created", "site", site.id, name=site.name, timezone=site.timezone)
    return site


def update_site(site: Site, name: str | None = None, timezone: str | None = None, actor_id: int | None = None) -> Site:
    _check(name, timezone)
    before = {"name": site.name, "timezone": site.timezone}
    if name is not None:
        site.name = name.strip()[:120]
    if timezone is not None:
        site.timezone = timezone
    db.session.commit()
    changed = {k: getattr(site, k) for k, v in before.items() if getattr(site, k) != v}
    if "timezone" in changed:  # rules are evaluated in the site's zone: workers read it again
        from app.services.alerts.rules import rules_changed  # noqa: PLC0415 - loads the alerts package only when needed

        rules_changed(site.tenant_id)
    if changed:  # a form saved unchanged is no event
        audit.record(site.tenant_id, actor_id, "site.changed", "site", site.id, **changed)
    return site


def delete_site(site: Site, actor_id: int | None = None) -> None:
    """Delete a site with its cameras and their data (audit logged)."""
    audit.record(site.tenant_id, actor_id, "site.deleted", "site", site.id, commit=False, name=site.name)
    tenant_id, site_id = site.tenant_id, site.id
    db.session.delete(site)
    db.session.commit()
    # Its cameras' captures close; the tenant's viewers are re-scoped (a limited user may lose it).
    revoke("site_deleted", tenant_id=tenant_id, site_id=site_id)


def timezone_names() -> list[str]:
    return sorted(z for z in _ZONES if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def timezone_choices(current: str | None = None, with_utc: bool = False) -> dict[str, list[tuple[str, str]]]:
    """The zones to choose from, grouped by region for a select's optgroups ("Europe": [("Europe/Paris",
    "Europe/Paris"), ...]): one per place, plus ``current`` if it is an alias already in use."""
    names = set(_PLACES or timezone_names())
    if current in _ZONES and current != "UTC":
        names.add(current)
    groups: dict[str, list[tuple[str, str]]] = {"UTC": [("UTC", "UTC")]} if with_utc or current == "UTC" else {}
    for name in sorted(names):
        groups.setdefault(name.partition("/")[0], []).append((name, name.replace("_", " ")))
    return groups
