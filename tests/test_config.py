from __future__ import annotations

from pathlib import Path

import pytest

from bastion import config
from bastion.errors import UsageError
from bastion.findings import Confidence, Severity


def test_pyproject_section_is_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        "[tool.bastion]\n"
        'select = ["unpinned-action", "dangerous-trigger"]\n'
        'ignore = ["dangerous-trigger"]\n'
        'min-severity = "medium"\n'
        "[tool.bastion.per-path-ignores]\n"
        '".github/workflows/old-*.yml" = ["unpinned-action"]\n'
        "[tool.bastion.rules.unpinned-action]\n"
        'allow = ["slsa-framework/slsa-github-generator/*"]\n',
        encoding="utf-8",
    )
    found = config.discover(tmp_path / ".github" / "workflows")
    assert found == (tmp_path / "pyproject.toml").resolve()
    loaded = config.load(found)
    assert loaded.enabled("unpinned-action")
    assert not loaded.enabled("dangerous-trigger")
    assert not loaded.enabled("persisted-credentials")
    assert loaded.min_severity is Severity.MEDIUM
    assert loaded.rule_settings == {
        "unpinned-action": {"allow": ("slsa-framework/slsa-github-generator/*",)}
    }
    assert loaded.ignored_for_path(str(tmp_path / ".github/workflows/old-ci.yml")) == {
        "unpinned-action"
    }
    assert loaded.ignored_for_path(str(tmp_path / ".github/workflows/ci.yml")) == set()


def test_the_command_line_overrides_only_what_it_names(tmp_path: Path) -> None:
    table = {"ignore": ["dangerous-trigger"], "exclude": ["old/**"], "min-severity": "medium"}
    loaded = config.from_table(table, "t", root=tmp_path)
    changed = loaded.overridden(
        ignore=loaded.ignore | {"unpinned-action"}, min_confidence=Confidence.HIGH
    )
    assert changed.ignore == {"dangerous-trigger", "unpinned-action"}
    assert changed.min_confidence is Confidence.HIGH
    assert (changed.select, changed.min_severity) == (None, Severity.MEDIUM)
    assert (changed.exclude, changed.root) == (("old/**",), tmp_path)
    assert loaded.ignore == {"dangerous-trigger"}
    assert loaded.min_confidence is Confidence.LOW


def test_dedicated_file_wins_and_discovery_stops_at_the_repository(tmp_path: Path) -> None:
    outer = tmp_path / "pyproject.toml"
    outer.write_text("[tool.bastion]\nignore = []\n", encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert config.discover(repo) is None
    (repo / ".github").mkdir()
    (repo / ".github" / "bastion.toml").write_text(
        'ignore = ["secrets-inherit"]\n', encoding="utf-8"
    )
    found = config.discover(repo)
    assert found is not None
    assert config.load(found).ignore == {"secrets-inherit"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select = ['nope']\n", "unknown rule nope"),
        ("colour = true\n", "unknown key(s) colour"),
        ("min-severity = 'huge'\n", "unknown severity 'huge'"),
        ("[rules.unpinned-action]\nallow = 'x'\n", "must be a list of strings"),
        ("[rules.unpinned-action]\nalow = ['x']\n", "unknown option 'alow'"),
        ("select = [\n", "is not valid TOML"),
    ],
)
def test_bad_configuration_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bastion.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config.load(path)


def test_configuration_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "bastion.toml"
    path.write_bytes(b"ignore = []\n# \xc3(\n")
    with pytest.raises(UsageError) as raised:
        config.load(path)
    assert str(raised.value) == (
        f"{path} is not UTF-8: byte 0xc3 at line 2, byte 3 of the line (offset 14); "
        "TOML files must be UTF-8"
    )


def test_discovery_reports_a_broken_pyproject_only_when_it_names_bastion(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_bytes(b"[tool.ruff]\nx = '\xff'\n")
    assert config.discover(tmp_path) is None
    pyproject.write_bytes(b"[tool.bastion]\nignore = ['\xff']\n")
    with pytest.raises(UsageError, match="is not UTF-8: byte 0xff at line 2"):
        config.discover(tmp_path)
    pyproject.write_text("[tool.bastion\n", encoding="utf-8")
    with pytest.raises(UsageError, match="is not valid TOML"):
        config.discover(tmp_path)
