"""`flask keys reencrypt`: after a new key is put first in DATA_KEYS, every secret at rest (stream
cameras' credentials, webhook signing secrets) is encrypted under it, so the old key can go."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text

from app.extensions import db
from app.infra import secrets as data_secrets
from app.models import Camera
from app.services.cameras import credentials_of

PASSWORD = "Rot-s3cret-cam-pw"


def stored(app, table: str, column: str, row_id: int) -> str:
    with app.app_context():
        return db.session.execute(text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": row_id}).scalar_one()


def reencrypt(app):
    return app.test_cli_runner().invoke(args=["keys", "reencrypt"])


def test_reencrypt_moves_every_secret_to_the_first_key(app, tenant_a):
    app.config.update(STREAM_SOURCES_ALLOW=["127.0.0.0/8"], OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8")
    site = tenant_a.site()

    def stream_camera(name: str) -> dict:
        body = {"site_id": site["id"], "name": name, "kind": "stream", "source_url": "rtsp://127.0.0.1:1/cam"}
        r = tenant_a.call("POST", "/api/v1/cameras", json={**body, "username": "viewer", "password": PASSWORD})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def webhook() -> dict:
        r = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    # Written before DATA_KEYS was set (the key derived from SECRET_KEY), then under an old key.
    early_cam, early_hook = stream_camera("Early"), webhook()
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["DATA_KEYS"] = old
    cam, hook = stream_camera("Old key"), webhook()
    browser = tenant_a.camera(site["id"])  # no credentials: nothing to do
    assert Fernet(old).decrypt(stored(app, "cameras", "credentials", cam["id"]).encode())

    app.config["DATA_KEYS"] = f"{new},{old}"
    result = reencrypt(app)
    assert result.exit_code == 0, result.output
    assert "stream credentials: 2 re-encrypted" in result.output and "webhook secrets: 2 re-encrypted" in result.output

    # The old keys go: everything still reads, under the new key alone.
    app.config["DATA_KEYS"] = new
    for camera in (early_cam, cam):
        value = stored(app, "cameras", "credentials", camera["id"])
        assert json.loads(Fernet(new).decrypt(value.encode())) == {"username": "viewer", "password": PASSWORD}
        with app.app_context():
            assert credentials_of(db.session.get(Camera, camera["id"])) == ("viewer", PASSWORD)
    for created in (early_hook, hook):
        value = stored(app, "webhooks", "secret", created["id"])
        assert Fernet(new).decrypt(value.encode()).decode() == created["secret"]
        with app.app_context():
            assert data_secrets.decrypt(value) == created["secret"]
    assert stored(app, "cameras", "credentials", browser["id"]) is None
    assert PASSWORD not in result.output


def test_reencrypt_reports_values_no_key_decrypts_and_rotates_the_others(app, tenant_a):
    app.config.update(STREAM_SOURCES_ALLOW=["127.0.0.0/8"], OUTBOUND_ALLOW_NETWORKS="127.0.0.0/8")
    lost, kept = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["DATA_KEYS"] = lost
    hook_lost = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/a"}).get_json()
    app.config["DATA_KEYS"] = kept
    hook_kept = tenant_a.call("POST", "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/b"}).get_json()
    before = stored(app, "webhooks", "secret", hook_lost["id"])

    new = Fernet.generate_key().decode()
    app.config["DATA_KEYS"] = f"{new},{kept}"  # the key of hook_lost is gone
    result = reencrypt(app)
    assert result.exit_code != 0
    assert f"webhooks {hook_lost['id']}: no key of DATA_KEYS decrypts" in result.output
    assert "webhook secrets: 1 re-encrypted under the first key, 1 unreadable" in result.output
    assert stored(app, "webhooks", "secret", hook_lost["id"]) == before  # left as it was, not destroyed
    assert Fernet(new).decrypt(stored(app, "webhooks", "secret", hook_kept["id"]).encode()).decode() == hook_kept["secret"]
    with app.app_context():
        try:
            data_secrets.decrypt(before)
        except InvalidToken:
            pass
        else:
            raise AssertionError("decrypted without its key")
