"""Reports: figures checked against known seeded data (JSON, CSV, PDF text), time zones and clock
changes, tenancy and roles, schedules with stored files and e-mail."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Alert, AlertRule, GeneratedReport
from app.reporting.aggregate import nearest_rank
from app.reporting.periods import preset_period
from app.services import observations

HAPPY = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.8, "sad": 0.0, "surprise": 0.0, "neutral": 0.2}
SAD = {"angry": 0.0, "disgust": 0.0, "fear": 0.1, "happy": 0.0, "sad": 0.6, "surprise": 0.0, "neutral": 0.3}


def face(scores: dict) -> dict:
    return {"box": [10, 10, 80, 80], "emotion": max(scores, key=scores.get), "confidence": max(scores.values()), "scores": scores}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def seed(app, tenant_id: int, site_id: int, camera_id: int, moments: list[str], faces: list[dict]) -> None:
    with app.app_context():
        for moment in moments:
            assert observations.record(tenant_id, site_id, camera_id, at(moment), "test", faces, 5.0) is not None


def sign_in(client, email: str, password: str = "secret-pass-1"):
    return client.post("/auth/login", data={"email": email, "password": password})


@pytest.fixture
def october(app, tenant_a):
    """A Paris site with known October data: observations, alerts with known acknowledgement delays."""
    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"], "Entrance tablet")
    ids = (tenant_a.id, site["id"], cam["id"])
    seed(app, *ids, [f"2026-10-05T07:00:{5 * i:02d}Z" for i in range(10)], [face(HAPPY)])  # 09:00 local, 1 face
    seed(app, *ids, [f"2026-10-06T14:30:{5 * i:02d}Z" for i in range(4)], [face(SAD), face(SAD)])  # 16:30, 2 faces
    seed(app, *ids, ["2026-10-07T10:00:00Z"], [])  # a frame without any face
    # Period edges, in Paris time: 23:59 on 30 Sept and 00:30 on 1 Nov are out, midnight on 1 Oct
    # and 23:59 on 31 Oct (after the clocks went back) are in.
    seed(app, *ids, ["2026-09-30T21:59:00Z", "2026-10-31T23:30:00Z"], [face(HAPPY)])
    seed(app, *ids, ["2026-09-30T22:00:00Z", "2026-10-31T22:59:00Z"], [face(HAPPY)])
    delays = {"warning": [10, 20, 30, 40, 100], "critical": [60, None]}
    with app.app_context():
        rules = {}
        for severity in delays:
            rule = AlertRule(
                tenant_id=tenant_a.id,
                site_id=site["id"],
                camera_id=cam["id"],
                name=f"Rule {severity}",
                emotion="distress",
                threshold=0.5,
                duration_s=10,
                severity=severity,
            )
            db.session.add(rule)
            db.session.flush()
            rules[severity] = rule.id
        start = at("2026-10-10T08:00:00Z")
        for severity, values in delays.items():
            for i, delay in enumerate(values):
                began = start + timedelta(hours=i)
                db.session.add(
                    Alert(
                        tenant_id=tenant_a.id,
                        rule_id=rules[severity],
                        site_id=site["id"],
                        camera_id=cam["id"],
                        emotion="distress",
                        severity=severity,
                        value=0.7,
                        started_at=began,
                        status="acknowledged" if delay else "open",
                        acknowledged_at=began + timedelta(seconds=delay) if delay else None,
                    )
                )
        db.session.add(
            Alert(
                tenant_id=tenant_a.id,
                rule_id=None,
                site_id=site["id"],
                camera_id=cam["id"],
                emotion="camera_offline",
                severity="warning",
                value=0.0,
                started_at=start,
                status="resolved",
            )
        )
        # An alert of September is outside the period.
        db.session.add(
            Alert(
                tenant_id=tenant_a.id,
                rule_id=rules["warning"],
                site_id=site["id"],
                camera_id=cam["id"],
                emotion="distress",
                severity="warning",
                value=0.7,
                started_at=at("2026-09-15T08:00:00Z"),
            )
        )
        db.session.commit()
    return {"site": site, "camera": cam, "rules": rules}


def test_report_figures_match_the_seeded_data(tenant_a, october):
    site = october["site"]
    r = tenant_a.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}&from=2026-10-01&to=2026-10-31")
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert report["scope"] == {**report["scope"], "kind": "site", "name": "Gate", "site_id": site["id"]}
    assert report["period"] == {"from": "2026-10-01", "to": "2026-10-31", "time_zones": ["Europe/Paris"]}
    totals = report["totals"]
    assert (totals["observations"], totals["faces"], totals["classified_observations"]) == (17, 20, 16)
    # Means over classified observations: 12 happy frames (0.8) and 4 sad ones (0.6).
    assert totals["scores"]["happy"] == pytest.approx(12 * 0.8 / 16, abs=1e-4)
    assert totals["scores"]["sad"] == pytest.approx(4 * 0.6 / 16, abs=1e-4)
    assert totals["dominant_emotion"] == "happy"
    hours = {row["hour"]: row for row in report["hourly"]}
    assert list(hours)[0] == "2026-10-01T00:00:00+02:00" and list(hours)[-1] == "2026-10-31T23:00:00+01:00"
    nine = hours["2026-10-05T09:00:00+02:00"]
    assert (nine["observations"], nine["faces"], nine["scores"]["happy"]) == (10, 10, 0.8)
    assert hours["2026-10-06T16:00:00+02:00"]["faces"] == 8
    assert hours["2026-10-07T12:00:00+02:00"] == {**hours["2026-10-07T12:00:00+02:00"], "observations": 1, "scores": None}
    heat = {(c["weekday"], c["hour"]): c for c in report["heatmap"]}
    assert heat[(0, 9)]["observations"] == 10 and heat[(1, 16)]["faces"] == 8  # Monday 09h, Tuesday 16h
    assert report["sites"] == [{**report["sites"][0], "site_id": site["id"], "dominant_emotion": "happy", "observations": 17}]

    alerts = report["alerts"]
    assert alerts["total"] == 8 and alerts["by_severity"] == {"warning": 6, "critical": 2}
    by_rule = {(row["rule_id"], row["severity"]): row["count"] for row in alerts["by_rule"]}
    assert by_rule == {
        (october["rules"]["warning"], "warning"): 5,
        (october["rules"]["critical"], "critical"): 2,
        (None, "warning"): 1,
    }
    delays = sorted([10, 20, 30, 40, 100, 60])
    assert alerts["time_to_ack"] == {"acknowledged": 6, "median_s": nearest_rank(delays, 0.5), "p90_s": nearest_rank(delays, 0.9)}
    assert (alerts["time_to_ack"]["median_s"], alerts["time_to_ack"]["p90_s"]) == (30.0, 100.0)
    # Frames fell in 5 distinct minutes (a frame without faces still shows the camera was sending).
    assert report["coverage"] == [{**report["coverage"][0], "camera": "Entrance tablet", "seconds_sending": 300}]

    # The camera scope gives the same figures; the whole tenant too (one site).
    cam = tenant_a.call("GET", f"/api/v1/reports/emotions?camera_id={october['camera']['id']}&from=2026-10-01&to=2026-10-31")
    assert cam.get_json()["totals"] == totals and cam.get_json()["scope"]["kind"] == "camera"
    whole = tenant_a.call("GET", "/api/v1/reports/emotions?from=2026-10-01&to=2026-10-31").get_json()
    assert whole["totals"] == totals and whole["scope"]["kind"] == "tenant"


def test_csv_and_pdf_carry_the_same_figures_in_french(tenant_a, october):
    query = f"/api/v1/reports/emotions?site_id={october['site']['id']}&from=2026-10-01&to=2026-10-31"
    r = tenant_a.call("GET", query + "&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="emotiscan-gate-2026-10-01_2026-10-31.csv"'
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert sum(int(row["observations"]) for row in rows) == 17 and sum(int(row["faces"]) for row in rows) == 20
    nine = next(row for row in rows if row["hour_start"] == "2026-10-05T09:00:00+02:00")
    assert (nine["site"], nine["observations"], float(nine["happy"]), float(nine["neutral"])) == ("Gate", "10", 0.8, 0.2)

    r = tenant_a.client.get(query + "&format=pdf", headers={**tenant_a.headers, "Accept-Language": "fr"})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(r.data)).pages)
    text = " ".join(text.split())
    for expected in (
        "Rapport d'émotions",
        "Alpha School",
        "Gate",
        "1 octobre 2026",
        "31 octobre 2026",
        "Observations : 17",
        "Visages comptés : 20",
        "Alertes : 8",
        "Rule warning",
        "0 min 30 s",
        "1 min 40 s",
        "Entrance tablet",
        "ne décrivent pas",
    ):
        assert expected in text, expected
    # Shares as the page shows them, in the reader's notation: "80 %" in French, never "0.80".
    assert re.search(r"\b\d{1,3} %", text) and not re.search(r"\b0\.\d\d\b", text)
    english = tenant_a.client.get(query + "&format=pdf", headers={**tenant_a.headers, "Accept-Language": "en"})
    english_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(english.data)).pages)
    assert "Emotion report" in english_text and re.search(r"\b\d{1,3}%", english_text)


def test_report_file_names_keep_the_letters_of_accented_names(tenant_a):
    site = tenant_a.call("POST", "/api/v1/sites", json={"name": "École Jean-Jaurès", "timezone": "Europe/Paris"}).get_json()
    r = tenant_a.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}&from=2026-10-01&to=2026-10-31&format=csv")
    assert r.headers["Content-Disposition"] == 'attachment; filename="emotiscan-ecole-jean-jaures-2026-10-01_2026-10-31.csv"'


def test_days_when_clocks_change_have_23_and_25_hours(app, client, tenant_a):
    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"])
    quarter = timedelta(minutes=15)
    for first, last in (("2026-03-28T21:00:00Z", "2026-03-29T23:00:00Z"), ("2026-10-24T20:00:00Z", "2026-10-26T01:00:00Z")):
        moments, moment = [], at(first)
        while moment < at(last):
            moments.append(moment.isoformat())
            moment += quarter
        seed(app, tenant_a.id, site["id"], cam["id"], moments, [face(HAPPY)])
    spring = tenant_a.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}&from=2026-03-29&to=2026-03-29").get_json()
    assert len(spring["hourly"]) == 23 and spring["totals"]["observations"] == 23 * 4
    assert not any(row["hour"].startswith("2026-03-29T02:") for row in spring["hourly"])
    autumn = tenant_a.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}&from=2026-10-25&to=2026-10-25").get_json()
    assert len(autumn["hourly"]) == 25 and autumn["totals"]["observations"] == 25 * 4
    assert [row["hour"] for row in autumn["hourly"] if "T02:" in row["hour"]] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
    ]
    assert all(row["observations"] == 4 for row in autumn["hourly"])
    heat = {(c["weekday"], c["hour"]): c["observations"] for c in autumn["heatmap"]}
    assert heat[(6, 2)] == 8 and heat[(6, 3)] == 4  # Sunday 02h happened twice
    # The page's table: one offset for a day is said once, in the heading; on the day the clocks
    # change, each hour carries its own, so that the two 02:00 can be told apart.
    sign_in(client, tenant_a.email)
    page = f"/reports/?scope=site:{site['id']}&period=custom&from=2026-10-24&to=2026-10-24"
    html = client.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Hour (UTC+02:00)</th>" in html and "(UTC+02:00)</td>" not in html
    html = client.get(page.replace("10-24", "10-25"), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<th scope="col">Hour</th>' in html
    assert re.findall(r"<td>Oct 25 02:00 \((UTC[+-]\d\d:\d\d)\)</td>", html) == ["UTC+02:00", "UTC+01:00"]


def test_each_site_reports_in_its_own_time_zone(app, tenant_a):
    paris = tenant_a.site("Paris")
    r = tenant_a.call("POST", "/api/v1/sites", json={"name": "New York", "timezone": "America/New_York"})
    new_york = r.get_json()
    for site in (paris, new_york):
        cam = tenant_a.camera(site["id"])
        # 03:00 UTC on 2 Oct: 05:00 on 2 Oct in Paris, 23:00 on 1 Oct in New York.
        seed(app, tenant_a.id, site["id"], cam["id"], ["2026-10-02T03:00:00Z"], [face(HAPPY)])
    report = tenant_a.call("GET", "/api/v1/reports/emotions?from=2026-10-02&to=2026-10-02").get_json()
    assert report["period"]["time_zones"] == ["America/New_York", "Europe/Paris"]
    assert [(s["name"], s["observations"]) for s in report["sites"]] == [("Paris", 1)]
    assert [row["hour"] for row in report["hourly"]] == ["2026-10-02T05:00:00+02:00"]
    first = tenant_a.call("GET", "/api/v1/reports/emotions?from=2026-10-01&to=2026-10-01").get_json()
    assert [row["hour"] for row in first["hourly"]] == ["2026-10-01T23:00:00-04:00"]


def test_report_includes_data_up_to_the_request(app, tenant_a):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    seed(app, tenant_a.id, site["id"], cam["id"], [(datetime.now(UTC) - timedelta(seconds=2)).isoformat()], [face(SAD)])
    report = tenant_a.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}").get_json()  # default: last 7 days
    assert report["totals"]["observations"] == 1 and report["totals"]["dominant_emotion"] == "sad"


def test_reports_are_tenant_scoped_and_for_managers(client, tenant_a, tenant_b, october):
    site, cam = october["site"], october["camera"]
    path = "/api/v1/reports/emotions?from=2026-10-01&to=2026-10-31"
    assert client.get(path).status_code == 401
    for query in (f"&site_id={site['id']}", f"&camera_id={cam['id']}", f"&site_id={site['id']}&format=pdf"):
        r = tenant_b.call("GET", path + query)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    whole = tenant_b.call("GET", path).get_json()
    assert whole["totals"]["observations"] == 0 and whole["alerts"]["total"] == 0 and whole["coverage"] == []
    _, staff = tenant_a.user("staff")
    assert tenant_a.call("GET", path + f"&site_id={site['id']}", token=staff).status_code == 403
    other = tenant_a.site("Other")
    _, limited = tenant_a.user("manager", site_ids=[other["id"]])
    assert tenant_a.call("GET", path + f"&site_id={site['id']}", token=limited).status_code == 404
    assert tenant_a.call("GET", path, token=limited).get_json()["totals"]["observations"] == 0
    _, manager = tenant_a.user("manager")
    assert tenant_a.call("GET", path, token=manager).get_json()["totals"]["observations"] == 17
    for bad in (
        "&from=2026-31-10",
        "&from=2026-11-01&to=2026-10-01",
        "&from=2024-01-01&to=2026-01-01",
        "&format=xml",
        "&site_id=abc",
    ):
        r = tenant_a.call(
            "GET",
            path.split("?")[0] + "?from=2026-10-01" + bad if "from=" not in bad else path.split("?")[0] + "?" + bad.lstrip("&"),
        )
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "validation_error", bad


def test_report_page_downloads_and_roles(client, tenant_a, tenant_b, october):
    sign_in(client, tenant_a.email)
    page = client.get(
        f"/reports/?scope=site:{october['site']['id']}&period=custom&from=2026-10-01&to=2026-10-31",
        headers={"Accept-Language": "fr"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Rapport d'émotions</h1>" in html and "hourly-chart" in html
    # Chart.js from our own static files: no script or style from another host (a random token on
    # the page may well contain the letters "cdn").
    assert "vendor/chart.umd.min.js" in html and not re.search(r'(src|href)="(https?:)?//', html)
    assert ">17<" in html and "ne décrivent pas" in html
    csv_page = client.get(f"/reports/download.csv?scope=site:{october['site']['id']}&period=custom&from=2026-10-01&to=2026-10-31")
    assert sum(int(r["observations"]) for r in csv.DictReader(io.StringIO(csv_page.get_data(as_text=True)))) == 17
    pdf = client.get(f"/reports/download.pdf?scope=camera:{october['camera']['id']}&period=custom&from=2026-10-01&to=2026-10-31")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    empty = client.get("/reports/?period=today", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No observation in this period" in empty
    assert client.get("/reports/?period=custom&from=nonsense").status_code == 302
    assert client.get(f"/reports/?scope=site:{october['site']['id'] + 1000}").status_code == 404
    client.post("/auth/logout")
    sign_in(client, tenant_b.email)
    assert client.get(f"/reports/?scope=site:{october['site']['id']}").status_code == 404
    client.post("/auth/logout")
    staff, _ = tenant_a.user("staff")
    sign_in(client, staff["email"], "secret-pass-2")
    assert client.get("/reports/").status_code == 403 and client.get("/reports/schedules").status_code == 403
    assert "/reports/" not in client.get("/live").get_data(as_text=True)


def test_monthly_schedule_stores_and_mails_the_report(app, client, tenant_a, tenant_b, october, smtp):
    from app.services.reports import schedules as report_schedules

    manager, _ = tenant_a.user("manager")
    staff, _ = tenant_a.user("staff")
    sign_in(client, tenant_a.email)
    form = {"scope": f"site:{october['site']['id']}", "frequency": "monthly", "language": "fr"}
    assert client.post("/reports/schedules", data={**form, "recipients": [staff["id"]]}).status_code == 400  # not a manager
    r = client.post("/reports/schedules", data={**form, "recipients": [tenant_a.admin_id, manager["id"]]})
    assert r.status_code == 302
    smtp.wait(2)
    assert sorted(to for to, _ in smtp.messages) == sorted([tenant_a.email, manager["email"]])
    message = email.message_from_string(smtp.messages[0][1], policy=email.policy.default)
    assert "Rapport EmotiScan" in message["Subject"]
    names = [part.get_filename() for part in message.iter_attachments()]
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".csv") for n in names)
    with app.app_context():
        first = db.session.scalars(db.select(GeneratedReport)).one()  # made at once: the last complete month
        today = datetime.now(ZoneInfo("Europe/Paris")).date()
        assert (first.period_from, first.period_to) == astuple(preset_period("last_month", today))
        schedule_id = first.schedule_id
        db.session.delete(first)
        db.session.commit()
        schedule = db.session.get(report_schedules.ReportSchedule, schedule_id)
        # On 1 November, Paris time, the schedule makes October's report, once.
        november = at("2026-11-01T00:30:00+01:00")
        stored = report_schedules.run_schedule(schedule, now=november)
        assert (stored.period_from.isoformat(), stored.period_to.isoformat()) == ("2026-10-01", "2026-10-31")
        assert stored.summary == {"observations": 17, "faces": 20, "alerts": 8}
        assert report_schedules.run_schedule(schedule, now=november) is None
        assert report_schedules.run_due(now=november + timedelta(hours=5)) == 0
        stored_id = stored.id
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(client.get(f"/reports/files/{stored_id}.pdf").data)).pages)
    assert "Observations : 17" in " ".join(text.split()) and "octobre 2026" in text
    history = client.get("/reports/schedules", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert f"/reports/files/{stored_id}.pdf" in history and "Mensuel" in history
    assert client.get(f"/reports/files/{stored_id}.csv").get_data(as_text=True).startswith("site_id,site,hour_start")
    client.post("/auth/logout")
    sign_in(client, tenant_b.email)
    assert client.get(f"/reports/files/{stored_id}.pdf").status_code == 404
    assert f"/reports/files/{stored_id}" not in client.get("/reports/schedules").get_data(as_text=True)
    client.post("/auth/logout")
    sign_in(client, tenant_a.email)
    assert client.get(f"/reports/schedules/{schedule_id}/delete").status_code == 200  # asks first
    assert client.post(f"/reports/schedules/{schedule_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(GeneratedReport, stored_id) is not None  # the history stays


def test_rollups_kept_at_write_time_equal_a_rebuild_from_raw_rows(app, tenant_a, october):
    """The migration's backfill and the per-observation upsert agree, bit masks included."""
    from sqlalchemy import select, text

    from app.models import ObservationRollup
    from app.reporting.sql import rollup_backfill_sql

    def snapshot():
        rows = db.session.execute(select(ObservationRollup).order_by(ObservationRollup.camera_id, ObservationRollup.slot))
        return [
            {c: round(v, 6) if isinstance(v, float) else v for c, v in vars(r).items() if not c.startswith("_")} for (r,) in rows
        ]

    with app.app_context():
        live = snapshot()
        assert sum(r["observations"] for r in live) == 19 and any(bin(r["minutes"]).count("1") > 0 for r in live)
        db.session.execute(text("DELETE FROM observation_rollups"))
        db.session.execute(text(rollup_backfill_sql(db.session.get_bind().dialect.name)))
        db.session.commit()
        db.session.expire_all()
        assert snapshot() == live


def one_hour_report(app, tenant_a, zone: str = "Pacific/Kiritimati") -> dict:
    """A report of one site whose only data is one hour (10:00-10:59 local on 2 Dec 2026)."""
    from app.services import reports

    r = tenant_a.call("POST", "/api/v1/sites", json={"name": "Atoll", "timezone": zone})
    assert r.status_code == 201, r.get_json()
    site = r.get_json()
    cam = tenant_a.camera(site["id"], "Desk")
    # 10:05-10:50 local in Kiritimati (UTC+14) is 20:05-20:50 UTC the day before.
    seed(app, tenant_a.id, site["id"], cam["id"], [f"2026-12-01T20:{m:02d}:00Z" for m in (5, 20, 35, 50)], [face(HAPPY)])
    with app.app_context():
        from app.models import Site, Tenant

        scope = reports.scope_for(db.session.get(Tenant, tenant_a.id), db.session.get(Site, site["id"]))
        return reports.build_report(
            scope,
            reports.Period(at("2026-12-02T00:00:00Z").date(), at("2026-12-02T00:00:00Z").date()),
            at("2026-12-02T12:00:00Z"),
        )


def test_one_hour_period_draws_points_on_a_sane_axis(app, tenant_a):
    from matplotlib.dates import num2date

    from app.services.reports.pdf import render_pdf

    report = one_hour_report(app, tenant_a)
    assert [row["hour"] for row in report["hourly"]] == ["2026-12-02T10:00:00+14:00"]
    assert report["period"]["time_zones"] == ["Pacific/Kiritimati"]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        chart: dict = {}
        pdf = render_pdf(report, chart)
    # Seven expressions, one point each; the axis spans the hour, not 2025-2029.
    assert chart["points"] == 7
    low, high = (num2date(x).replace(tzinfo=None) for x in chart["xlim"])
    assert (low, high) == (datetime(2026, 12, 2, 9, 30), datetime(2026, 12, 2, 10, 30))
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Pacific/Kiritimati" in text


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_pdf_table_headers_break_between_words_only(app, tenant_a, lang):
    from app.labels import EMOTION_LABELS
    from app.services.reports.pdf import render_pdf

    report = one_hour_report(app, tenant_a)
    with app.test_request_context(headers={"Accept-Language": lang}):
        pdf = render_pdf(report)
        words = {w for label in EMOTION_LABELS.values() for w in str(label).split()}
        words |= {"Observations", "Dominant", "Dominante"}
    lines = [ln.strip() for page in PdfReader(io.BytesIO(pdf)).pages for ln in page.extract_text().splitlines()]
    # Every header word of the sites table appears whole on some line (a mid-word break splits it).
    head = " ".join(lines)
    for word in words & set(head.split()):
        assert word in head.split()
    for fragment in ("Observatio", "Surpris", "Dégoû"):
        assert fragment not in {ln for ln in lines}, fragment
    assert not any(ln in ("n", "ns", "e", "ise", "t") for ln in lines), [ln for ln in lines if len(ln) <= 3]


def test_pdf_headings_are_kept_with_what_follows(app, tenant_a):
    """A heading never sits last on a page: the next block of the same page follows it."""
    from app.services.reports.pdf import render_pdf

    report = one_hour_report(app, tenant_a)
    # Many sites push the later headings to every position on the page.
    report["sites"] = [{**report["sites"][0], "name": f"Site {i}"} for i in range(1, 40)]
    headings = ("Share of each expression by hour", "When faces are seen", "Sites", "Alerts", "Data coverage")
    for extra in range(0, 12, 2):
        r = {**report, "sites": report["sites"][: 20 + extra]}
        with app.test_request_context(headers={"Accept-Language": "en"}):
            pdf = render_pdf(r)
        for page in PdfReader(io.BytesIO(pdf)).pages:
            lines = [ln.strip() for ln in page.extract_text().splitlines() if ln.strip()]
            assert lines and lines[-1] not in headings, (extra, lines[-3:])


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_new_organisation_report_defaults_to_the_last_7_days_with_what_to_do(client, tenant_a, lang):
    sign_in(client, tenant_a.email)
    html = client.get("/reports/", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert re.search(r'<option value="last_7_days" selected>', html)
    assert 'id="report-empty"' in html and "/admin/sites" in html
    expected = "open its capture link" if lang == "en" else "ouvrez son lien de capture"
    assert expected in html


def test_csv_rows_name_their_sites_time_zone(app, tenant_a):
    from app.reporting.csv_export import report_csv

    rows = list(csv.DictReader(io.StringIO(report_csv(one_hour_report(app, tenant_a)))))
    assert [(r["hour_start"], r["time_zone"]) for r in rows] == [("2026-12-02T10:00:00+14:00", "Pacific/Kiritimati")]
