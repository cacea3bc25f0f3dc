"""The documented PostgreSQL backup and restore, run end to end (dump, drop, restore, compare)."""

import subprocess

import pytest

from tests.processes import ROOT

pytestmark = pytest.mark.process


def test_backup_dump_drop_restore_gives_the_same_data():
    result = subprocess.run([str(ROOT / "deploy" / "backup" / "check.sh")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "backup check: OK" in result.stdout, result.stdout + result.stderr
    before, after = (
        line.split(":", 1)[1].split("(")[0].strip()
        for line in result.stdout.splitlines()
        if line.startswith(("before:", "restored:"))
    )
    assert before == after and "/5000/" in before  # the seeded rows came back
