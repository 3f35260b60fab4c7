from __future__ import annotations

from pathlib import Path

import pytest

from bastion.errors import UsageError
from bastion.inputs import Gitignore, Kind, collect


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


@pytest.mark.parametrize(
    ("patterns", "path", "is_dir", "ignored"),
    [
        (["*.log"], "a/b/x.log", False, True),
        (["/build"], "build", True, True),
        (["/build"], "src/build", True, False),
        (["build/"], "src/build", True, True),
        (["build/"], "build", False, False),
        (["docs/**/gen"], "docs/a/b/gen", True, True),
        (["**/tmp"], "x/tmp", True, True),
        (["*.yml", "!keep.yml"], "keep.yml", False, False),
        (["a/*.yml"], "a/b/c.yml", False, False),
        (["\\#x"], "#x", False, True),
        (["# comment", ""], "comment", False, False),
        (["[ab].txt"], "b.txt", False, True),
    ],
)
def test_gitignore_matching(patterns: list[str], path: str, is_dir: bool, ignored: bool) -> None:
    base = Path("/repo")
    assert Gitignore(base, patterns).ignores(base / path, is_dir=is_dir) is ignored
