"""The per-file facts the rules share (rules/facts.py)."""

from __future__ import annotations

from bastion.model.workflow import Workflow, build_workflow
from bastion.rules.facts import facts
from bastion.source.yaml import ScalarNode, parse

WORKFLOW = """\
on: [pull_request_target, push]
env:
  SHARED: ${{ secrets.DEPLOY }}
  PLAIN: ${{ secrets.GITHUB_TOKEN }}
jobs:
  build:
    runs-on: ubuntu-latest
    if: secrets.GATE != ''
    steps:
      - run: |
          make && sudo npm publish --tag "$TAG"
          echo ${{ secrets.NPM_TOKEN }} | gh auth login --with-token
        env:
          A: ${{ secrets.A }}-${{ secrets.B }}
      - uses: actions/checkout@v4
  quiet:
    runs-on: ubuntu-latest
    steps:
      - run: echo no secrets here
"""


def _workflow(text: str = WORKFLOW) -> Workflow:
    return build_workflow("w.yml", parse(text))


def test_facts_are_derived_once_per_model() -> None:
    workflow = _workflow()
    assert facts(workflow) is facts(workflow)
    assert facts(workflow) is not facts(_workflow())


def test_script_commands_are_cut_on_demand() -> None:
    workflow = _workflow()
    build = workflow.jobs[0]
    shared = facts(workflow)
    script = shared.script(build.steps[0])
    assert script is not None
    assert shared.script(build.steps[0]) is script
    assert shared.script(build.steps[1]) is None  # a `uses:` step
    assert script.mentions("gh", "nothing")
    assert not script.mentions("twine", "cargo")
    assert [words for _, words in script.commands] == [
        ["make"],
        ["npm", "publish", "--tag", "$TAG"],
        ["echo", "000000000000000000000000"],
        ["gh", "auth", "login", "--with-token"],
    ]
    assert [line.start for line, _ in script.commands] == [0, 0, 38, 38]


def test_privileged_events() -> None:
    assert facts(_workflow()).privileged == ("pull_request_target",)


def test_secret_reads_by_job_and_workflow_env() -> None:
    workflow = _workflow()
    build, quiet = workflow.jobs
    shared = facts(workflow)
    assert [(read.route, read.embedded is not None) for read in shared.secret_reads(build)] == [
        ("jobs/build/if", False),
        ("jobs/build/steps/0/run", True),
        ("jobs/build/steps/0/env/A", True),
        ("jobs/build/steps/0/env/A", True),
    ]
    assert [read.route for read in shared.secret_reads(None)] == ["env/SHARED"]
    assert shared.secret_reads(quiet) == []
    paths = [path.parts for read in shared.secret_reads(build) for path in read.paths]
    assert paths == [
        ("secrets", "gate"),
        ("secrets", "npm_token"),
        ("secrets", "a"),
        ("secrets", "b"),
    ]


def test_secret_reads_of_one_scalar() -> None:
    workflow = _workflow()
    build = workflow.jobs[0]
    env = build.steps[0].fields.mapping("env")
    assert env is not None
    value = env.get("A")
    assert isinstance(value, ScalarNode)
    reads = facts(workflow).secret_reads_of(build, value)
    assert [(read.embedded.start if read.embedded else None) for read in reads] == [0, 17]
    assert facts(workflow).secret_reads_of(None, value) == []
