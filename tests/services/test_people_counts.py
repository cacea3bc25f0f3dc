"""People seen without identity: spans of anonymous tracks, counted per local hour in reports
(JSON, CSV, PDF), kept per tenant, exported, erased and expired like the observations."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models import Observation, TrackSpan
from app.services import observations
from tests.services.test_tracks import side_by_side

SCORES = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.8, "sad": 0.0, "surprise": 0.0, "neutral": 0.2}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def faces(*track_ids: str) -> list[dict]:
    return [
        {"box": [10 + 100 * i, 10, 80, 80], "emotion": "happy", "confidence": 0.8, "scores": SCORES, "track_id": tid}
        for i, tid in enumerate(track_ids)
    ]


def record(app, ids: tuple[int, int, int], moment: str, *track_ids: str) -> None:
    with app.app_context():
        assert observations.record(*ids, at(moment), "test", faces(*track_ids), 5.0, len(track_ids)) is not None


def far_site(tenant, name: str = "Atoll") -> tuple[dict, dict]:
    r = tenant.call("POST", "/api/v1/sites", json={"name": name, "timezone": "Pacific/Kiritimati"})  # UTC+14
    assert r.status_code == 201, r.get_json()
    site = r.get_json()
    return site, tenant.camera(site["id"], "Door")


def spans(app, tenant_id: int) -> dict[str, TrackSpan]:
    with app.app_context():
        return {s.track_id: s for s in db.session.scalars(select(TrackSpan).where(TrackSpan.tenant_id == tenant_id))}


def test_process_frame_keeps_one_span_per_face_track(app, tenant_a):
    from app.services.analysis import process_frame

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    jpeg = side_by_side()
    with app.app_context():
        app.config["STALE_FRAME_S"] = 600
        start = time.time() - 30
        for i in range(4):
            process_frame(tenant_a.id, site["id"], cam["id"], f"f{i}", start + i * 0.5, jpeg)
    stored = spans(app, tenant_a.id)
    assert len(stored) == 2  # two people side by side: two spans, whatever the frames
    for span in stored.values():
        assert span.frames == 4 and span.camera_id == cam["id"] and span.site_id == site["id"]
        assert abs((span.last_seen - span.first_seen).total_seconds() - 1.5) < 0.01
    # Numbers and the opaque id only: nothing of the face is in the row.
    assert set(TrackSpan.__table__.c.keys()) == {
        "id", "tenant_id", "site_id", "camera_id", "track_id", "first_seen", "last_seen", "frames"
    }  # fmt: skip


def test_frames_out_of_order_widen_the_span_and_spans_need_track_ids(app, tenant_a):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    ids = (tenant_a.id, site["id"], cam["id"])
    record(app, ids, "2026-10-05T10:00:10Z", "aa")
    record(app, ids, "2026-10-05T10:00:30Z", "aa")
    record(app, ids, "2026-10-05T10:00:05Z", "aa")  # a slower worker stores an older frame last
    with app.app_context():
        assert observations.record(*ids, at("2026-10-05T10:00:40Z"), "test", [{"box": [1, 1, 5, 5]}], 5.0) is not None
    stored = spans(app, tenant_a.id)
    assert list(stored) == ["aa"] and stored["aa"].frames == 3
    assert stored["aa"].first_seen == at("2026-10-05T10:00:05Z") and stored["aa"].last_seen == at("2026-10-05T10:00:30Z")


def test_people_seen_per_local_hour_and_median_time_in_view(app, tenant_a, tenant_b):
    site, cam = far_site(tenant_a)
    other = tenant_a.camera(site["id"], "Hall")
    ids = (tenant_a.id, site["id"], cam["id"])
    # Kiritimati is UTC+14: 09:50Z is 23:50 local on 5 Oct, 10:10Z is 00:10 on 6 Oct.
    record(app, ids, "2026-10-05T09:50:00Z", "t1", "t2")
    record(app, ids, "2026-10-05T09:50:20Z", "t1")  # t2 seen once: 0 s in view
    record(app, ids, "2026-10-05T09:59:59Z", "t1")
    record(app, ids, "2026-10-05T10:00:01Z", "t1", "t3")  # t1 crosses the hour (and the local day)
    record(app, ids, "2026-10-05T10:00:41Z", "t3")
    record(app, (tenant_a.id, site["id"], other["id"]), "2026-10-05T10:05:00Z", "h1")
    record(app, (tenant_a.id, site["id"], other["id"]), "2026-10-05T10:05:30Z", "h1")
    # Another tenant's people never count here, even with the same opaque ids.
    b_site, b_cam = far_site(tenant_b)
    record(app, (tenant_b.id, b_site["id"], b_cam["id"]), "2026-10-05T09:55:00Z", "t1", "x1", "x2")

    body = tenant_a.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}&from=2026-10-05&to=2026-10-06")
    assert body.status_code == 200, body.get_json()
    people = body.get_json()["people"]
    # t1: 0 ... 601 s, t2: 0 s, t3: 40 s, h1: 30 s -> nearest-rank median of 0, 30, 40, 601 is 30.
    assert people["people_seen"] == 4 and people["median_time_in_view_s"] == 30.0
    assert people["sites"] == [{"site_id": site["id"], "name": "Atoll", "people_seen": 4, "median_time_in_view_s": 30.0}]
    by_camera = {c["camera_id"]: c for c in people["cameras"]}
    assert by_camera[cam["id"]]["people_seen"] == 3 and by_camera[cam["id"]]["median_time_in_view_s"] == 40.0
    assert by_camera[other["id"]]["people_seen"] == 1 and by_camera[other["id"]]["median_time_in_view_s"] == 30.0
    hourly = [(h["camera_id"], h["hour"], h["people_seen"]) for h in people["hourly"]]
    assert hourly == [
        (cam["id"], "2026-10-05T23:00:00+14:00", 2),  # t1, t2
        (cam["id"], "2026-10-06T00:00:00+14:00", 2),  # t1 again (its span touches both hours), t3
        (other["id"], "2026-10-06T00:00:00+14:00", 1),
    ]
    site_hours = {h["hour"]: h for h in body.get_json()["site_hourly"]}
    assert site_hours["2026-10-06T00:00:00+14:00"]["people_seen"] == 3  # t1, t3, h1
    assert site_hours["2026-10-05T23:00:00+14:00"]["people_seen"] == 2

    # One local day: only the spans that overlap it, and only its hours.
    day = tenant_a.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}&from=2026-10-05&to=2026-10-05").get_json()
    assert day["people"]["people_seen"] == 2  # t1 (until 00:00:01 the next day), t2
    assert [h["hour"] for h in day["people"]["hourly"]] == ["2026-10-05T23:00:00+14:00"]
    # A camera's report holds that camera only; the other tenant's report only its own people.
    one = tenant_a.call("GET", f"/api/v1/reports/emotions?camera_id={other['id']}&from=2026-10-05&to=2026-10-06").get_json()
    assert one["people"]["people_seen"] == 1 and [c["camera_id"] for c in one["people"]["cameras"]] == [other["id"]]
    theirs = tenant_b.call("GET", "/api/v1/reports/emotions?from=2026-10-05&to=2026-10-06").get_json()
    assert theirs["people"]["people_seen"] == 3 and theirs["people"]["median_time_in_view_s"] == 0.0
    assert tenant_b.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}").status_code == 404

    # The CSV: people seen and median time in view per site and local hour, as the last columns.
    r = tenant_a.call("GET", f"/api/v1/reports/emotions?site_id={site['id']}&from=2026-10-05&to=2026-10-06&format=csv")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert list(rows[0])[-2:] == ["people_seen", "median_time_in_view_s"]
    assert [(row["hour_start"], row["people_seen"], row["median_time_in_view_s"]) for row in rows] == [
        ("2026-10-05T23:00:00+14:00", "2", "0.0"),  # t1 (601 s), t2 (0 s): the lower middle
        ("2026-10-06T00:00:00+14:00", "3", "40.0"),  # 601, 40, 30
    ]

    # The PDF, in English and in French.
    for language, words in (("en", ("People seen: 4", "Median time in view: 0 min 30 s")),
                            ("fr", ("Personnes vues", "Durée médiane dans le champ"))):  # fmt: skip
        r = tenant_a.client.get(
            f"/api/v1/reports/emotions?site_id={site['id']}&from=2026-10-05&to=2026-10-06&format=pdf",
            headers={**tenant_a.headers, "Accept-Language": language},
        )
        assert r.status_code == 200 and r.mimetype == "application/pdf"
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(r.data)).pages)
        for word in words:
            assert word in text, (language, word, text)
        assert "Door" in text and "Hall" in text


def test_spans_are_exported_erased_and_expire_with_the_observations(app, tenant_a, tenant_b):
    from app.models import Tenant
    from app.services import privacy

    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    old = (datetime.now(UTC) - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record(app, (tenant_a.id, site["id"], cam["id"]), old, "gone")
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    record(app, (tenant_a.id, site["id"], cam["id"]), recent, "kept", "also")
    b_site = tenant_b.site()
    record(app, (tenant_b.id, b_site["id"], tenant_b.camera(b_site["id"])["id"]), recent, "theirs")
    with app.app_context():
        archive = zipfile.ZipFile(io.BytesIO(privacy.export_tenant(db.session.get(Tenant, tenant_a.id), None)))
        rows = list(csv.DictReader(io.StringIO(archive.read("track_spans.csv").decode())))
        assert sorted(r["track_id"] for r in rows) == ["also", "gone", "kept"]
        assert sorted(r["track_id"] for r in json.loads(archive.read("track_spans.json"))) == ["also", "gone", "kept"]
        assert json.loads(archive.read("manifest.json"))["files"]["track_spans.csv"]["rows"] == 3

        done = privacy.run_retention()
        assert done["track_spans"] == 1 and done["observations"] == 1
    assert sorted(spans(app, tenant_a.id)) == ["also", "kept"]
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_a.id)
        deleted = privacy.erase_tenant(tenant, None, "Alpha School")
        assert deleted["track_spans"] == 2
        assert db.session.scalar(select(func.count()).select_from(TrackSpan).where(TrackSpan.tenant_id == tenant_a.id)) == 0
        assert db.session.scalar(select(func.count()).select_from(Observation).where(Observation.tenant_id == tenant_a.id)) == 0
    assert list(spans(app, tenant_b.id)) == ["theirs"]


def test_privacy_page_and_notice_say_tracks_are_anonymous_and_expire(app, client, tenant_a):
    from app.models import Site, Tenant
    from app.services.notice_pdf import render_notice

    site = tenant_a.site()
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    page = client.get("/admin/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "under a random code that is forgotten a few seconds after the person leaves the view" in page
    with app.app_context():
        for language, words in (
            ("en", "the code never identifies anyone and cannot be matched across cameras or days"),
            ("fr", "ce code n’identifie jamais personne"),
        ):
            pdf = render_notice(db.session.get(Site, site["id"]), db.session.get(Tenant, tenant_a.id), language)
            pages = PdfReader(io.BytesIO(pdf)).pages
            assert len(pages) == 1  # still one sheet for the entrance
            text = " ".join(" ".join(p.extract_text().split()) for p in pages)
            assert words in text, (language, text)


def people_day(app, tenant) -> dict:
    """Two sites in Paris time with tracks on 5 Oct 2026 (UTC+2): the Gate's Door sees three people
    at 10:xx local (20, 40 and 90 s in view) and one at 11:xx (10 s); the Hall's Desk sees one
    (60 s) at 10:xx."""
    gate = tenant.site("Gate")
    door = tenant.camera(gate["id"], "Door")
    hall = tenant.site("Hall")
    desk = tenant.camera(hall["id"], "Desk")
    at_door, at_desk = (tenant.id, gate["id"], door["id"]), (tenant.id, hall["id"], desk["id"])
    for track, first, last in (("p1", "08:00:00", "08:00:20"), ("p2", "08:10:00", "08:10:40"), ("p3", "08:20:00", "08:21:30")):
        record(app, at_door, f"2026-10-05T{first}Z", track)
        record(app, at_door, f"2026-10-05T{last}Z", track)
    record(app, at_door, "2026-10-05T09:30:00Z", "p4")
    record(app, at_door, "2026-10-05T09:30:10Z", "p4")
    record(app, at_desk, "2026-10-05T08:30:00Z", "q1")
    record(app, at_desk, "2026-10-05T08:31:00Z", "q1")
    return {"gate": gate, "door": door, "hall": hall, "desk": desk}


def _cells(page: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells of one table; a row that heads a group (a site) reads
    as ["§ <its text>"]."""
    import re

    table = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert table, f"no table {table_id}"
    strip = lambda cell: " ".join(re.sub(r"<[^>]+>", " ", cell).split())  # noqa: E731
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1).split("</thead>")[1], re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        rows.append([strip(c) for c in cells] if cells else ["§ " + strip(row)])
    return rows


def test_report_page_shows_people_seen_per_site_camera_and_hour(app, client, tenant_a):
    where = people_day(app, tenant_a)
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    page = client.get(
        "/reports/?scope=tenant&period=custom&from=2026-10-05&to=2026-10-05", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert 'id="people-seen"' in page
    # 5 people; times in view 10, 20, 40, 60, 90 s -> median 40 s
    assert '<dd data-figure="people-seen">5</dd>' in page
    assert '<dd data-figure="median-time-in-view"><span class="duration">0 min 40 s</span></dd>' in page
    assert _cells(page, "people-sites") == [["Gate", "4", "0 min 20 s"], ["Hall", "1", "1 min 00 s"]]
    assert _cells(page, "people-cameras") == [["Door (Gate)", "4", "0 min 20 s"], ["Desk (Hall)", "1", "1 min 00 s"]]
    assert _cells(page, "people-hours") == [
        ["§ Gate"],
        ["Oct 5 10:00", "3", "0 min 40 s"],
        ["Oct 5 11:00", "1", "0 min 10 s"],
        ["§ Hall"],
        ["Oct 5 10:00", "1", "1 min 00 s"],
    ]
    # A site's report: no site column, no site groups.
    gate = client.get(
        f"/reports/?scope=site:{where['gate']['id']}&period=custom&from=2026-10-05&to=2026-10-05",
        headers={"Accept-Language": "en"},
    ).get_data(as_text=True)
    assert 'id="people-sites"' not in gate and '<dd data-figure="people-seen">4</dd>' in gate
    assert _cells(gate, "people-cameras") == [["Door", "4", "0 min 20 s"]]
    assert _cells(gate, "people-hours") == [["Oct 5 10:00", "3", "0 min 40 s"], ["Oct 5 11:00", "1", "0 min 10 s"]]
    # In French, and a day without anyone: the figures say so.
    client.post("/language", data={"locale": "fr", "next": "/reports/"})
    french = client.get("/reports/?scope=tenant&period=custom&from=2026-10-05&to=2026-10-05").get_data(as_text=True)
    assert "Personnes vues" in french and "Par caméra" in french and "Par heure" in french
    empty = client.get("/reports/?scope=tenant&period=custom&from=2026-10-07&to=2026-10-07").get_data(as_text=True)
    assert '<dd data-figure="people-seen">0</dd>' in empty and "Aucun visage n’a été suivi" in empty


@pytest.mark.parametrize("language", ["en", "fr"])
def test_pdf_counts_people_per_site_and_hour(app, tenant_a, language):
    from app.services.reports.pdf import people_by_hour

    people_day(app, tenant_a)
    r = tenant_a.client.get(
        "/api/v1/reports/emotions?from=2026-10-05&to=2026-10-05&format=pdf",
        headers={**tenant_a.headers, "Accept-Language": language},
    )
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(r.data)).pages)
    site_rows = {"en": ("Gate 4 0 min 20 s", "Hall 1 1 min 00 s"), "fr": ("Gate 4 0 min 20 s", "Hall 1 1 min 00 s")}
    heading = {"en": "People seen by hour", "fr": "Personnes vues par heure"}[language]
    for words in (*site_rows[language], "Door 4 0 min 20 s", "Desk 1 1 min 00 s", heading):
        assert words in text, (words, text)
    # The chart's bars: both sites' people of each local hour.
    report = tenant_a.call("GET", "/api/v1/reports/emotions?from=2026-10-05&to=2026-10-05").get_json()
    assert people_by_hour(report) == [(datetime(2026, 10, 5, 10), 4), (datetime(2026, 10, 5, 11), 1)]
