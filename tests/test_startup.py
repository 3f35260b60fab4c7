"""What a `bastion check` imports: the models of the files it meets, and nothing it does not use.

Start-up is most of the CPU a small run takes, so these tests pin down what one run loads
(without timing anything): each module left out here costs a run that does not need it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKFLOW = """\
on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - run: echo hi
"""

DEPENDABOT = """\
version: 2
updates:
  - package-ecosystem: github-actions
    directory: /
    schedule:
      interval: weekly
"""

LOCKFILE = "version: v0.0.2\nworkflows: {}\ndependencies: {}\n"

# Runs a check in a fresh interpreter; prints the exit code, the rules found and the modules.
CHECK = """
import json, sys
from contextlib import redirect_stdout
from io import StringIO
from bastion.cli import main
with redirect_stdout(StringIO()) as report:
    status = main(["check", "--no-config", "--format", "json", sys.argv[1]])
rules = sorted({finding["rule"] for finding in json.loads(report.getvalue())["findings"]})
print(json.dumps([status, rules, sorted(sys.modules)]))
"""

LOADED_WHEN_USED = (
    "bastion.model.lockfile",
    "bastion.model.updaters",
    "bastion.source.json5",
)
"""Models a run imports only when it meets their files (a lockfile, an updater configuration)."""

NEVER_FOR_CHECK = (
    "bastion.baseline",
    "bastion.fix",
    "bastion.github",
    "bastion.graph",
    "bastion.model.dockerfile",
    "bastion.model.gaps",
    "bastion.model.graph",
    "bastion.pinning",
    "bastion.release",
    "bastion.render.github",
    "bastion.render.human",
    "bastion.render.sarif",
    "bastion.settings",
    "concurrent.futures",
    "multiprocessing",
    "traceback",
    "urllib.request",
)
"""What an offline `check --format json` of a few files never needs: the graph audits, other
commands and formats, worker processes (below the parallel threshold) and the traceback
module (only a bug's report uses it)."""


def _check(directory: Path) -> tuple[int, list[str], set[str]]:
    found = subprocess.run(
        [sys.executable, "-c", CHECK, str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    status, rules, modules = json.loads(found.stdout)
    return status, rules, set(modules)


def _imported(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if any(m == name or m.startswith(f"{name}.") for m in modules)]


def test_a_small_workflow_loads_only_the_workflow_models(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    status, rules, modules = _check(tmp_path)
    assert (status, rules) == (1, ["no-dependency-updater", "unpinned-action"])
    assert _imported(modules, LOADED_WHEN_USED + NEVER_FOR_CHECK) == []
    assert "bastion.model.workflow" in modules
    # The records of a check of workflows are plain classes: dataclasses (with the inspect,
    # dis and ast it imports) costs about 15 ms of start-up (the lockfile model still uses it).
    assert "dataclasses" not in modules


def test_a_lockfile_and_an_updater_configuration_load_their_models(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (workflows / "actions.lock").write_text(LOCKFILE, encoding="utf-8")
    (tmp_path / ".github" / "dependabot.yml").write_text(DEPENDABOT, encoding="utf-8")
    status, rules, modules = _check(tmp_path)
    # The lock does not list ci.yml, so its tag is reported as usual; Dependabot updates the
    # actions, without a cooldown.
    assert (status, rules) == (1, ["unpinned-action", "updater-cooldown"])
    assert _imported(modules, LOADED_WHEN_USED) == list(LOADED_WHEN_USED)
    assert _imported(modules, NEVER_FOR_CHECK) == []
