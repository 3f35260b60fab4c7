"""Indices and caches the model keeps so that rules look facts up instead of searching."""

from __future__ import annotations

from bastion.model.shell import command_start, commands
from bastion.model.workflow import build_action, build_workflow
from bastion.source.yaml import parse

WORKFLOW = """\
on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: echo one
      - parallel:
          - run: echo two
          - run: echo three
      - run: echo one
"""


def test_steps_know_their_position_in_the_job() -> None:
    workflow = build_workflow("w.yml", parse(WORKFLOW))
    steps = workflow.jobs[0].steps
    assert [step.position for step in steps] == [0, 1, 2, 3]
    assert [step.index for step in steps] == [0, 0, 1, 2]
    # Equal text, different steps: steps compare by identity.
    assert steps[0] != steps[3]
    assert steps.index(steps[3]) == 3


def test_composite_steps_know_their_position() -> None:
    action = "runs:\n  using: composite\n  steps:\n    - run: a\n      shell: bash\n" * 1
    steps = build_action("action.yml", parse(action)).steps
    assert [step.position for step in steps] == [0]


def test_commands_of_a_line_are_computed_once() -> None:
    line = "sudo npm publish --tag x && echo done"
    assert commands(line) is commands(line)
    assert commands(line) == [["npm", "publish", "--tag", "x"], ["echo", "done"]]


def test_command_start_finds_the_first_two_words_together() -> None:
    assert command_start("xnpm npm  'publish'", ["npm", "publish"]) == 5
    assert command_start("npm\tpublish", ["npm", "publish"]) == 0
    assert command_start("run npm", ["npm", "publish"]) == 4
    assert command_start("nothing", ["npm", "publish"]) == 0
    assert command_start("a b", ["", "b"]) == 2
