"""The page that shows a new camera's capture link: the whole link, a Copy button, and a warning
only when the link's host is one that no tablet can reach (PUBLIC_URL unset or a loopback address)."""

from __future__ import annotations

import pytest

from app.services.cameras import loopback_host


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:5000/capture/1#token=x", "127.0.0.1"),
        ("http://127.5.6.7/capture/1", "127.5.6.7"),
        ("http://localhost:5000/capture/1", "localhost"),
        ("http://LocalHost./capture/1", "localhost"),
        ("http://app.localhost/capture/1", "app.localhost"),
        ("http://[::1]:5000/capture/1", "::1"),
        ("http://0.0.0.0:5000/capture/1", "0.0.0.0"),
        ("https://192.168.1.20:5443/capture/1", None),
        ("https://emotiscan.example.com/capture/1", None),
        ("https://localhost-tablets.example/capture/1", None),
    ],
)
def test_loopback_host(url, host):
    assert loopback_host(url) == host


def test_a_reachable_public_url_shows_no_warning(client, tenant_a):
    site = tenant_a.site("Gate")
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    r = client.post("/admin/cameras", data={"name": "Desk", "site_id": site["id"], "fps": 5}, headers={"Accept-Language": "en"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="capture-url"' in page, page[:500]
    assert "https://emotiscan.test/capture/" in page and 'data-copy="capture-url"' in page
    assert "unreachable-link" not in page and "A tablet cannot open this link" not in page


def test_a_loopback_public_url_says_a_tablet_cannot_reach_it(app, client, tenant_a):
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    site = tenant_a.site("Gate")
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    r = client.post("/admin/cameras", data={"name": "Desk", "site_id": site["id"], "fps": 5}, headers={"Accept-Language": "fr"})
    page = r.get_data(as_text=True)
    assert 'id="unreachable-link"' in page and "Une tablette ne peut pas ouvrir ce lien" in page and "PUBLIC_URL" in page
