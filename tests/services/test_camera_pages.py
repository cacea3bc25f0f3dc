"""Camera pages: an IP camera added and changed from the site page (not only through the API),
the service's refusals said in the page's language, and what a stream camera's page shows and
hides (its address without secrets, never its password, no capture link)."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Camera

FR = {"Accept-Language": "fr"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def admin(app, client, tenant_a):
    app.config["STREAM_SOURCES_ALLOW"] = ["127.0.0.0/8"]
    site = tenant_a.site("Gate")
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    return site


def _camera(app, camera_id: int) -> Camera:
    with app.app_context():
        camera = db.session.get(Camera, camera_id)
        db.session.expunge(camera)
        return camera


def _add_stream(client, site, **extra):
    data = {"kind": "stream", "name": "Door", "site_id": site["id"], "fps": 2, "source_url": "rtsp://127.0.0.1:8554/door"}
    return client.post("/admin/cameras", data={**data, **extra}, headers=EN)


def test_an_ip_camera_is_added_from_the_site_page_and_its_page_hides_its_secrets(app, client, admin):
    page = client.get(f"/admin/sites/{admin['id']}", headers=EN).get_data(as_text=True)
    assert 'name="kind"' in page and 'value="stream"' in page and 'name="source_url"' in page
    r = _add_stream(client, admin, source_url="rtsp://127.0.0.1:8554/door?pwd=k3y", username="cam", password="hunter22")
    assert r.status_code == 302 and "/admin/cameras/" in r.headers["Location"]
    camera_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    camera = _camera(app, camera_id)
    assert (camera.kind, camera.fps, camera.stream_status) == ("stream", 2, "connecting")
    assert camera.credentials and "hunter22" not in camera.credentials  # stored encrypted
    detail = client.get(f"/admin/cameras/{camera_id}", headers=EN).get_data(as_text=True)
    assert "rtsp://127.0.0.1:8554/door?pwd=***" in detail and "stored (never shown)" in detail
    assert "hunter22" not in detail and "k3y" not in detail and "cam:" not in detail
    assert "Renew the capture link" not in detail and "Link renewed" not in detail and "Added:" in detail
    assert client.get(f"/admin/cameras/{camera_id}/qr-sheet").status_code == 404  # nothing to print


def test_refusals_come_back_on_the_form_in_french_with_what_was_typed(app, client, admin):
    r = client.post("/admin/cameras", data={"kind": "stream", "name": "Porte", "site_id": admin["id"], "fps": 2}, headers=FR)
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "Indiquez l&#39;adresse de la caméra." in page and 'value="Porte"' in page
    r = _add_stream(client, admin, source_url="rtsp://a camera/x")
    assert r.status_code == 400 and "Check the camera&#39;s address" in r.get_data(as_text=True)
    r = client.post(
        "/admin/cameras",
        data={"kind": "stream", "name": "Porte", "site_id": admin["id"], "fps": 2, "source_url": "rtsp://10.9.9.9/x"},
        headers=FR,
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "n&#39;a pas le droit de lire cette adresse" in page and "STREAM_SOURCES_ALLOW" in page
    with app.app_context():
        assert db.session.query(Camera).count() == 0


def test_without_allowed_networks_only_tablet_cameras_are_offered(app, client, admin):
    app.config["STREAM_SOURCES_ALLOW"] = []
    page = client.get(f"/admin/sites/{admin['id']}", headers=FR).get_data(as_text=True)
    assert 'name="kind"' not in page and 'name="source_url"' not in page and "agent local" in page
    r = client.post("/admin/cameras", data={"name": "Caisse", "site_id": admin["id"], "fps": 5}, headers=FR)
    assert r.status_code == 200 and 'id="capture-url"' in r.get_data(as_text=True)  # a tablet camera, as before


def test_settings_keep_what_is_left_blank_and_change_what_is_given(app, client, admin):
    camera_id = int(_add_stream(client, admin, username="cam", password="hunter22").headers["Location"].rsplit("/", 1)[1])
    form = {"name": "Front door", "site_id": admin["id"], "fps": 3, "enabled": "y"}
    assert client.post(f"/admin/cameras/{camera_id}", data=form).status_code == 302
    with app.app_context():
        from app.services.cameras import credentials_of

        camera = db.session.get(Camera, camera_id)
        assert (camera.name, camera.fps, camera.source_url) == ("Front door", 3, "rtsp://127.0.0.1:8554/door")
        assert credentials_of(camera) == ("cam", "hunter22")
    # A new password alone keeps the user name; a new address replaces the old one.
    form.update(password="s3cond", source_url="http://127.0.0.1:8080/snap.jpg")
    assert client.post(f"/admin/cameras/{camera_id}", data=form).status_code == 302
    with app.app_context():
        camera = db.session.get(Camera, camera_id)
        assert credentials_of(camera) == ("cam", "s3cond") and camera.source_url == "http://127.0.0.1:8080/snap.jpg"
    # Unticked: paused; forgetting the credentials removes them.
    r = client.post(
        f"/admin/cameras/{camera_id}", data={"name": "Front door", "site_id": admin["id"], "fps": 3, "forget_credentials": "y"}
    )
    assert r.status_code == 302
    camera = _camera(app, camera_id)
    assert camera.enabled is False and camera.stream_status == "disabled" and camera.credentials is None
    # An address the server may not pull is refused on the field, nothing changed.
    r = client.post(f"/admin/cameras/{camera_id}", data={**form, "source_url": "rtsp://10.9.9.9/x"}, headers=FR)
    assert r.status_code == 400 and "n&#39;a pas le droit de lire cette adresse" in r.get_data(as_text=True)
    assert _camera(app, camera_id).source_url == "http://127.0.0.1:8080/snap.jpg"


def test_a_stream_error_reads_in_the_page_language_with_its_detail(app, client, admin):
    camera_id = int(_add_stream(client, admin).headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        from app.services.cameras import set_stream_status

        set_stream_status(camera_id, "unreachable", "auth_failed: rtsp://127.0.0.1:8554/door refused the credentials")
    for path in (f"/admin/sites/{admin['id']}", f"/admin/cameras/{camera_id}"):
        page = client.get(path, headers=FR).get_data(as_text=True)
        text = re.sub(r"\s+", " ", page)
        assert (
            "injoignable" in text and "Dernière erreur : la caméra a refusé le nom d&#39;utilisateur ou le mot de passe" in text
        )
        assert "(rtsp://127.0.0.1:8554/door refused the credentials)" in text


def test_the_live_room_shows_each_cameras_last_frame_before_it_opened(app, client, tenant_a, admin):
    from datetime import UTC, datetime

    seen = tenant_a.camera(admin["id"], "Seen")
    tenant_a.camera(admin["id"], "Never")
    with app.app_context():
        db.session.get(Camera, seen["id"]).last_seen_at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        db.session.commit()
    page = client.get("/live", headers=FR).get_data(as_text=True)
    tiles = {name: page[page.index(f"<h2>{name} ") :][:2500] for name in ("Seen", "Never")}
    # The site is in Europe/Paris (tenant_a.site): 09:30 UTC is 10:30 there, its zone named beside.
    updated = re.search(r'class="updated">.*?</p>', tiles["Seen"], re.S).group(0)
    assert "10:30" in updated and 'datetime="2026-12-01T10:30:00+01:00"' in updated and updated.count("Europe/Paris)") == 1
    assert "<time>—</time>" in tiles["Never"]


def test_an_empty_rate_is_the_kinds_own_and_a_refusal_leaves_the_site_form_alone(app, client, admin):
    base = {"name": "Door", "site_id": admin["id"], "fps": ""}
    r = client.post("/admin/cameras", data={**base, "kind": "stream", "source_url": "rtsp://127.0.0.1:8554/door"})
    assert _camera(app, int(r.headers["Location"].rsplit("/", 1)[1])).fps == 2  # an IP camera: 2 frames/s
    r = client.post("/admin/cameras", data={**base, "name": "Desk"})
    assert r.status_code == 200 and 'id="capture-url"' in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Camera).filter_by(name="Desk").one().fps == 5  # a tablet: 5
    # Refused: the site page comes back; its own settings form still names the site and posts to it.
    page = client.post("/admin/cameras", data={**base, "kind": "stream", "name": "Yard", "source_url": "rtsp://10.9.9.9/x"})
    html = page.get_data(as_text=True)
    settings = html[html.index("Site settings") :]
    assert page.status_code == 400 and 'value="Gate"' in settings and 'value="Yard"' not in settings
    assert f'action="/admin/sites/{admin["id"]}"' in settings


def test_a_mistyped_allow_list_offers_no_ip_camera_instead_of_failing(app, client, admin):
    app.config["STREAM_SOURCES_ALLOW"] = "10.0.0.0/33"
    r = client.get(f"/admin/sites/{admin['id']}")
    assert r.status_code == 200 and 'name="kind"' not in r.get_data(as_text=True)


def test_credentials_whose_key_is_gone_can_be_typed_again(app, client, admin):
    camera_id = int(_add_stream(client, admin, username="cam", password="hunter22").headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        db.session.get(Camera, camera_id).credentials = "gAAAAA-not-a-token-of-any-key"
        db.session.commit()
    form = {"name": "Door", "site_id": admin["id"], "fps": 2, "enabled": "y"}
    assert client.post(f"/admin/cameras/{camera_id}", data={**form, "password": "n3w"}).status_code == 302
    with app.app_context():
        from app.services.cameras import credentials_of

        assert credentials_of(db.session.get(Camera, camera_id)) == ("", "n3w")  # what was typed; no 500
    assert client.post(f"/admin/cameras/{camera_id}", data={**form, "username": "cam", "password": "n4w"}).status_code == 302
    with app.app_context():
        assert credentials_of(db.session.get(Camera, camera_id)) == ("cam", "n4w")


def test_a_plan_limit_is_said_in_french_with_the_organisations_own_figures(app, client, tenant_a, admin):
    from app.models import Tenant

    with app.app_context():
        tenant = db.session.get(Tenant, tenant_a.id)
        tenant.max_cameras, tenant.max_total_fps = 2, 6
        db.session.commit()
    tenant_a.camera(admin["id"], "One")
    r = client.post("/admin/cameras", data={"name": "Two", "site_id": admin["id"], "fps": 5}, headers=FR)
    assert r.status_code == 400 and "Votre formule permet 6 images par seconde" in r.get_data(as_text=True)
    with app.app_context():
        db.session.get(Tenant, tenant_a.id).max_total_fps = 100
        db.session.commit()
    tenant_a.camera(admin["id"], "Two")  # 2 of 2 cameras
    r = client.post("/admin/cameras", data={"name": "Three", "site_id": admin["id"], "fps": 1}, headers=FR)
    assert r.status_code == 400 and "Votre formule permet 2 caméras." in r.get_data(as_text=True)


def test_sending_the_add_camera_form_again_adds_no_second_camera(app, client, tenant_a, admin):
    """The page that shows a new camera's link answers the form's POST: a reload sends it again.
    The form's one-time value makes that second sending lead to the camera already added."""
    page = client.get(f"/admin/sites/{admin['id']}", headers=FR).get_data(as_text=True)
    once = re.search(r'name="once" type="hidden" value="([^"]+)"', page).group(1)
    form = {"name": "Caisse", "site_id": admin["id"], "fps": "", "kind": "browser", "once": once}
    first = client.post("/admin/cameras", data=form, headers=FR)
    assert first.status_code == 200 and 'id="capture-url"' in first.get_data(as_text=True)
    again = client.post("/admin/cameras", data=form, headers=FR)
    cameras = tenant_a.call("GET", "/api/v1/cameras").get_json()["items"]
    assert [c["name"] for c in cameras] == ["Caisse"]
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/admin/cameras/{cameras[0]['id']}")
    shown = client.get(again.headers["Location"], headers=FR).get_data(as_text=True)
    assert "Cette caméra a déjà été ajoutée" in shown
    # A new form (a new value) adds a new camera, even with the same name.
    page = client.get(f"/admin/sites/{admin['id']}", headers=FR).get_data(as_text=True)
    fresh = re.search(r'name="once" type="hidden" value="([^"]+)"', page).group(1)
    assert fresh != once
    assert client.post("/admin/cameras", data={**form, "once": fresh}, headers=FR).status_code == 200
    assert len(tenant_a.call("GET", "/api/v1/cameras").get_json()["items"]) == 2
