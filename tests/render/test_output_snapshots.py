"""The whole CLI report in every format, on the fixed files under inputs/, against snapshots.

Most snapshots run only `dangerous-trigger` and `syntax-error`, whose findings are settled;
`all-rules-human.txt` runs every rule and changes whenever a rule's findings do. Regenerate
with ``BASTION_UPDATE_SNAPSHOTS=1 python -m pytest tests/render`` and review the diff.
"""

from __future__ import annotations

import json

import pytest

from bastion import __version__
from tests.render.harness import assert_snapshot, run_cli

SETTLED = ("--select", "dangerous-trigger,syntax-error")
COMMON = ("check", "--no-config", "--jobs", "1")


def _redact_version(document: dict[str, object]) -> None:
    tool = document.get("tool")
    if isinstance(tool, dict):
        assert tool["version"] == __version__
        tool["version"] = "<version>"


def _dump(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(
    ("name", "arguments", "color"),
    [
        ("human.txt", (), False),
        ("human-color.txt", (), True),
        ("github.txt", ("--format", "github"), False),
    ],
)
def test_text_formats(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    arguments: tuple[str, ...],
    color: bool,
) -> None:
    outcome = run_cli(monkeypatch, capsys, *COMMON, *SETTLED, *arguments, "inputs", color=color)
    assert (outcome.code, outcome.err) == (1, "")
    assert ("\x1b[" in outcome.out) is color
    assert_snapshot(name, outcome.out)


def test_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(monkeypatch, capsys, *COMMON, *SETTLED, "--format", "json", "inputs")
    assert (outcome.code, outcome.err) == (1, "")
    document = json.loads(outcome.out)
    assert _dump(document) == outcome.out
    _redact_version(document)
    assert_snapshot("json.json", _dump(document))


def test_sarif(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The rules' documentation is left out of the snapshot (test_sarif checks it), so that
    editing a docstring does not churn this file."""
    outcome = run_cli(monkeypatch, capsys, *COMMON, *SETTLED, "--format", "sarif", "inputs")
    assert (outcome.code, outcome.err) == (1, "")
    document = json.loads(outcome.out)
    assert _dump(document) == outcome.out
    driver = document["runs"][0]["tool"]["driver"]
    assert driver["version"] == driver["semanticVersion"] == __version__
    driver["version"] = driver["semanticVersion"] = "<version>"
    for rule in driver["rules"]:
        rule["fullDescription"]["text"] = f"<first paragraph of `bastion explain {rule['id']}`>"
        rule["help"] = {"text": "<documentation>", "markdown": "<documentation>"}
    assert_snapshot("sarif.json", _dump(document))


def test_all_rules(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(monkeypatch, capsys, *COMMON, "inputs")
    assert (outcome.code, outcome.err) == (1, "")
    assert_snapshot("all-rules-human.txt", outcome.out)
