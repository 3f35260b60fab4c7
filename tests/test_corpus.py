"""Every file of the real-world corpus goes through every rule without a crash."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bastion.config import Config
from bastion.engine import run
from bastion.inputs import Kind, collect
from tests.shared import CORPUS, require

# Each syntax-error bastion reports on the corpus, with the reason it is a real problem.
EXPECTED_SYNTAX_ERRORS = {
    (
        "etcd-io__etcd/.github/workflows/antithesis-test.yml",
        18,
        "input 'duration' of workflow_dispatch has type 'int'; "
        "GitHub accepts boolean, choice, environment, number, string",
    ): "GitHub's input types are string, boolean, number, choice and environment; "
    "`int` makes GitHub reject the workflow file.",
}


DEPENDENCY_RULES = frozenset(
    {
        "no-dependency-updater",
        "updater-cooldown",
        "actions-not-updated",
        "updater-code-execution",
        "unpinned-pre-commit",
    }
)
EXPECTED_DEPENDENCY_FINDINGS = Counter(
    {
        # Repositories with workflows and no updater file (the corpus took every one).
        ("no-dependency-updater", "medium"): 31,
        # Dependabot entries without a 7-day cooldown, Renovate files without one.
        ("updater-cooldown", "high"): 176,
        # Renovate files whose cooldown hides in a preset fetched from GitHub.
        ("updater-cooldown", "low"): 8,
        # Dependabot files without github-actions (5), tauri's enabledManagers (1).
        ("actions-not-updated", "high"): 6,
        # pre-commit revs that are tags, not commits.
        ("unpinned-pre-commit", "high"): 123,
    }
)


def test_corpus_has_no_crash_and_only_real_syntax_errors() -> None:
    root = require(CORPUS)
    repositories = sorted(str(path) for path in root.iterdir() if path.is_dir())
    inputs = collect(repositories)
    assert len(inputs) > 1500
    kinds = Counter(item.kind for item in inputs)
    # Every updater and pre-commit file of the corpus is read (its README's counts).
    assert (kinds[Kind.DEPENDABOT], kinds[Kind.RENOVATE], kinds[Kind.PRE_COMMIT]) == (88, 35, 31)
    report = run(inputs, Config(root=root))
    assert report.errors == []
    # The dependency rules, calibrated by hand over the corpus (docs/dependency-rules.md).
    dependency_rules = Counter(
        (f.rule, f.confidence.label) for f in report.findings if f.rule in DEPENDENCY_RULES
    )
    assert dependency_rules == EXPECTED_DEPENDENCY_FINDINGS
    with_updater = {
        Path(item.display).relative_to(root).parts[0]
        for item in inputs
        if item.kind in (Kind.DEPENDABOT, Kind.RENOVATE)
    }
    without = {
        Path(f.path).relative_to(root).parts[0]
        for f in report.findings
        if f.rule == "no-dependency-updater"
    }
    assert not with_updater & without
    syntax = {
        (Path(f.path).relative_to(root).as_posix(), f.span.start.line, f.message)
        for f in report.findings
        if f.rule == "syntax-error"
    }
    assert syntax == set(EXPECTED_SYNTAX_ERRORS)
