from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastion.errors import UsageError
from bastion.inputs import (
    DEPENDABOT_PATHS,
    PACKAGE_JSON,
    RENOVATE_PATHS,
    Kind,
    collect,
)
from bastion.rules.no_dependency_updater import LOOKED_FOR


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_directory_yields_its_workflows_and_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(
        tmp_path,
        {
            ".github/workflows/ci.yml": "",
            ".github/workflows/release.yaml": "",
            ".github/workflows/notes.md": "",
            ".github/workflows/configs/builder.yml": "",  # not run by GitHub
            ".github/workflows/action.yml": "",  # a workflow, despite its name
            "action.yml": "",
            "actions/setup/action.yaml": "",
            "node_modules/x/action.yml": "",
            "vendor/y/action.yml": "",
            ".git/hooks/action.yml": "",
            "build/action.yml": "",
            "keep/action.yml": "",
            ".gitignore": "build/\n*.tmp\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    found = [(item.display, item.kind) for item in collect(["."])]
    assert found == [
        (".github/workflows/action.yml", Kind.WORKFLOW),
        (".github/workflows/ci.yml", Kind.WORKFLOW),
        (".github/workflows/release.yaml", Kind.WORKFLOW),
        ("action.yml", Kind.ACTION),
        ("actions/setup/action.yaml", Kind.ACTION),
        ("keep/action.yml", Kind.ACTION),
    ]


def test_files_stdin_and_duplicates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path, {".github/workflows/ci.yml": "", "other.yml": ""})
    monkeypatch.chdir(tmp_path)
    found = collect([".github/workflows/ci.yml", ".", "other.yml", "-"], stdin=b"on: push")
    assert [(i.display, i.kind) for i in found] == [
        (".github/workflows/ci.yml", Kind.WORKFLOW),
        ("other.yml", None),
        ("<stdin>", None),
    ]
    assert found[2].data == b"on: push"


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        collect([str(tmp_path / "nope")])


def test_a_directory_yields_its_updater_and_pre_commit_configurations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(
        tmp_path,
        {
            ".github/workflows/ci.yml": "",
            ".github/dependabot.yml": "",
            ".github/renovate.json5": "",
            ".gitlab/renovate.json": "",
            "renovate.json": "",
            ".renovaterc": "",
            ".renovaterc.json5": "",
            ".pre-commit-config.yaml": "",
            "package.json": '{"name": "x", "renovate": {"extends": ["config:recommended"]}}',
            "sub/renovate.json": "",  # Renovate reads only the root and .github/.gitlab
            "sub/.pre-commit-config.yaml": "",  # pre-commit reads only the root one
            "sub/.github/dependabot.yml": "",
            "action.yml": "",
        },
    )
    monkeypatch.chdir(tmp_path)
    found = [(item.display, item.kind, item.root) for item in collect(["."])]
    assert found == [
        (".github/workflows/ci.yml", Kind.WORKFLOW, "."),
        (".github/dependabot.yml", Kind.DEPENDABOT, "."),
        ("renovate.json", Kind.RENOVATE, "."),
        (".github/renovate.json5", Kind.RENOVATE, "."),
        (".gitlab/renovate.json", Kind.RENOVATE, "."),
        (".renovaterc", Kind.RENOVATE, "."),
        (".renovaterc.json5", Kind.RENOVATE, "."),
        (".pre-commit-config.yaml", Kind.PRE_COMMIT, "."),
        ("package.json", Kind.RENOVATE, "."),
        ("action.yml", Kind.ACTION, "."),
    ]


def test_a_directory_that_cannot_be_listed_is_looked_in_name_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A searchable directory that cannot be listed (mode --x) still yields the files
    collection looks for by name, as the per-path checks found them."""
    _tree(
        tmp_path,
        {
            ".github/workflows/ci.yml": "",
            ".github/dependabot.yml": "",
            ".github/renovate.json": "",
            ".pre-commit-config.yaml": "",
        },
    )
    unlisted = {str(tmp_path / ".github"), "."}
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if str(path) in unlisted:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.chdir(tmp_path)
    unlisted.add(str(Path(".github")))
    found = [(item.display, item.kind) for item in collect(["."])]
    assert found == [
        (".github/workflows/ci.yml", Kind.WORKFLOW),
        (".github/dependabot.yml", Kind.DEPENDABOT),
        (".github/renovate.json", Kind.RENOVATE),
        (".pre-commit-config.yaml", Kind.PRE_COMMIT),
    ]


def test_symlinked_configuration_folders_are_followed_and_their_links_collected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, {"shared/workflows/ci.yml": "", "shared/dependabot.yml": ""})
    (tmp_path / ".github").symlink_to("shared", target_is_directory=True)
    (tmp_path / "renovate.json").symlink_to("missing.json")  # the read reports it
    (tmp_path / ".pre-commit-config.yaml").mkdir()  # a directory is not a configuration
    monkeypatch.chdir(tmp_path)
    found = [(item.display, item.kind) for item in collect(["."])]
    assert found == [
        (".github/workflows/ci.yml", Kind.WORKFLOW),
        (".github/dependabot.yml", Kind.DEPENDABOT),
        ("renovate.json", Kind.RENOVATE),
    ]


@pytest.mark.parametrize(
    "package",
    [
        '{"name": "x"}',
        '{"name": "x", "scripts": {"renovate": "renovate --dry-run"}}',
        '{"name": "x", "renovate": ',  # broken JSON is npm's to report, not ours
        "",
    ],
)
def test_a_package_json_counts_only_with_a_renovate_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: str
) -> None:
    _tree(tmp_path, {"package.json": package, ".github/workflows/ci.yml": ""})
    monkeypatch.chdir(tmp_path)
    assert [item.display for item in collect(["."])] == [".github/workflows/ci.yml"]


def test_configurations_named_on_the_command_line_are_recognised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [
        ".github/dependabot.yaml",
        "renovate.json5",
        ".renovaterc.json",
        "package.json",
        ".pre-commit-config.yml",
    ]
    _tree(tmp_path, dict.fromkeys(names, ""))
    monkeypatch.chdir(tmp_path)
    found = [(item.display, item.kind, item.root) for item in collect(names)]
    assert found == [
        (".github/dependabot.yaml", Kind.DEPENDABOT, None),
        ("renovate.json5", Kind.RENOVATE, None),
        (".renovaterc.json", Kind.RENOVATE, None),
        ("package.json", Kind.RENOVATE, None),
        (".pre-commit-config.yml", Kind.PRE_COMMIT, None),
    ]


def test_excluded_configurations_are_not_collected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path, {".github/dependabot.yml": "", "renovate.json": ""})
    monkeypatch.chdir(tmp_path)
    found = collect(["."], exclude=lambda path: path.name == "renovate.json")
    assert [item.display for item in found] == [".github/dependabot.yml"]


def test_the_no_updater_message_names_every_place_collection_looks() -> None:
    def expand(pattern: str) -> set[str]:
        """``a(.b|.c)`` and ``x.json(5)`` and ``y|z`` spelled out."""
        if "(" in pattern:
            head, rest = pattern.split("(", 1)
            inner, tail = rest.split(")", 1)
            options = ["", *inner.split("|")] if inner.startswith(".") else ["", inner]
            return {name for option in options for name in expand(head + option + tail)}
        if "|" in pattern:
            head, _, alternative = pattern.rpartition(".")
            return {f"{head}.{part}" for part in alternative.split("|")}
        return {pattern}

    named = LOOKED_FOR.split(", and ")[0].split(", ")
    spelled = {name for pattern in named for name in expand(pattern)}
    assert spelled == {*DEPENDABOT_PATHS, *RENOVATE_PATHS}
    assert PACKAGE_JSON in LOOKED_FOR
