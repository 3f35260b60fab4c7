"""The events table, the `if:` evaluator, and one finding per place (anchors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.engine import run
from bastion.findings import Severity
from bastion.inputs import Input, Kind
from bastion.model import triggers
from bastion.model.guards import Guards, Reach, privileged_events
from bastion.model.workflow import Workflow, build_workflow
from bastion.source.yaml import parse


def _workflow(text: str) -> Workflow:
    return build_workflow("w.yml", parse(text))


def _reach(condition: str, event: str = "pull_request_target") -> tuple[Reach, str]:
    workflow = _workflow(
        f"on: {event}\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        f"      - if: {json.dumps(condition)}\n        run: make\n"
    )
    job = workflow.jobs[0]
    found = Guards(workflow, [event]).step(job, job.steps[0])
    return found.reach, found.why


def test_events_table_says_who_starts_each_event_and_what_its_runs_get() -> None:
    assert triggers.privileged(["pull_request_review", "pull_request_review_comment"]) == []
    assert triggers.privileged(["push", "pull_request_target", "issues", "issues"]) == [
        "pull_request_target",
        "issues",
    ]
    assert triggers.event("pull_request_review").starter is triggers.Starter.FORK_AUTHOR
    assert not triggers.event("pull_request").fork_secrets
    assert triggers.event("workflow_dispatch").starter is triggers.Starter.WRITER
    assert triggers.default_cache_mode(["pull_request_target"]) == "read"
    assert triggers.default_cache_mode(["pull_request_target", "push"]) == "write"
    assert triggers.event("no_such_event").privileged is False
    table = triggers.table_markdown()
    assert "| `pull_request_review` | a fork's pull request author | no | `write` |" in table
    assert "| `pull_request_target` | a fork's pull request author | yes | `read` |" in table


@pytest.mark.parametrize(
    ("condition", "reach"),
    [
        ("github.event_name == 'workflow_dispatch'", Reach.NOBODY),
        ("github.event_name == 'PULL_REQUEST_TARGET'", Reach.OUTSIDER),
        ("github.event.pull_request.head.repo.full_name == github.repository", Reach.NOBODY),
        ("github.event.pull_request.head.repo.full_name != github.repository", Reach.OUTSIDER),
        ("${{ !github.event.pull_request.head.repo.fork }}", Reach.NOBODY),
        ("github.event.pull_request.merged", Reach.NOBODY),
        ("contains(github.event.pull_request.labels.*.name, 'ok')", Reach.MAINTAINER),
        ("!contains(github.event.pull_request.labels.*.name, 'ok')", Reach.OUTSIDER),
        ("github.actor == 'someone' && always()", Reach.MAINTAINER),
        ("github.actor == 'someone' || github.event.action == 'opened'", Reach.OUTSIDER),
        ("github.event.pull_request.author_association == 'CONTRIBUTOR'", Reach.OUTSIDER),
        ('contains(fromJSON(\'["OWNER", "NONE"]\'), github.actor)', Reach.MAINTAINER),
        ("failure()", Reach.OUTSIDER),
        ("'text' == 'text' && false", Reach.NOBODY),
        ("not an expression (", Reach.OUTSIDER),
    ],
)
def test_conditions_are_judged_for_an_outsiders_run(condition: str, reach: Reach) -> None:
    assert _reach(condition)[0] is reach


def test_a_gated_step_says_which_maintainer_action_it_needs() -> None:
    assert _reach("contains(github.event.pull_request.labels.*.name, 'safe')") == (
        Reach.MAINTAINER,
        "the label `safe`",
    )


def test_issue_comment_has_no_pull_request_payload() -> None:
    # Under issue_comment `github.event.pull_request` is null: `!...fork` holds.
    condition = "${{ !github.event.pull_request.head.repo.fork }}"
    assert _reach(condition, "issue_comment")[0] is Reach.OUTSIDER


def test_workflow_run_with_writer_only_upstream_is_not_privileged(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("name: CI\non: [push, workflow_dispatch]\njobs: {}\n")
    (workflows / "pr.yml").write_text("on: pull_request\njobs: {}\n")
    siblings = triggers.sibling_workflows(workflows, tmp_path)
    assert set(siblings) == {"ci", ".github/workflows/pr.yml"}
    after_ci = _workflow("on:\n  workflow_run:\n    workflows: [ci]\njobs: {}\n")
    after_ci.siblings = siblings
    assert privileged_events(after_ci) == []
    after_pr = _workflow(
        "on:\n  workflow_run:\n    workflows: [CI, .github/workflows/pr.yml]\njobs: {}\n"
    )
    after_pr.siblings = siblings
    assert privileged_events(after_pr) == ["workflow_run"]


def test_a_review_from_a_fork_is_not_high_severity(tmp_path: Path) -> None:
    path = tmp_path / "w.yml"
    path.write_text(
        "on: pull_request_review\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        '      - run: echo "${{ github.event.review.body }}"\n'
    )
    config = Config(select=frozenset({"template-injection"}))
    report = run([Input("w.yml", Kind.WORKFLOW, path)], config, jobs=1)
    assert [(f.rule, f.severity) for f in report.findings] == [
        ("template-injection", Severity.MEDIUM)
    ]


def test_an_anchor_reused_in_two_jobs_gives_one_finding_per_place(tmp_path: Path) -> None:
    path = tmp_path / "w.yml"
    path.write_text(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps: &s\n      - uses: actions/checkout@v4\n"
        "  b:\n    runs-on: x\n    steps: *s\n"
    )
    config = Config(select=frozenset({"unpinned-action", "persisted-credentials"}))
    report = run([Input("w.yml", Kind.WORKFLOW, path)], config, jobs=1)
    assert sorted((f.rule, f.span.start.line) for f in report.findings) == [
        ("persisted-credentials", 6),
        ("unpinned-action", 6),
    ]
