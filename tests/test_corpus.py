"""Every file of the real-world corpus goes through every rule without a crash."""

from __future__ import annotations

from pathlib import Path

from bastion.config import Config
from bastion.engine import run
from bastion.inputs import collect
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


def test_corpus_has_no_crash_and_only_real_syntax_errors() -> None:
    root = require(CORPUS)
    repositories = sorted(str(path) for path in root.iterdir() if path.is_dir())
    inputs = collect(repositories)
    assert len(inputs) > 1500
    report = run(inputs, Config(root=root))
    assert report.errors == []
    syntax = {
        (Path(f.path).relative_to(root).as_posix(), f.span.start.line, f.message)
        for f in report.findings
        if f.rule == "syntax-error"
    }
    assert syntax == set(EXPECTED_SYNTAX_ERRORS)
