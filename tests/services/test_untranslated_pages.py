"""French pages contain no untranslated message: the main pages of an organisation with data (a site,
a camera, a rule, observations, alerts, one acknowledged, a pending invitation, a schedule and its
stored report), rendered in French for its admin, show none of the catalogue's English messages.

Only messages of four words or more are looked for (in pieces between their placeholders), so that
proper nouns, units and words that French shares with English ("Observations", "API") cannot match;
messages whose French is the English itself are left out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "app" / "translations"
HAPPY = {"angry": 0.0, "disgust": 0.0, "fear": 0.0, "happy": 0.8, "sad": 0.0, "surprise": 0.0, "neutral": 0.2}
MIN_WORDS = 4
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdfr%]|\{[^}]*\}")


class PageText(HTMLParser):
    """What a person reads: the text outside <script> and <style>, and the visible attributes."""

    VISIBLE_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label", "data-confirm", "data-copied")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        attributes = dict(attrs)
        self.parts += [attributes[a] for a in self.VISIBLE_ATTRIBUTES if attributes.get(a)]
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.parts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def page_text(html: str) -> str:
    parser = PageText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_pieces() -> dict[str, str]:
    """Piece of English text -> the message it comes from, for messages translated differently in French."""
    template = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    french = read_po((TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb"))
    pieces: dict[str, str] = {}
    for message in template:
        if not message.id or isinstance(message.id, tuple):
            continue
        translated = french.get(message.id)
        if translated is None or translated.string == message.id:
            continue
        for piece in PLACEHOLDER.split(message.id):
            piece = " ".join(piece.split()).strip(" .,:;·()“”\"'")
            if len(piece.split()) >= MIN_WORDS:
                pieces[piece] = message.id
    return pieces


def seed(app, tenant_a) -> dict:
    """A Paris site with a camera, a rule, an hour of smiles with its alerts, one acknowledged."""
    from app.extensions import db
    from app.models import Alert
    from app.services import alerts, observations

    site = tenant_a.site("Accueil")
    camera = tenant_a.camera(site["id"], "Comptoir")
    r = tenant_a.call(
        "POST",
        "/api/v1/alert-rules",
        json={"camera_id": camera["id"], "emotion": "joy", "threshold": 0.5, "duration_s": 5, "severity": "critical"},
    )
    assert r.status_code == 201, r.get_json()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=50)
    face = {"box": [10, 10, 80, 80], "emotion": "happy", "confidence": 0.8, "scores": HAPPY}
    with app.app_context():
        for k in range(12):
            ts = start + timedelta(seconds=k)
            assert observations.record(tenant_a.id, site["id"], camera["id"], ts, "test", [face], 5.0)
            alerts.evaluate_observation(tenant_a.id, site["id"], camera["id"], ts.timestamp(), [face])
        alert_id = db.session.scalars(db.select(Alert.id)).first()
        db.session.remove()
    assert alert_id is not None
    assert tenant_a.call("POST", f"/api/v1/alerts/{alert_id}/ack", json={"note": "vu"}).status_code == 200
    return {"site": site, "camera": camera, "rule": r.get_json()}


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_french_pages_show_no_english_message(app, client, tenant_a):
    data = seed(app, tenant_a)
    french = {"Accept-Language": "fr"}
    assert client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"}).status_code == 302
    client.post("/language", data={"locale": "fr", "next": "/live"})
    invited = client.post("/admin/users", data={"email": "invitee@accueil.example", "role": "staff"}, headers=french)
    assert invited.status_code == 200, invited.status_code
    scheduled = client.post("/reports/schedules", data={"scope": "tenant", "frequency": "daily", "language": "fr"})
    assert scheduled.status_code == 302, scheduled.get_data(as_text=True)[:500]
    pages = [
        "/live",
        "/admin/sites",
        f"/admin/sites/{data['site']['id']}",
        f"/admin/cameras/{data['camera']['id']}",
        "/admin/alerts",
        "/admin/rules",
        f"/admin/rules/{data['rule']['id']}",
        "/reports/?period=today",
        "/reports/schedules",
        "/admin/users",
        "/admin/webhooks",
        "/admin/audit",
        "/admin/privacy",
        "/admin/tokens",
        "/account/",
        f"/admin/sites/{data['site']['id']}/delete",
        f"/capture/{data['camera']['id']}",
    ]
    # The page that shows a new camera's link and QR code, with the warning of a loopback PUBLIC_URL.
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    created = client.post("/admin/cameras", data={"name": "Entrée", "site_id": data["site"]["id"], "fps": 5}, headers=french)
    assert created.status_code == 200 and 'id="unreachable-link"' in created.get_data(as_text=True)
    pieces = english_pieces()
    assert len(pieces) > 100  # the catalogue was read
    found: dict[str, list[str]] = {}
    for path in [*pages, "POST /admin/cameras"]:
        r = created if path.startswith("POST") else client.get(path, headers=french)
        assert r.status_code == 200, (path, r.status_code)
        html = r.get_data(as_text=True)
        assert '<html lang="fr"' in html, path
        text = page_text(html)
        assert "EmotiScan" in text and len(text) > 200, (path, text)  # the page's text was read
        left = sorted({message for piece, message in pieces.items() if piece in text})
        if left:
            found[path] = left
    assert found == {}, found
