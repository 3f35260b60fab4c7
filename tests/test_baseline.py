from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.cli import main

WORKFLOW = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - uses: actions/setup-python@v5
"""


def _repository(tmp_path: Path, text: str) -> Path:
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    (workflows / "ci.yml").write_text(text)
    return tmp_path / "repo"


def test_a_baseline_hides_known_findings_and_survives_moved_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repository = _repository(tmp_path, WORKFLOW)
    baseline = tmp_path / "baseline.json"
    arguments = ["check", str(repository), "--no-config", "--select", "unpinned-action"]
    assert main([*arguments, "--write-baseline", str(baseline)]) == 0
    assert "wrote 2 findings" in capsys.readouterr().err
    entries = json.loads(baseline.read_text())["findings"]
    assert [(entry["path"], entry["count"]) for entry in entries] == [
        ("repo/.github/workflows/ci.yml", 1),
        ("repo/.github/workflows/ci.yml", 1),
    ]

    # A new step above the old ones and a comment block move every line; a new unpinned
    # action is the only new finding.
    moved = WORKFLOW.replace(
        "    steps:\n",
        "    # a comment\n    # that moves lines\n    steps:\n      - uses: actions/cache@v4\n",
    )
    _repository(tmp_path, moved)
    code = main([*arguments, "--format", "json", "--baseline", str(baseline)])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 1
    assert [(f["line"], f["rule"]) for f in report["findings"]] == [(9, "unpinned-action")]
    assert "actions/cache is pinned" in report["findings"][0]["message"]
    assert "2 findings held by the baseline" in captured.err


def test_duplicates_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repository = _repository(tmp_path, WORKFLOW)
    baseline = tmp_path / "baseline.json"
    arguments = ["check", str(repository), "--no-config", "--select", "unpinned-action"]
    assert main([*arguments, "--write-baseline", str(baseline)]) == 0
    doubled = WORKFLOW + "      - uses: actions/setup-python@v5\n"
    _repository(tmp_path, doubled)
    capsys.readouterr()
    assert main([*arguments, "--format", "json", "--baseline", str(baseline)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [f["line"] for f in report["findings"]] == [11]


def test_paths_are_relative_to_the_baseline_so_any_working_directory_agrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = _repository(tmp_path, WORKFLOW)
    baseline = repository / "bastion-baseline.json"
    monkeypatch.chdir(tmp_path)
    assert main(["check", "repo", "--no-config", "--write-baseline", str(baseline)]) == 0
    monkeypatch.chdir(repository)
    capsys.readouterr()
    assert main(["check", ".", "--no-config", "--baseline", "bastion-baseline.json"]) == 0
    assert "held by the baseline" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist (create it with --write-baseline"),
        ("{", "is not valid JSON (line 1, column 2)"),
        ('{"version": 7}', "is not a version 1 bastion baseline"),
        ('{"version": 1, "findings": [{"count": 1}]}', "entry 0 needs a string `fingerprint`"),
    ],
)
def test_a_bad_baseline_is_a_clear_usage_error(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    repository = _repository(tmp_path, WORKFLOW)
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    assert main(["check", str(repository), "--no-config", "--baseline", str(baseline)]) == 2
    assert message in capsys.readouterr().err


def test_baseline_and_write_baseline_exclude_each_other(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--baseline", "a", "--write-baseline", "b"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_file_name_that_is_not_utf8_is_escaped_and_still_matched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflows = tmp_path / "repo" / ".github" / "workflows"
    workflows.mkdir(parents=True)
    with open(bytes(workflows) + b"/\xff.yml", "w", encoding="utf-8") as handle:
        handle.write(WORKFLOW)
    baseline = tmp_path / "repo" / "baseline.json"
    arguments = ["check", str(tmp_path / "repo"), "--no-config", "--select", "unpinned-action"]
    assert main([*arguments, "--write-baseline", str(baseline)]) == 0
    entries = json.loads(baseline.read_bytes().decode("utf-8"))["findings"]
    assert {entry["path"] for entry in entries} == {".github/workflows/\\xff.yml"}
    capsys.readouterr()
    assert main([*arguments, "--baseline", str(baseline)]) == 0
    assert capsys.readouterr().out == "No findings in 1 file\n"
