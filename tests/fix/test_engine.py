"""The fix loop: rounds, conflicts, rollback of fixes that break the file, and reasons."""

from __future__ import annotations

from bastion.config import Config
from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target
from bastion.fix.edits import Edit
from bastion.fix.engine import FixEngine
from bastion.fix.persisted_credentials import PersistedCredentials
from bastion.fix.registry import FIXERS
from bastion.inputs import Kind
from tests.fix.harness import fix

WORKFLOW = (
    "on: push\n"
    "permissions: {}\n"
    "jobs:\n"
    "  build:\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "      - uses: actions/checkout@v4\n"
    "      - uses: actions/checkout@v4\n"
)
SELECT = Config(select=frozenset({"persisted-credentials"}))


class Breaking(Fixer):
    """Fixes persisted-credentials by writing text that is not YAML."""

    rule = "persisted-credentials"
    safe = True

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        start = target.offset(finding.span.start)
        return Fix("break the file", (Edit(start, start, "{[: "),))


class BreakingSecond(Fixer):
    """Fixes the first checkout properly and breaks the file on the second."""

    rule = "persisted-credentials"
    safe = True

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        if finding.route == "jobs/build/steps/1/uses":
            end = target.offset(finding.span.end)
            return Fix("duplicate key", (Edit.insert(end, "\n        x: 1\n        x: 2"),))
        return PersistedCredentials().fix(target, finding)


class Crashing(Fixer):
    rule = "persisted-credentials"
    safe = True

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        raise RuntimeError("boom")


def test_a_fix_that_breaks_parsing_is_rolled_back() -> None:
    engine = FixEngine(SELECT, fixers={"persisted-credentials": Breaking()})
    result = engine.fix_text(WORKFLOW, "ci.yml", Kind.WORKFLOW)
    assert result.text == WORKFLOW
    assert result.applied == []
    assert [result.reasons[f] for f in result.remaining] == [
        "its fix would break the file and was rolled back"
    ] * 2


def test_only_the_breaking_fix_of_a_round_is_rolled_back() -> None:
    engine = FixEngine(SELECT, fixers={"persisted-credentials": BreakingSecond()})
    result = engine.fix_text(WORKFLOW, "ci.yml", Kind.WORKFLOW)
    assert result.text == WORKFLOW.replace(
        "checkout@v4\n      - uses",
        "checkout@v4\n        with:\n          persist-credentials: false\n      - uses",
    )
    assert [f.span.start.line for f in result.remaining] == [10]
    assert result.reasons[result.remaining[0]] == (
        "its fix would break the file and was rolled back"
    )


def test_a_crashing_fixer_is_an_internal_error_not_a_traceback() -> None:
    engine = FixEngine(SELECT, fixers={"persisted-credentials": Crashing()})
    result = engine.fix_text(WORKFLOW, "ci.yml", Kind.WORKFLOW)
    assert not result.changed
    assert len(result.errors) == 1
    assert result.errors[0].startswith("internal error in the persisted-credentials fix on ci.yml")
    assert set(result.reasons.values()) == {"the fix failed with an internal error"}


class SameSpot(Fixer):
    """Two findings whose fixes insert at the same offset: one waits for the next round."""

    rule = "persisted-credentials"
    safe = True

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        step = target.step(finding.route)
        assert step is not None
        # Both insert a comment line at the start of the file: they touch, so the second
        # waits a round; the real fix is appended so that the finding goes away.
        real = PersistedCredentials().fix(target, finding)
        assert isinstance(real, Fix)
        return Fix("with a comment", (Edit.insert(0, f"# step {step.index}\n"), *real.edits))


def test_touching_fixes_are_applied_in_later_rounds() -> None:
    engine = FixEngine(SELECT, fixers={"persisted-credentials": SameSpot()})
    result = engine.fix_text(WORKFLOW, "ci.yml", Kind.WORKFLOW)
    assert result.remaining == []
    assert len(result.applied) == 2
    assert result.text.startswith("# step 1\n# step 0\non: push\n")


def test_safe_only_leaves_unsafe_fixes_with_a_reason() -> None:
    result = fix(WORKFLOW, select="persisted-credentials", unsafe=False)
    assert not result.changed
    reason = f"fixable with --unsafe ({FIXERS['persisted-credentials'].why_unsafe})"
    assert [result.reasons[f] for f in result.remaining] == [reason, reason]


def test_rules_without_a_fixer_say_so() -> None:
    result = fix(WORKFLOW, select="unpinned-action")
    hint = "pinning asks the network: run `bastion fix --pin`, or `bastion pin`"
    assert set(result.reasons.values()) == {hint}
    assert len(result.remaining) == 2


def test_second_run_changes_nothing() -> None:
    first = fix(WORKFLOW.replace("permissions: {}\n", ""))
    assert first.changed
    second = fix(first.text)
    assert not second.changed
    assert second.applied == []


def test_unparsable_file_is_left_alone() -> None:
    result = fix("on: [push\njobs: {}\n")
    assert not result.changed
    assert [f.rule for f in result.remaining] == ["syntax-error"]
    assert set(result.reasons.values()) == {"no fix available"}


def test_fixed_counts_by_rule() -> None:
    result = fix(WORKFLOW.replace("permissions: {}\n", ""))
    assert dict(result.fixed) == {"excessive-permissions": 1, "persisted-credentials": 2}
