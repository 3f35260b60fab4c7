"""Hostile input: what a pull request could add to turn bastion against the user running it.

Symlinks out of the repository, FIFOs, symlink loops, endless standard input, huge files,
pathological .gitignore patterns and a full disk. Each case asserts what is refused, what is
reported, the exit code and that no byte outside the repository changes. Subprocesses carry a
generous timeout as a hang guard and ``resource`` limits as a memory cap; nothing is timed.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from bastion.cli import main
from bastion.github.git import RefListing
from bastion.github.host import resolve_host
from bastion.pinning.cache import Cache
from bastion.source.files import TEMPORARY_SUFFIX

HANG_GUARD = 120
"""Seconds a subprocess may take before the test calls it hung (the cases take well under 5)."""
SECRET = "SECRET-MARKER-7f3a9c root:x:0:0:root:/root:/bin/bash"
CHECKOUT = "actions/checkout@v4"
PINNED = "b" * 40
WORKFLOW = (
    f"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {CHECKOUT}\n"
)
TARGET = """\
on: pull_request_target
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo hello
"""
OUTSIDE_NOTE = (
    "skipped: the file is a symlink to outside the repository and was not read; bastion reads "
    "and writes only files inside the repository"
)


def _repository(root: Path, workflows: dict[str, str] | None = None) -> Path:
    (root / ".git").mkdir(parents=True)
    directory = root / ".github" / "workflows"
    directory.mkdir(parents=True)
    for name, text in (workflows or {}).items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def _run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    directory: Path,
    *arguments: str,
) -> tuple[int, str, str]:
    monkeypatch.chdir(directory)
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _subprocess(
    directory: Path,
    *arguments: str,
    stdin: int | IO[bytes] = subprocess.DEVNULL,
    limits: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bastion", *arguments],
        cwd=directory,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        preexec_fn=limits,
        env={**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
        check=False,
    )


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pinning cache that knows actions/checkout, so ``pin --offline`` pins it."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("BASTION_CACHE_DIR", str(directory))
    monkeypatch.delenv("BASTION_GITHUB_URL", raising=False)
    listing = RefListing({"main": "a" * 40}, {"v4": PINNED, "v4.2.2": PINNED}, "main")
    Cache(resolve_host(None), directory).write("actions", "checkout", "refs", listing.to_json())
    return directory


# -- symlinks out of the repository --


@pytest.mark.parametrize("output", ["human", "json", "sarif", "github"])
def test_a_symlink_to_a_secret_is_reported_never_quoted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    output: str,
) -> None:
    secret = tmp_path / "passwd"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    repository = tmp_path / "repo"
    workflows = _repository(repository)
    (workflows / "leak.yml").symlink_to(secret)
    (repository / "action.yml").symlink_to(secret)
    for arguments in (["."], [".github/workflows/leak.yml"], [".github"]):
        code, out, err = _run(
            monkeypatch, capsys, repository, "check", "--no-config", "--format", output, *arguments
        )
        assert code == 1
        assert "SECRET-MARKER" not in out + err
        assert "symlink to outside the repository and was not read" in out
    code, out, _ = _run(monkeypatch, capsys, repository, "check", "--no-config", "--format", "json")
    found = [(f["path"], f["line"], f["column"], f["rule"]) for f in json.loads(out)["findings"]]
    assert (".github/workflows/leak.yml", 1, 1, "syntax-error") in found
    assert ("action.yml", 1, 1, "syntax-error") in found


def test_the_baseline_is_never_written_through_a_symlink_out_of_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("export KEEP=1\n", encoding="utf-8")
    repository = tmp_path / "repo"
    _repository(repository, {"ci.yml": TARGET})
    (repository / "baseline.json").symlink_to(victim)
    code, _, err = _run(
        monkeypatch, capsys, repository, "check", "--no-config", "--write-baseline", "baseline.json"
    )
    assert code == 2
    assert "cannot write the baseline baseline.json: the file is a symlink to outside" in err
    assert victim.read_text(encoding="utf-8") == "export KEEP=1\n"


@pytest.mark.parametrize("command", ["pin", "update"])
def test_pin_and_update_never_write_through_a_workflows_directory_symlinked_out(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cache: Path,
    command: str,
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    (repository / ".github").mkdir()
    (repository / ".github" / "workflows").symlink_to(elsewhere)
    code, _, err = _run(monkeypatch, capsys, repository, command, "--offline", ".")
    assert code == 0
    assert f"bastion: note: .github/workflows/ci.yml: {OUTSIDE_NOTE}\n" in err
    assert (elsewhere / "ci.yml").read_text(encoding="utf-8") == WORKFLOW
    assert sorted(p.name for p in elsewhere.iterdir()) == ["ci.yml"]


def test_pin_writes_through_a_symlink_inside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    workflows = _repository(tmp_path)
    shared = tmp_path / "shared.yml"
    shared.write_text(WORKFLOW, encoding="utf-8")
    (workflows / "ci.yml").symlink_to(Path("../../shared.yml"))
    code, _, err = _run(monkeypatch, capsys, tmp_path, "pin", "--offline", ".")
    assert (code, err) == (0, "bastion: pinned 1 uses in 1 file\n")
    assert (workflows / "ci.yml").is_symlink()
    assert shared.read_text(encoding="utf-8").endswith(f"actions/checkout@{PINNED} # v4.2.2\n")


def test_check_reads_a_symlink_inside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflows = _repository(tmp_path)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "t.yml").write_text(TARGET, encoding="utf-8")
    (workflows / "t.yml").symlink_to(Path("../../shared/t.yml"))
    code, out, _ = _run(monkeypatch, capsys, tmp_path, "check", "--no-config", "--format", "json")
    assert code == 1
    assert [(f["path"], f["rule"]) for f in json.loads(out)["findings"]] == [
        (".github/workflows/t.yml", "no-dependency-updater"),
        (".github/workflows/t.yml", "dangerous-trigger"),
    ]


# -- symlink loops, FIFOs --


def test_a_symlink_loop_is_a_finding_for_check_and_a_skip_for_pin_and_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    workflows = _repository(tmp_path)
    (workflows / "loop.yml").symlink_to("loop.yml")
    (workflows / "a.yml").symlink_to("b.yml")
    (workflows / "b.yml").symlink_to("a.yml")
    code, out, err = _run(monkeypatch, capsys, tmp_path, "check", "--no-config", "--format", "json")
    assert (code, err) == (1, "")
    found = [(f["path"], f["line"], f["rule"], f["message"]) for f in json.loads(out)["findings"]]
    loop = "the file is a symlink loop and was not read"
    assert [f for f in found if f[2] == "syntax-error"] == [
        (f".github/workflows/{name}.yml", 1, "syntax-error", loop) for name in ("a", "b", "loop")
    ]
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bastion]\nexclude = ["vendor/**"]\n'
        '[tool.bastion.per-path-ignores]\n"docs/*" = ["syntax-error"]\n',
        encoding="utf-8",
    )
    code, out, err = _run(monkeypatch, capsys, tmp_path, "check", "--write-baseline", "b.json")
    assert (code, err) == (0, "bastion: wrote 4 findings to b.json\n")
    code, _, err = _run(monkeypatch, capsys, tmp_path, "pin", "--offline", ".")
    assert code == 1
    assert f"bastion: .github/workflows/loop.yml: skipped: {loop}\n" in err
    assert "3 files skipped" in err
    code, out, err = _run(monkeypatch, capsys, tmp_path, "fix", "--no-config", ".")
    assert code == 1
    assert "Traceback" not in out + err


def test_fifos_named_gitignore_or_workflow_never_block(tmp_path: Path) -> None:
    workflows = _repository(tmp_path, {"target.yml": TARGET})
    os.mkfifo(workflows / "fifo.yml")
    os.mkfifo(tmp_path / ".gitignore")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    os.mkfifo(deep / ".gitignore")
    os.mkfifo(deep / "action.yml")
    done = _subprocess(tmp_path, "check", "--no-config", "--format", "json", ".")
    assert done.returncode == 1, done.stderr
    found = {(f["path"], f["rule"], f["message"]) for f in json.loads(done.stdout)["findings"]}
    fifo = "the file is a FIFO (named pipe), not a regular file, and was not read"
    assert (".github/workflows/fifo.yml", "syntax-error", fifo) in found
    assert ("a/b/c/action.yml", "syntax-error", fifo) in found
    assert any(rule == "dangerous-trigger" for _, rule, _ in found)
    named = _subprocess(tmp_path, "check", "--no-config", ".github/workflows/fifo.yml")
    assert named.returncode == 2
    assert "is not a regular file" in named.stderr
    pinned = _subprocess(tmp_path, "pin", "--offline", ".")
    assert pinned.returncode == 1
    assert f"bastion: .github/workflows/fifo.yml: skipped: {fifo}\n" in pinned.stderr
    fixed = _subprocess(tmp_path, "fix", "--no-config", ".")
    assert fixed.returncode == 1, fixed.stderr
    assert "  remains: 1:1 syntax-error: no fix available\n" in fixed.stdout
    assert stat.S_ISFIFO(os.lstat(workflows / "fifo.yml").st_mode)


def test_a_pathological_gitignore_pattern_does_not_hang_the_walk(tmp_path: Path) -> None:
    _repository(tmp_path, {"target.yml": TARGET})
    (tmp_path / ".gitignore").write_text(
        "*" * 30 + "x\n" + "*a" * 25 + "b\n" + "**/" * 20 + "z\n[z-a]\n[]\n[!]\n[unterminated\n",
        encoding="utf-8",
    )
    for number in range(50):
        (tmp_path / ("a" * 60 + str(number))).mkdir()
        (tmp_path / ("a" * 60 + str(number)) / "action.yml").write_text(
            "runs: {using: composite, steps: []}\n", encoding="utf-8"
        )
    done = _subprocess(tmp_path, "check", "--no-config", "--format", "json", ".")
    assert done.returncode == 1, done.stderr
    paths = {f["path"] for f in json.loads(done.stdout)["findings"]}
    assert ".github/workflows/target.yml" in paths
    assert json.loads(done.stdout)["files_checked"] == 51


# -- paths inside .github --


@pytest.mark.parametrize(
    "argument", [".github", ".github/workflows", ".github/workflows/", ".github/workflows/t.yml"]
)
def test_a_path_inside_github_checks_what_github_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argument: str,
) -> None:
    workflows = _repository(tmp_path, {"t.yml": TARGET})
    (workflows / "nested").mkdir()
    (workflows / "nested" / "not-run.yml").write_text(TARGET, encoding="utf-8")
    code, out, _ = _run(
        monkeypatch, capsys, tmp_path, "check", "--no-config", "--format", "json", argument
    )
    assert code == 1
    report = json.loads(out)
    assert report["files_checked"] == 1
    assert [(f["path"], f["line"], f["rule"]) for f in report["findings"]] == [
        (".github/workflows/t.yml", 1, "dangerous-trigger")
    ]


def test_a_github_path_from_another_directory_keeps_paths_relative_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _repository(tmp_path / "repo", {"t.yml": TARGET})
    code, out, _ = _run(
        monkeypatch, capsys, tmp_path, "check", "--no-config", "--format", "json", "repo/.github"
    )
    assert code == 1
    assert [f["path"] for f in json.loads(out)["findings"]] == ["repo/.github/workflows/t.yml"]


# -- sizes --


def _cap_memory() -> None:
    gibibyte = 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (gibibyte, gibibyte))


def test_endless_standard_input_ends_with_a_too_large_finding(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        done = _subprocess(tmp_path, "check", "--no-config", "-", stdin=zero, limits=_cap_memory)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(
        "<stdin>:1:1: high[syntax-error] standard input is too large (larger than the 10 MiB "
        "bastion reads) and was not read\n"
    )


def test_a_50_mb_workflow_is_refused_by_check_and_pin(tmp_path: Path, cache: Path) -> None:
    workflows = _repository(tmp_path)
    with open(workflows / "huge.yml", "wb") as out:
        out.write(WORKFLOW.encode())
        out.write(b"#" * (50 * 1024 * 1024))
    checked = _subprocess(tmp_path, "check", "--no-config", ".", limits=_cap_memory)
    assert checked.returncode == 1, checked.stderr
    assert (
        ".github/workflows/huge.yml:1:1: high[syntax-error] the file is too large (50.0 MiB, "
        "larger than the 10 MiB bastion reads) and was not read\n"
    ) in checked.stdout
    pinned = _subprocess(
        tmp_path, "pin", "--offline", ".", limits=_cap_memory, env={"BASTION_CACHE_DIR": str(cache)}
    )
    assert pinned.returncode == 1
    assert pinned.stderr == (
        "bastion: .github/workflows/huge.yml: skipped: the file is too large (50.0 MiB, larger "
        "than the 10 MiB bastion reads) and was not read\n"
        "bastion: pinned 0 uses in 0 files; 1 file skipped (see above)\n"
    )


# -- a full disk, a killed run --


def test_pin_on_a_full_disk_leaves_the_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    workflows = _repository(tmp_path, {"ci.yml": WORKFLOW})
    (workflows / "ci.yml").chmod(0o640)

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = _run(monkeypatch, capsys, tmp_path, "pin", "--offline", ".")
    assert code == 2
    real = (workflows / "ci.yml").resolve()
    assert err == (
        "bastion: pinned 0 uses in 0 files\n"
        f"bastion: cannot write {real}: No space left on device; the file is unchanged\n"
    )
    assert (workflows / "ci.yml").read_text(encoding="utf-8") == WORKFLOW
    assert sorted(p.name for p in workflows.iterdir()) == ["ci.yml"]


def _small_files() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(WORKFLOW) + 10, len(WORKFLOW) + 10))


def test_pin_past_the_file_size_limit_leaves_the_file_intact(tmp_path: Path, cache: Path) -> None:
    workflows = _repository(tmp_path, {"ci.yml": WORKFLOW})
    done = _subprocess(
        tmp_path,
        "pin",
        "--offline",
        ".",
        limits=_small_files,
        env={"BASTION_CACHE_DIR": str(cache)},
    )
    assert done.returncode == 2
    assert "File too large; the file is unchanged\n" in done.stderr
    assert (workflows / "ci.yml").read_text(encoding="utf-8") == WORKFLOW
    assert sorted(p.name for p in workflows.iterdir()) == ["ci.yml"]


def test_a_temporary_file_left_by_a_killed_run_is_removed_by_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    workflows = _repository(tmp_path, {"ci.yml": WORKFLOW})
    leftover = workflows / f".ci.yml.k1ll3d_x{TEMPORARY_SUFFIX}"
    leftover.write_text("half a workflow", encoding="utf-8")
    unrelated = workflows / f".ci.yml.other.k1ll3d_x{TEMPORARY_SUFFIX}"
    unrelated.write_text("not ours to remove", encoding="utf-8")
    code, _, err = _run(monkeypatch, capsys, tmp_path, "pin", "--offline", ".")
    assert code == 0
    assert f"bastion: note: removed {leftover.resolve()}, a temporary file an earlier " in err
    assert sorted(p.name for p in workflows.iterdir()) == [unrelated.name, "ci.yml"]


@pytest.mark.parametrize(
    ("command", "status"), [(["check", "."], 1), (["graph", "--offline", "."], 0)]
)
def test_a_report_file_planted_as_a_symlink_is_replaced_not_written_through(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    status: int,
) -> None:
    repository = tmp_path / "repository"
    _repository(repository, {"ci.yml": TARGET})
    victim = tmp_path / "victim"
    victim.write_text(SECRET, encoding="utf-8")
    (repository / "results.json").symlink_to(victim)
    code, _, err = _run(
        monkeypatch, capsys, repository, *command, "--format", "json", "--output", "results.json"
    )
    assert code == status, err
    assert victim.read_text(encoding="utf-8") == SECRET
    written = repository / "results.json"
    assert not written.is_symlink()
    assert json.loads(written.read_text(encoding="utf-8"))
    assert not [p for p in repository.iterdir() if p.name.endswith(TEMPORARY_SUFFIX)]
