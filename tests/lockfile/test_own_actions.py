"""`unpinned-action` in the repository's own actions that workflows run through `$/`:
GitHub's writer locks their `uses:` as each such workflow's pins (gh actions-lock,
`internal/workflowfile/workflowfile.go`, `ExtractLocalCompositeRefs`), so a tag there that
every such workflow's lock holds is pinned."""

from __future__ import annotations

from pathlib import Path

from bastion.config import Config
from bastion.engine import run
from bastion.inputs import collect

ACTION = """name: setup
description: setup
runs:
  using: composite
  steps:
    - uses: actions/cache@v4
    - uses: actions/setup-node@v4
"""

LOCK = """version: 'v0.0.2'
workflows:
    '.github/workflows/ci.yml':
        - 'actions/cache@v4'
dependencies:
    'actions/cache@v4':
        ref: 'v4'
        commit: 'sha1-0057852bfaa89a56745cba8c7296529d2fc39830'
        owner_id: 44036562
        repo_id: 206539932
"""

WORKFLOW = """on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: $/.github/actions/setup
"""


def _project(tmp_path: Path, **workflows: str) -> Path:
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "actions.lock").write_text(LOCK, encoding="utf-8")
    for name, text in workflows.items():
        (root / ".github" / "workflows" / f"{name}.yml").write_text(text, encoding="utf-8")
    action = root / ".github" / "actions" / "setup"
    action.mkdir(parents=True)
    (action / "action.yml").write_text(ACTION, encoding="utf-8")
    return root


def _unpinned(root: Path) -> list[tuple[str, int]]:
    config = Config(select=frozenset({"unpinned-action"}))
    report = run(collect([str(root)]), config, jobs=1)
    assert report.errors == []
    prefix = f"{root.as_posix()}/"
    return sorted((f.path.removeprefix(prefix), f.span.start.line) for f in report.findings)


def test_a_tag_in_an_own_action_that_the_lock_of_every_caller_holds_is_pinned(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path, ci=WORKFLOW)
    # actions/cache@v4 is locked with ci.yml; actions/setup-node@v4 is not in the lock.
    assert _unpinned(root) == [(".github/actions/setup/action.yml", 7)]


def test_a_caller_that_is_not_locked_or_names_it_by_a_local_path_keeps_the_finding(
    tmp_path: Path,
) -> None:
    action = ".github/actions/setup/action.yml"
    # release.yml runs the action through `$/` but is not listed: its runs are not locked.
    root = _project(tmp_path / "a", ci=WORKFLOW, release=WORKFLOW)
    assert [line for path, line in _unpinned(root) if path == action] == [6, 7]
    # lint.yml names it by `./`, which GitHub's lockfile cannot onboard.
    local = WORKFLOW.replace("$/.github/actions/setup", "./.github/actions/setup")
    root = _project(tmp_path / "b", ci=WORKFLOW, lint=local)
    assert [line for path, line in _unpinned(root) if path == action] == [6, 7]
    # No workflow runs it: the lock says nothing about it.
    root = _project(tmp_path / "c")
    assert _unpinned(root) == [(action, 6), (action, 7)]
