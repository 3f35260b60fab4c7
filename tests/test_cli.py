from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bastion.cli import main
from bastion.rules import RULES

TRIGGER = (
    "on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: x\n"
    "    steps:\n      - run: echo\n"
)


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [rule.id for rule in RULES]


@pytest.mark.parametrize("rule", [rule.id for rule in RULES])
def test_explain_shows_the_documentation(rule: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", rule]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# {rule}\n")
    for heading in ("## Why it matters", "## Example", "## How to fix"):
        assert heading in out


def test_explain_unknown_rule_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "nope"]) == 2
    assert "unknown rule 'nope'" in capsys.readouterr().err


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(TRIGGER.encode())))
    code = main(["check", "-", "--format", "json", "--no-config", "--select", "dangerous-trigger"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(f["path"], f["line"], f["column"]) for f in report["findings"]] == [("<stdin>", 1, 5)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["check", "--select", "nope"], "--select: unknown rule nope"),
        (["check", "--min-severity", "huge"], "unknown severity 'huge'"),
        (["check", "/does/not/exist"], "/does/not/exist does not exist"),
        (["check", "--format", "xml"], "invalid choice: 'xml'"),
        (["check", "--config", "/does/not/exist.toml"], "does not exist"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_configuration_is_discovered_from_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "a.yml").write_text(TRIGGER, encoding="utf-8")
    (tmp_path / ".github" / "bastion.toml").write_text(
        'select = ["dangerous-trigger"]\n', encoding="utf-8"
    )
    assert main(["check", str(tmp_path), "--format", "json"]) == 1
    assert [f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]] == [
        "dangerous-trigger"
    ]
    assert main(["check", str(tmp_path), "--format", "json", "--ignore", "dangerous-trigger"]) == 0


def test_empty_directory_says_nothing_was_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path), "--no-config"]) == 0
    assert "nothing to check under" in capsys.readouterr().err


def test_min_confidence_filters(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # An image that is only an expression: unpinned-image reports it with low confidence.
    workflow = tmp_path / "w.yml"
    workflow.write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n"
        "    container: ${{ matrix.image }}\n    steps:\n      - run: echo\n",
        encoding="utf-8",
    )
    base = ["check", str(workflow), "--no-config", "--select", "unpinned-image", "--format", "json"]
    assert main(base) == 1
    assert [f["confidence"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["low"]
    assert main([*base, "--min-confidence", "medium"]) == 0
    capsys.readouterr()
    assert main([*base, "--min-confidence", "sure"]) == 2
    assert "unknown confidence 'sure'" in capsys.readouterr().err


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    # More report than a pipe holds (64 KiB): the report is written in one piece.
    for number in range(600):
        (workflows / f"w{number}.yml").write_text(TRIGGER)
    command = [sys.executable, "-m", "bastion", "check", "--no-config", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    error = process.stderr.read().decode()
    assert process.wait() == 2
    assert "Traceback" not in error


def test_every_command_is_listed_and_registered_by_its_module(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib

    from bastion import cli
    from bastion.cli.common import Parser

    for module in cli.MODULES:
        parser = Parser(prog="bastion")
        commands = parser.add_subparsers(dest="command")
        importlib.import_module(f"bastion.cli.{module}").register(commands)
        expected = {name for name, owner in cli.COMMAND_MODULES.items() if owner == module}
        assert set(commands.choices) == expected
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    assert all(
        f"    {name} " in listed or f"    {name}\n" in listed for name in cli.COMMAND_MODULES
    )
