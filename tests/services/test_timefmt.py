"""The one formatter of a stored moment in the zone it belongs to (app.timefmt.local_time) and its
Jinja filters: the zone's wall clock in the user's language, labelled with the zone."""

from __future__ import annotations

from datetime import UTC, datetime

from app.timefmt import iso_utc, local_iso, local_time

KIRITIMATI = "Pacific/Kiritimati"  # UTC+14: the date itself differs from UTC's
LA = "America/Los_Angeles"


def test_a_moment_reads_in_the_zones_wall_clock_with_the_zone_label():
    moment = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    assert local_time(moment, KIRITIMATI, "fr") == "02/12/2026 04:05 (Pacific/Kiritimati)"
    assert local_time(moment, LA, "fr") == "01/12/2026 06:05 (America/Los_Angeles)"
    assert local_time(moment, KIRITIMATI, "en").replace("\u202f", " ") == "12/2/26, 4:05 AM (Pacific/Kiritimati)"
    assert local_iso(moment, KIRITIMATI) == "2026-12-02T04:05:00+14:00"


def test_naive_datetimes_and_iso_strings_are_utc():
    naive = datetime(2026, 12, 1, 14, 5)
    assert local_time(naive, KIRITIMATI, "fr") == "02/12/2026 04:05 (Pacific/Kiritimati)"
    assert local_time("2026-12-01T14:05:00Z", KIRITIMATI, "fr") == "02/12/2026 04:05 (Pacific/Kiritimati)"
    assert local_iso(naive, LA) == "2026-12-01T06:05:00-08:00"


def test_none_stays_none_and_an_unknown_zone_reads_as_utc():
    assert local_time(None, KIRITIMATI) is None
    assert local_time(datetime(2026, 12, 1, 14, 5, tzinfo=UTC), "Mars/Olympus", "fr") == "01/12/2026 14:05 (UTC)"
    assert local_time(datetime(2026, 12, 1, 14, 5, tzinfo=UTC), "", "fr") == "01/12/2026 14:05 (UTC)"


def test_daylight_saving_edges():
    # Spring forward in Los Angeles: 01:59 PST is followed one minute later by 03:00 PDT.
    assert local_time(datetime(2026, 3, 8, 9, 59, tzinfo=UTC), LA, "fr") == "08/03/2026 01:59 (America/Los_Angeles)"
    assert local_time(datetime(2026, 3, 8, 10, 0, tzinfo=UTC), LA, "fr") == "08/03/2026 03:00 (America/Los_Angeles)"
    # Fall back: 01:30 happens twice; the offset in the machine-readable value tells them apart.
    first, second = datetime(2026, 11, 1, 8, 30, tzinfo=UTC), datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    assert local_time(first, LA, "fr") == local_time(second, LA, "fr") == "01/11/2026 01:30 (America/Los_Angeles)"
    assert (local_iso(first, LA), local_iso(second, LA)) == ("2026-11-01T01:30:00-07:00", "2026-11-01T01:30:00-08:00")


def test_the_filters_render_a_time_element_in_the_site_or_organisation_zone(app):
    from flask import render_template_string

    moment = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        html = render_template_string(
            "{{ m|site_time(z) }}|{{ none|site_time(z) }}|{{ m|org_time }}", m=moment, z=KIRITIMATI, none=None
        )
    site, missing, org = html.split("|")
    assert site == (
        f'<time datetime="2026-12-02T04:05:00+14:00" data-utc="{iso_utc(moment)}" data-zone="{KIRITIMATI}">'
        "02/12/2026 04:05 (Pacific/Kiritimati)</time>"
    )
    assert missing == "—"
    # No one signed in: the organisation's zone falls back to UTC.
    assert org.endswith(">01/12/2026 14:05 (UTC)</time>")


def test_the_organisation_zone_is_the_signed_in_persons_tenants(app):
    from flask import render_template_string
    from flask_login import login_user

    from app.extensions import db
    from app.models import Tenant, User

    with app.app_context():
        tenant = Tenant(name="Atoll", timezone=KIRITIMATI)
        db.session.add(tenant)
        db.session.flush()
        user = User(tenant_id=tenant.id, email="a@atoll.example", role="admin", locale="en")
        user.set_password("secret-pass-1")
        db.session.add(user)
        db.session.commit()
        with app.test_request_context():
            login_user(user)
            html = render_template_string("{{ m|org_time }}", m=datetime(2026, 12, 1, 14, 5, tzinfo=UTC))
    assert 'data-zone="Pacific/Kiritimati"' in html and "(Pacific/Kiritimati)" in html
    assert "12/2/26" in html  # the user's language (en), the organisation's date (UTC+14)


def test_the_admin_sets_the_organisation_zone_and_an_unknown_one_is_refused(app):
    import pytest

    from app.extensions import db
    from app.models import Tenant
    from app.services import privacy
    from app.services.errors import ServiceError

    with app.app_context():
        tenant = Tenant(name="Atoll")
        db.session.add(tenant)
        db.session.commit()
        assert tenant.timezone == "UTC"  # the default before an admin chooses
        with pytest.raises(ServiceError) as refused:
            privacy.update_settings(tenant, None, timezone="Mars/Olympus")
        assert refused.value.fields == {"timezone": "invalid"}
        privacy.update_settings(tenant, None, timezone=KIRITIMATI)
        assert db.session.get(Tenant, tenant.id).timezone == KIRITIMATI


def test_the_organisation_zone_through_the_api(tenant_a, tenant_b):
    assert tenant_a.call("GET", "/api/v1/me").get_json()["tenant"]["timezone"] == "UTC"
    r = tenant_a.call("PATCH", "/api/v1/organisation", json={"timezone": KIRITIMATI})
    assert r.status_code == 200 and r.get_json()["timezone"] == KIRITIMATI, r.get_json()
    assert tenant_a.call("GET", "/api/v1/me").get_json()["tenant"]["timezone"] == KIRITIMATI
    bad = tenant_a.call("PATCH", "/api/v1/organisation", json={"timezone": "Mars/Olympus"})
    assert bad.status_code == 400 and bad.get_json()["error"]["fields"] == {"timezone": "invalid"}, bad.get_json()
    assert tenant_a.call("PATCH", "/api/v1/organisation", json={"timezone": 14}).status_code == 400
    # Tenant B's zone is its own.
    assert tenant_b.call("GET", "/api/v1/me").get_json()["tenant"]["timezone"] == "UTC"
    _, staff = tenant_a.user("staff")
    assert tenant_a.call("PATCH", "/api/v1/organisation", token=staff, json={"timezone": "UTC"}).status_code == 403
    assert tenant_a.call("GET", "/api/v1/me").get_json()["tenant"]["timezone"] == KIRITIMATI
