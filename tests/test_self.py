"""bastion practises what it checks: its own repository passes bastion and zizmor."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bastion.cli import main
from bastion.inputs import collect

ROOT = Path(__file__).resolve().parents[1]


def test_the_repository_passes_bastion(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert ".github/workflows/ci.yml" in [item.display for item in collect(["."])]
    code = main(["check", "."])
    assert code == 0, capsys.readouterr().out


def test_the_workflows_pass_zizmor_pedantic() -> None:
    zizmor = shutil.which("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed (it is in requirements/dev.txt)")
    result = subprocess.run(
        [zizmor, "--offline", "--persona", "pedantic", "--no-progress", ".github"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
