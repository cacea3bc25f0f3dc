"""Every resource: another tenant gets 404, a missing role 403, no credentials 401."""

import pytest


def test_signup_returns_tenant_user_token(client):
    r = client.post(
        "/api/v1/signup", json={"organisation": "Ecole Jules Ferry", "email": "Dir@Ecole.example", "password": "secret-pass-1"}
    )
    assert r.status_code == 201
    body = r.get_json()
    assert body["tenant"]["name"] == "Ecole Jules Ferry"
    assert body["user"] == {**body["user"], "email": "dir@ecole.example", "role": "admin"}
    assert isinstance(body["tenant"]["id"], int) and body["token"].startswith("es_")
    again = client.post("/api/v1/signup", json={"organisation": "X", "email": "dir@ecole.example", "password": "secret-pass-1"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "email_taken"


def test_tokens_issue_list_and_revoke(client, tenant_a):
    r = client.post("/api/v1/tokens", json={"email": tenant_a.email, "password": "secret-pass-1", "name": "ci"})
    assert r.status_code == 200
    token = r.get_json()["token"]
    assert r.get_json()["expires_at"].endswith("Z")
    listed = tenant_a.call("GET", "/api/v1/tokens", token=token).get_json()["items"]
    assert {"ci", "signup"} <= {t["name"] for t in listed}
    assert tenant_a.call("DELETE", "/api/v1/tokens/current", token=token).status_code == 204
    r = tenant_a.call("GET", "/api/v1/sites", token=token)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    wrong = client.post("/api/v1/tokens", json={"email": tenant_a.email, "password": "nope-nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_credentials"


def test_no_credentials_is_401(client):
    for path in ("/api/v1/sites", "/api/v1/cameras", "/api/v1/users", "/api/v1/observations", "/api/v1/me"):
        r = client.get(path)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/sites", headers={"Authorization": "Bearer es_forged"}).status_code == 401


def test_sites_cross_tenant_404_and_roles(tenant_a, tenant_b):
    site = tenant_a.site("Gate")
    path = f"/api/v1/sites/{site['id']}"
    for method, kwargs in (("GET", {}), ("PATCH", {"json": {"name": "Hacked"}}), ("DELETE", {})):
        r = tenant_b.call(method, path, **kwargs)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found", method
    # Not even a listing leaks it.
    assert tenant_b.call("GET", "/api/v1/sites").get_json()["items"] == []
    _, staff = tenant_a.user("staff")
    assert tenant_a.call("POST", "/api/v1/sites", token=staff, json={"name": "X"}).status_code == 403
    assert tenant_a.call("PATCH", path, token=staff, json={"name": "X"}).status_code == 403
    assert tenant_a.call("DELETE", path, token=staff).status_code == 403
    assert tenant_a.call("GET", path, token=staff).status_code == 200
    # 404 is decided before the body is validated.
    assert tenant_b.call("PATCH", path, json={"name": 42}).status_code == 404
    assert tenant_a.call("PATCH", path, json={"name": "Main gate"}).get_json()["name"] == "Main gate"
    assert tenant_a.call("DELETE", path).status_code == 204
    assert tenant_a.call("GET", path).status_code == 404


def test_cameras_cross_tenant_404_roles_and_token_rotation(app, tenant_a, tenant_b):
    site = tenant_a.site()
    cam = tenant_a.camera(site["id"])
    assert cam["capture_url"].startswith("https://emotiscan.test/capture/") and "#token=cam_" in cam["capture_url"]
    assert cam["capture_token"].startswith("cam_") and cam["qr_svg"].startswith("data:image/svg+xml;base64,")
    path = f"/api/v1/cameras/{cam['id']}"
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/rotate-token")):
        assert tenant_b.call(method, path + suffix, json={}).status_code == 404, method
    # Another tenant's site cannot receive a camera.
    r = tenant_b.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "Spy"})
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"site_id": "unknown"}
    _, manager = tenant_a.user("manager")
    assert tenant_a.call("POST", path + "/rotate-token", token=manager).status_code == 403
    assert tenant_a.call("POST", "/api/v1/cameras", token=manager, json={"site_id": site["id"], "name": "x"}).status_code == 403
    assert "capture_token" not in tenant_a.call("GET", path).get_json()
    rotated = tenant_a.call("POST", path + "/rotate-token").get_json()
    assert rotated["capture_token"] != cam["capture_token"]
    from app.services.cameras import camera_for_token

    with app.app_context():
        assert camera_for_token(cam["capture_token"]) is None
        assert camera_for_token(rotated["capture_token"]).id == cam["id"]


def test_users_admin_only_and_cross_tenant(tenant_a, tenant_b):
    user, manager_token = tenant_a.user("manager")
    path = f"/api/v1/users/{user['id']}"
    assert tenant_b.call("GET", path).status_code == 404
    assert tenant_b.call("PATCH", path, json={"role": "admin"}).status_code == 404
    assert tenant_b.call("DELETE", path).status_code == 404
    assert tenant_a.call("GET", "/api/v1/users", token=manager_token).status_code == 403
    assert tenant_a.call("PATCH", path, token=manager_token, json={"role": "admin"}).status_code == 403
    assert tenant_a.call("PATCH", path, json={"role": "staff"}).get_json()["role"] == "staff"
    # The last admin cannot be demoted or removed.
    last = tenant_a.call("PATCH", f"/api/v1/users/{tenant_a.admin_id}", json={"role": "staff"})
    assert last.status_code == 409 and last.get_json()["error"]["code"] == "last_admin"
    assert tenant_a.call("DELETE", path).status_code == 204


def test_other_tenants_users_are_404_for_every_role(tenant_a, tenant_b):
    """Existence within the tenant is checked before the role: a manager or staff member asking for
    another tenant's user gets the same 404 as for an id that does not exist (was a 403)."""
    _, manager = tenant_a.user("manager")
    _, staff = tenant_a.user("staff")
    other, own = f"/api/v1/users/{tenant_b.admin_id}", f"/api/v1/users/{tenant_a.admin_id}"
    for token in (tenant_a.token, manager, staff):
        for method, kwargs in (("GET", {}), ("PATCH", {"json": {"role": "staff"}}), ("DELETE", {})):
            r = tenant_a.call(method, other, token=token, **kwargs)
            assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found", (method, r.status_code)
            assert tenant_a.call(method, "/api/v1/users/999999", token=token, **kwargs).status_code == 404
    for token in (manager, staff):  # the tenant's own users: the role decides
        assert tenant_a.call("GET", own, token=token).status_code == 403
        assert tenant_a.call("PATCH", own, token=token, json={"role": "staff"}).status_code == 403
        assert tenant_a.call("DELETE", own, token=token).status_code == 403
    assert tenant_b.call("GET", other).status_code == 200


def test_site_limited_staff_sees_only_its_sites(tenant_a):
    gate, hall = tenant_a.site("Gate"), tenant_a.site("Hall")
    cam_gate, cam_hall = tenant_a.camera(gate["id"], "g"), tenant_a.camera(hall["id"], "h")
    _, staff = tenant_a.user("staff", site_ids=[gate["id"]])
    assert [s["id"] for s in tenant_a.call("GET", "/api/v1/sites", token=staff).get_json()["items"]] == [gate["id"]]
    assert [c["id"] for c in tenant_a.call("GET", "/api/v1/cameras", token=staff).get_json()["items"]] == [cam_gate["id"]]
    assert tenant_a.call("GET", f"/api/v1/cameras/{cam_hall['id']}", token=staff).status_code == 404


def test_pagination_with_cursor(tenant_a):
    ids = [tenant_a.site(f"S{i}")["id"] for i in range(5)]
    page = tenant_a.call("GET", "/api/v1/sites?limit=2").get_json()
    seen = [s["id"] for s in page["items"]]
    while page["next_cursor"]:
        page = tenant_a.call("GET", f"/api/v1/sites?limit=2&cursor={page['next_cursor']}").get_json()
        seen += [s["id"] for s in page["items"]]
    assert seen == ids
    bad = tenant_a.call("GET", "/api/v1/sites?cursor=%%%")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "null", '"text"'])
def test_malformed_json_is_400(tenant_a, body):
    r = tenant_a.call("POST", "/api/v1/sites", data=body, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] in ("malformed_json", "validation_error")


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/v1/sites", {"name": 12}),
        ("/api/v1/sites", {"name": "x", "timezone": "Mars/Olympus"}),
        ("/api/v1/sites", {"name": ""}),
        ("/api/v1/cameras", {"site_id": "1", "name": "x"}),
        ("/api/v1/cameras", {"site_id": True, "name": "x"}),
        ("/api/v1/cameras", {"site_id": 1, "name": "x", "fps": 1000}),
        ("/api/v1/users", {"email": "not-an-email", "role": "staff"}),
        ("/api/v1/users", {"email": "a@b.example", "role": "god"}),
        ("/api/v1/users", {"email": "a@b.example", "role": "staff", "site_ids": ["x"]}),
        ("/api/v1/signup", {"organisation": ["x"], "email": "a@b.example", "password": "secret-pass"}),
    ],
)
def test_wrong_types_are_400_with_fields(tenant_a, path, body):
    r = tenant_a.call("POST", path, json=body)
    assert r.status_code == 400, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] in ("validation_error", "unknown_site") and err["message"]


def test_huge_body_and_wrong_content_type(tenant_a):
    r = tenant_a.call("POST", "/api/v1/sites", data=b"{" + b" " * (2 * 1024 * 1024) + b"}", content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"
    r = tenant_a.call("POST", "/api/v1/sites", data="name=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415


def test_unknown_api_route_and_method_are_json(tenant_a):
    r = tenant_a.call("GET", "/api/v1/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = tenant_a.call("PUT", "/api/v1/sites")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"


def test_openapi_lists_the_contract(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/signup",
        "/tokens",
        "/tokens/current",
        "/users",
        "/users/{id}",
        "/sites",
        "/sites/{id}",
        "/cameras",
        "/cameras/{id}",
        "/cameras/{id}/rotate-token",
        "/observations",
    ):
        assert path in doc["paths"], path


WRITE_CALLS = [
    ("POST", "/api/v1/signup"),
    ("POST", "/api/v1/tokens"),
    ("POST", "/api/v1/users"),
    ("PATCH", "/api/v1/users/{user}"),
    ("POST", "/api/v1/sites"),
    ("PATCH", "/api/v1/sites/{site}"),
    ("POST", "/api/v1/cameras"),
    ("PATCH", "/api/v1/cameras/{camera}"),
    ("PATCH", "/api/v1/me"),
]


@pytest.mark.parametrize("method,template", WRITE_CALLS)
def test_every_json_call_refuses_bad_bodies_in_the_error_format(tenant_a, method, template):
    site = tenant_a.site()
    camera = tenant_a.camera(site["id"])
    path = template.format(user=tenant_a.admin_id, site=site["id"], camera=camera["id"])
    bodies = [
        {"data": "{broken", "content_type": "application/json"},
        {"data": "[]", "content_type": "application/json"},
        {"json": {"name": {"x": 1}, "email": 5, "password": [], "organisation": 1, "site_id": "a", "role": 3, "locale": 9}},
        {"data": b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}', "content_type": "application/json"},
    ]
    for body in bodies:
        r = tenant_a.call(method, path, **body)
        assert 400 <= r.status_code < 500, (path, r.status_code)
        error = r.get_json()["error"]
        assert error["code"] and error["message"]


def test_tokens_of_another_user_cannot_be_revoked(client, tenant_a, tenant_b):
    other = tenant_b.call("GET", "/api/v1/tokens").get_json()["items"][0]
    assert tenant_a.call("DELETE", f"/api/v1/tokens/{other['id']}").status_code == 404
    assert tenant_b.call("GET", "/api/v1/sites").status_code == 200


def test_accented_addresses_sign_in_as_they_signed_up(client):
    body = {"organisation": "École", "email": "Direction@École.example", "password": "secret-pass-1"}
    assert client.post("/api/v1/signup", json=body).status_code == 201
    token = client.post("/api/v1/tokens", json={"email": "direction@école.example", "password": "secret-pass-1"})
    assert token.status_code == 200
    assert client.post("/auth/login", data={"email": "DIRECTION@ÉCOLE.EXAMPLE", "password": "secret-pass-1"}).status_code == 302


def test_camera_quotas_per_tenant(app, tenant_a, tenant_b):
    from app.extensions import db
    from app.models import Tenant

    with app.app_context():
        tenant = db.session.get(Tenant, tenant_a.id)
        tenant.max_cameras, tenant.max_total_fps = 2, 12
        db.session.commit()
    site = tenant_a.site()
    assert tenant_a.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "A", "fps": 5}).status_code == 201
    over_fps = tenant_a.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "B", "fps": 8})
    assert over_fps.status_code == 409 and over_fps.get_json()["error"]["code"] == "quota_exceeded"
    second = tenant_a.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "B", "fps": 7})
    assert second.status_code == 201
    third = tenant_a.call("POST", "/api/v1/cameras", json={"site_id": site["id"], "name": "C", "fps": 1})
    assert third.status_code == 409 and "2 cameras" in third.get_json()["error"]["message"]
    raise_fps = tenant_a.call("PATCH", f"/api/v1/cameras/{second.get_json()['id']}", json={"fps": 8})
    assert raise_fps.status_code == 409
    other = tenant_b.site()
    assert tenant_b.call("POST", "/api/v1/cameras", json={"site_id": other["id"], "name": "X", "fps": 15}).status_code == 201
