"""`bastion fix --unsafe --diff` on realistic files, against reviewed diffs.

Each file under inputs/ exercises one fixer (and whatever else it meets on the way); the
diff is what a user would review. Regenerate with
``BASTION_UPDATE_SNAPSHOTS=1 python -m pytest tests/fix`` and review the change.
"""

from __future__ import annotations

import pytest

from bastion.fix.registry import FIXERS
from bastion.inputs import Kind
from tests.fix.harness import HERE, assert_snapshot, fix, run_cli

INPUTS = sorted(path.name for path in (HERE / "inputs").glob("*.yml"))
DEPENDABOT = "inputs/dependabot"


@pytest.mark.parametrize("name", INPUTS)
def test_diff(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    before = (HERE / "inputs" / name).read_bytes()
    outcome = run_cli(
        monkeypatch, capsys, HERE, "fix", "--no-config", "--unsafe", "--diff", f"inputs/{name}"
    )
    assert outcome.code == 1  # there are changes
    assert outcome.out.startswith(f"--- a/inputs/{name}\n+++ b/inputs/{name}\n")
    assert (HERE / "inputs" / name).read_bytes() == before  # --diff writes nothing
    assert_snapshot(name.removesuffix(".yml") + ".diff", outcome.out)


def test_dependabot_is_fixed_without_unsafe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_cli(monkeypatch, capsys, HERE, "fix", "--no-config", "--diff", DEPENDABOT)
    assert outcome.code == 1
    assert outcome.err == (
        f"{DEPENDABOT}/.github/dependabot.yml: would fix 4 findings (updater-cooldown ×4)\n"  # noqa: RUF001
        "Would fix 4 findings in 1 file.\n"
    )
    assert_snapshot("dependabot.diff", outcome.out)


def test_every_fixer_is_exercised() -> None:
    applied: set[str] = set()
    for name in INPUTS:
        result = fix((HERE / "inputs" / name).read_text(encoding="utf-8"), kind=None)
        applied.update(item.rule for item in result.applied)
    dependabot = (HERE / DEPENDABOT / ".github" / "dependabot.yml").read_text(encoding="utf-8")
    applied.update(item.rule for item in fix(dependabot, kind=Kind.DEPENDABOT).applied)
    assert applied == set(FIXERS)
