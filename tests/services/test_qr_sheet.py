"""The printable QR sheet: a PDF with the site, the camera, the notice text, and a QR code that
decodes (OpenCV) to the capture link; printing it from the site page renews the link."""

from __future__ import annotations

import io
import re

import cv2
import numpy as np
from pypdf import PdfReader

from tests.images import decode_qr


def login(client, email: str, password: str = "secret-pass-1") -> None:
    r = client.post("/auth/login", data={"email": email, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


def decoded_qr(pdf: bytes) -> str:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    (image,) = page.images
    pixels = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if pixels is None:  # raw bitmap: PIL gives it back
        pixels = np.array(image.image.convert("L"))
    return decode_qr(pixels)


def sheet_text(pdf: bytes) -> str:
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1  # one sheet to print
    return " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def test_sheet_from_the_site_page_renews_the_link_and_carries_it(app, client, tenant_a, tenant_b):
    site = tenant_a.site("Front desk")
    camera = tenant_a.camera(site["id"], "Counter tablet")
    login(client, tenant_a.email)
    page = client.get(f"/admin/sites/{site['id']}").get_data(as_text=True)
    assert f"/admin/cameras/{camera['id']}/qr-sheet" in page
    confirm = client.get(f"/admin/cameras/{camera['id']}/qr-sheet")
    assert confirm.status_code == 200 and "new link" in confirm.get_data(as_text=True)
    r = client.post(f"/admin/cameras/{camera['id']}/qr-sheet", data={})
    assert r.status_code == 200 and r.content_type == "application/pdf"
    assert r.headers["Cache-Control"] == "no-store"
    text = sheet_text(r.data)
    assert "Counter tablet" in text and "Front desk" in text and "Alpha School" in text
    assert "No image is recorded or kept" in text
    link = decoded_qr(r.data)
    assert re.fullmatch(rf"https://emotiscan\.test/capture/{camera['id']}#token=cam\S+", link), link
    # The renewed token is the one on the sheet: posting it back prints the same link without renewing.
    token = link.partition("#token=")[2]
    again = client.post(f"/admin/cameras/{camera['id']}/qr-sheet", data={"token": token})
    assert again.content_type == "application/pdf" and decoded_qr(again.data) == link
    # The token of the camera as created is dead now: a sheet is refused for it.
    stale = client.post(f"/admin/cameras/{camera['id']}/qr-sheet", data={"token": camera["capture_token"]})
    assert stale.status_code == 302
    # Another tenant's camera is a 404.
    other = tenant_b.camera(tenant_b.site()["id"])
    assert client.post(f"/admin/cameras/{other['id']}/qr-sheet", data={}).status_code == 404


def test_sheet_is_in_the_readers_language_and_admins_only(app, client, tenant_a):
    site = tenant_a.site("Accueil")
    camera = tenant_a.camera(site["id"], "Tablette")
    staff, _ = tenant_a.user("staff", [site["id"]])
    login(client, tenant_a.email)
    client.post("/language", data={"locale": "fr"})
    r = client.post(f"/admin/cameras/{camera['id']}/qr-sheet", data={"token": camera["capture_token"]})
    assert r.content_type == "application/pdf"
    text = sheet_text(r.data)
    assert "Aucune image" in text and "Tablette" in text
    client.post("/auth/logout")
    login(client, staff["email"], "secret-pass-2")
    assert client.get(f"/admin/cameras/{camera['id']}/qr-sheet").status_code == 403
    assert "/qr-sheet" not in client.get(f"/admin/sites/{site['id']}").get_data(as_text=True)
