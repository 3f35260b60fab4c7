"""`bastion fix` as a user runs it: writes, modes, symlinks, output and exit codes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.fix.harness import run_cli

UNSAFE_ONLY = (
    "on: push\n"
    "permissions: {}\n"
    "jobs:\n"
    "  build:\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "      - uses: actions/checkout@0123456789abcdef0123456789abcdef01234567 # v4\n"
)
FIXED = UNSAFE_ONLY + "        with:\n          persist-credentials: false\n"


def _repository(tmp_path: Path, text: str = UNSAFE_ONLY) -> Path:
    (tmp_path / ".git").mkdir()
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(text, encoding="utf-8")
    return workflows / "ci.yml"


def test_fix_writes_atomically_and_keeps_the_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = _repository(tmp_path)
    workflow.chmod(0o640)
    inode = workflow.stat().st_ino
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--unsafe")
    assert outcome.code == 0
    assert outcome.err == ""
    assert outcome.out == (
        ".github/workflows/ci.yml: fixed 1 finding (persisted-credentials ×1)\n"  # noqa: RUF001
        "Fixed 1 finding in 1 file.\n"
    )
    assert workflow.read_text(encoding="utf-8") == FIXED
    assert stat.S_IMODE(workflow.stat().st_mode) == 0o640
    assert workflow.stat().st_ino != inode  # replaced by a rename, not rewritten in place
    assert sorted(p.name for p in workflow.parent.iterdir()) == ["ci.yml"]  # no temp file left


def test_without_unsafe_nothing_is_written_and_the_reason_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = _repository(tmp_path)
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config")
    assert outcome.code == 1
    assert workflow.read_text(encoding="utf-8") == UNSAFE_ONLY
    assert outcome.out == (
        ".github/workflows/ci.yml: nothing fixed\n"
        "  remains: 7:15 persisted-credentials: fixable with --unsafe (a later step that "
        "pushes with the stored token would stop working)\n"
        "Fixed 0 findings in 0 files; 1 remain (1 fixable with --unsafe).\n"
    )


def test_diff_writes_nothing_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = _repository(tmp_path)
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--unsafe", "--diff")
    assert outcome.code == 1
    assert workflow.read_text(encoding="utf-8") == UNSAFE_ONLY
    assert outcome.out == (
        "--- a/.github/workflows/ci.yml\n"
        "+++ b/.github/workflows/ci.yml\n"
        "@@ -5,3 +5,5 @@\n"
        "     runs-on: ubuntu-latest\n"
        "     steps:\n"
        "       - uses: actions/checkout@0123456789abcdef0123456789abcdef01234567 # v4\n"
        "+        with:\n"
        "+          persist-credentials: false\n"
    )
    assert outcome.err == (
        ".github/workflows/ci.yml: would fix 1 finding (persisted-credentials ×1)\n"  # noqa: RUF001
        "Would fix 1 finding in 1 file.\n"
    )


def test_diff_with_nothing_to_change_exits_0_even_when_findings_remain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _repository(tmp_path)
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--diff")
    assert (outcome.code, outcome.out) == (0, "")
    assert outcome.err.endswith(
        "Would fix 0 findings in 0 files; 1 remain (1 fixable with --unsafe).\n"
    )
    without = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config")
    assert without.code == 1


def test_clean_files_exit_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _repository(tmp_path, FIXED)
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--diff")
    assert (outcome.code, outcome.out) == (0, "")
    assert outcome.err == "Would fix 0 findings in 0 files.\n"


def test_symlink_leaving_the_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repository = tmp_path / "repo"
    repository.mkdir()
    outside = tmp_path / "elsewhere.yml"
    outside.write_text(UNSAFE_ONLY, encoding="utf-8")
    workflow = _repository(repository)
    workflow.unlink()
    workflow.symlink_to(outside)
    outcome = run_cli(monkeypatch, capsys, repository, "fix", "--no-config", "--unsafe")
    assert outcome.code == 0  # refused with a note; the rest of the run decides the status
    assert outcome.err == (
        "bastion: note: .github/workflows/ci.yml: skipped: the file is a symlink to outside the "
        "repository and was not read; bastion reads and writes only files inside the repository\n"
    )
    assert outside.read_text(encoding="utf-8") == UNSAFE_ONLY
    assert workflow.is_symlink()


def test_symlink_inside_the_repository_fixes_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = _repository(tmp_path)
    shared = tmp_path / "shared.yml"
    workflow.rename(shared)
    workflow.symlink_to(Path("../../shared.yml"))
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--unsafe")
    assert outcome.code == 0
    assert workflow.is_symlink()
    assert shared.read_text(encoding="utf-8") == FIXED


def test_only_the_named_paths_are_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = _repository(tmp_path)
    other = workflow.parent / "other.yml"
    other.write_text(UNSAFE_ONLY, encoding="utf-8")
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--unsafe", str(other))
    assert outcome.code == 0
    assert other.read_text(encoding="utf-8") == FIXED
    assert workflow.read_text(encoding="utf-8") == UNSAFE_ONLY


def test_byte_order_mark_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = _repository(tmp_path)
    workflow.write_bytes(b"\xef\xbb\xbf" + UNSAFE_ONLY.encode())
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--unsafe")
    assert outcome.code == 0
    assert workflow.read_bytes() == b"\xef\xbb\xbf" + FIXED.encode()


def test_standard_input_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "-")
    assert outcome.code == 2
    assert outcome.err == "bastion: error: fix edits files and cannot read standard input\n"


def test_unwritable_directory_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    workflow = _repository(tmp_path)
    workflow.parent.chmod(0o555)
    try:
        outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--unsafe")
    finally:
        workflow.parent.chmod(0o755)
    assert outcome.code == 2
    assert outcome.err.startswith(f"bastion: cannot write {workflow.resolve()}: ")
    assert workflow.read_text(encoding="utf-8") == UNSAFE_ONLY


def test_binary_file_is_reported_not_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = _repository(tmp_path)
    workflow.write_bytes(b"on: push\x00\xff")
    outcome = run_cli(monkeypatch, capsys, tmp_path, "fix", "--no-config", "--unsafe")
    assert outcome.code == 1
    assert "syntax-error: no fix available" in outcome.out
    assert workflow.read_bytes() == b"on: push\x00\xff"
