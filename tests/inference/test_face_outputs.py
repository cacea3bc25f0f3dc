"""A face's outputs (classes, groups, labels, colours, score columns) are defined once, in
app/inference/labels.py (and translated in app/labels.py); models, reports, the API and pages derive
them. Times are written by one formatter, app/timefmt.py."""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from app.inference.labels import EMOTION_COLOURS, EMOTION_COLUMNS, EMOTION_GROUPS, EMOTIONS
from app.timefmt import iso_utc

APP = Path(__file__).resolve().parents[2] / "app"
DEFINITIONS = {"inference/labels.py", "labels.py"}
# Files that may still spell a class out, and why. Keep this list short.
ALLOWED = {
    # The FER+ dataset's own column names, mapped onto ours (a different vocabulary, read from its CSV).
    "inference/ferplus.py",
}


def _rel(path: Path) -> str:
    return path.relative_to(APP).as_posix()


def _sources(*suffixes: str):
    for path in sorted(APP.rglob("*")):
        if path.suffix in suffixes and _rel(path) not in DEFINITIONS | ALLOWED and "vendor" not in path.parts:
            yield path


def test_no_class_name_is_typed_out_outside_the_definition():
    offenders = []
    names = set(EMOTIONS)
    for path in _sources(".py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                offenders.append(f"{_rel(path)}:{node.lineno}: {node.value!r}")
            elif isinstance(node, ast.Attribute) and node.attr in names:  # obs.neutral instead of getattr(obs, column)
                offenders.append(f"{_rel(path)}:{node.lineno}: .{node.attr}")
    # In JavaScript and templates: a quoted name or an object key (angry: "#d62728").
    alternatives = "|".join(EMOTIONS)
    spelled = re.compile(rf"""["']({alternatives})["']|\b({alternatives})\s*:(?!:)""")
    for path in _sources(".js", ".html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if spelled.search(line):
                offenders.append(f"{_rel(path)}:{number}: {line.strip()[:80]}")
    assert offenders == []


def test_no_class_colour_is_typed_out_outside_the_definition():
    colours = re.compile("|".join(re.escape(c) for c in EMOTION_COLOURS.values()), re.IGNORECASE)
    # capture.js draws the face box in green: a box colour, not a class's (owned by the capture-page work).
    offenders = [
        f"{_rel(p)}: {m.group(0)}"
        for p in _sources(".py", ".js", ".html")
        if _rel(p) != "static/js/capture.js"
        for m in colours.finditer(p.read_text())
    ]
    assert offenders == []


def test_one_time_formatter():
    # Neither a "+00:00" -> "Z" formatter nor a "Z" -> "+00:00" parser outside app/timefmt.py (iso_utc, as_moment).
    offenders = [
        _rel(p)
        for p in _sources(".py")
        if _rel(p) != "timefmt.py" and re.search(r"""\.replace\(\s*["'](\+00:00|Z)["']\s*,\s*["']""", p.read_text())
    ]
    assert offenders == []
    moment = datetime(2026, 10, 5, 7, 0, 5, tzinfo=UTC)
    assert iso_utc(moment) == "2026-10-05T07:00:05Z"
    assert iso_utc(moment.replace(microsecond=120000)) == "2026-10-05T07:00:05.120000Z"
    assert iso_utc(moment.astimezone(timezone(timedelta(hours=2)))) == "2026-10-05T07:00:05Z"
    assert iso_utc(moment.replace(microsecond=120000), timespec="milliseconds") == "2026-10-05T07:00:05.120Z"
    assert iso_utc(None) is None


def test_definition_is_consistent():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert EMOTION_GROUPS == {"distress": ("fear", "sad"), "frustration": ("angry", "disgust"), "joy": ("happy",)}
    assert tuple(EMOTION_COLOURS) == EMOTIONS and EMOTION_COLUMNS == EMOTIONS


def test_models_columns_and_openapi_derive_from_the_definition(app):
    from app.api.openapi import build_document
    from app.labels import EMOTION_LABELS, EMOTION_WORDS
    from app.models import EMOTION_COLUMNS as MODEL_COLUMNS
    from app.models import Observation, ObservationRollup

    assert MODEL_COLUMNS == EMOTIONS
    for model, nullable in ((Observation, True), (ObservationRollup, False)):
        columns = model.__table__.c
        assert tuple(columns.keys())[-len(EMOTIONS) :] == EMOTIONS
        assert all(columns[e].nullable is nullable for e in EMOTIONS)
    assert set(EMOTIONS) | set(EMOTION_GROUPS) <= set(EMOTION_LABELS)
    assert tuple(EMOTION_WORDS) == (*EMOTIONS, *EMOTION_GROUPS)
    with app.test_request_context():
        schemas = build_document("http://localhost")["components"]["schemas"]
    assert tuple(schemas["Scores"]["properties"]) == EMOTIONS and schemas["Scores"]["required"] == list(EMOTIONS)


def _face_outputs(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="face-outputs">(.*?)</script>|'
        r'<script id="face-outputs" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert found, "no face-outputs element"
    return json.loads(found.group(1) or found.group(2))


def test_pages_get_the_definition_as_json(app, client, tenant_a):
    from app.services import observations

    site = tenant_a.site("Gate")
    cam = tenant_a.camera(site["id"])
    scores = {e: (1.0 if i == 0 else 0.0) for i, e in enumerate(EMOTIONS)}
    face = {"box": [10, 10, 80, 80], "emotion": EMOTIONS[0], "confidence": 1.0, "scores": scores}
    with app.app_context():
        moment = datetime(2026, 10, 5, 7, 0, 5, tzinfo=UTC)
        assert observations.record(tenant_a.id, site["id"], cam["id"], moment, "test", [face], 5.0) is not None
    client.post("/auth/login", data={"email": tenant_a.email, "password": "secret-pass-1"})
    for path in ("/live", f"/reports/?scope=site:{site['id']}&period=custom&from=2026-10-01&to=2026-10-31"):
        page = client.get(path, headers={"Accept-Language": "fr"})
        assert page.status_code == 200, path
        outputs = _face_outputs(page.get_data(as_text=True))
        assert outputs["classes"] == list(EMOTIONS), path
        assert outputs["groups"] == {g: list(m) for g, m in EMOTION_GROUPS.items()}
        assert outputs["colours"] == EMOTION_COLOURS
        # tojson sorts keys: the order is that of "classes".
        assert set(outputs["words"]) == set(outputs["labels"]) == {*EMOTIONS, *EMOTION_GROUPS}
        assert outputs["words"]["angry"] == "colère" and outputs["labels"]["angry"] == "Colère"  # still translated
