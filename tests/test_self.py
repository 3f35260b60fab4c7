"""bastion practises what it checks: its own repository passes bastion and zizmor."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bastion.cli import main
from bastion.inputs import collect
from tests.shared import SHARED, require

ROOT = Path(__file__).resolve().parents[1]


def test_the_repository_passes_bastion(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    checked = [item.display for item in collect(["."])]
    assert {".github/workflows/ci.yml", "action.yml"} <= set(checked)
    code = main(["check", "."])
    assert code == 0, capsys.readouterr().out


def test_the_workflows_and_the_action_pass_zizmor_pedantic() -> None:
    zizmor = shutil.which("zizmor")
    if zizmor is None:
        pytest.skip("zizmor is not installed (it is in requirements/dev.txt)")
    result = subprocess.run(
        [zizmor, "--offline", "--persona", "pedantic", "--no-progress", ".github", "action.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pre_commit_hook_runs_on_every_kind_of_file_bastion_reads() -> None:
    manifest = require(SHARED / "corpus" / "MANIFEST.tsv")
    hook = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())[0]
    pattern = re.compile(hook["files"])
    rows = [line.split("\t") for line in manifest.read_text().splitlines()[1:]]
    paths = {path for _, _, path, _, _ in rows if not path.startswith(".github/workflows/")}
    paths |= {path for _, _, path, _, _ in rows if path.count("/") == 2}
    missed = sorted(path for path in paths if not pattern.search(path))
    assert missed == []
    assert not pattern.search(".github/workflows/builders/config.yml")
