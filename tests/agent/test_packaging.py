"""The agent stands alone: what Dockerfile.agent copies (app/agent, app/streams below an empty
`app` package) runs with the agent's packages only, and the command is installed by make setup."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.processes import BIN
from tests.structure.test_layers import graph

ROOT = Path(__file__).resolve().parents[2]


def test_agent_and_streams_import_nothing_else_of_the_app():
    edges = graph()
    outside = {
        m: sorted(t for t in targets if not t.startswith(("app.agent", "app.streams")))
        for m, targets in edges.items()
        if m.startswith(("app.agent", "app.streams"))
    }
    assert {m: t for m, t in outside.items() if t} == {}
    assert "app.streams.source" in edges and "app.agent.cli" in edges


def test_the_docker_image_layout_runs_without_flask(tmp_path):
    for part in ("agent", "streams"):
        shutil.copytree(ROOT / "app" / part, tmp_path / "app" / part, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "app" / "__init__.py").write_text("")
    probe = (
        "import sys, app.agent.cli, app.streams.source; "
        "bad = [m for m in ('flask', 'sqlalchemy', 'celery', 'config') if m in sys.modules]; "
        "assert not bad, bad; print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True
    )
    assert out.stdout.strip() == "ok", out.stderr
    # Every package the agent imports is among those Dockerfile.agent installs.
    wanted = re.search(r"grep -E '\^\((.+?)\)==", (ROOT / "Dockerfile.agent").read_text()).group(1).split("|")
    pins = {line.split("==")[0] for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    assert {"numpy", "opencv-python-headless", "python-socketio", "websocket-client", "requests"} <= set(wanted)
    assert {"numpy", "opencv-python-headless", "python-socketio", "websocket-client", "requests"} <= pins


def test_the_command_is_installed():
    out = subprocess.run([str(BIN / "emotiscan-agent"), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--server" in out.stdout and "--config" in out.stdout
