"""A schemathesis run over the OpenAPI document against the app run as `make run`: no 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ApiClient

pytestmark = pytest.mark.process


def test_openapi_fuzz_finds_no_server_error(embedded):
    base, proc = embedded
    tenant = ApiClient(base, "Fuzz")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", base + "/api/v1/openapi.json",
         "-H", f"Authorization: Bearer {tenant.token}", "--checks", "not_a_server_error", "--max-examples", "15",
         "--exclude-path", "/tokens/current", "--seed", "1"],
        capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "passed" in result.stdout
    assert "Traceback" not in proc.output()
