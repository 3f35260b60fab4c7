"""Properties every fix keeps, on generated workflows and on a sample of the real corpus.

- edits leave every byte outside them alone;
- the result parses, with no syntax problem it did not have;
- a second run changes nothing;
- after `fix --unsafe`, no finding that a fixer can remove remains;
- no original line is changed or dropped except lines a fix is about (and comments inside a
  value a fix replaces).

Where the text changed is what the engine reports (``FileFix.changes``), checked against
the texts themselves: the original with each change applied must be the result, byte for
byte, so the text between changes is untouched. No line-aligned diff is guessed.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bastion.config import Config
from bastion.engine import Checker
from bastion.fix.edits import Edit, apply_edits
from bastion.fix.engine import BOM, FileFix, FixEngine
from bastion.inputs import Input, Kind, collect
from bastion.source.yaml import parse
from tests.shared import CORPUS, require

ENGINE = FixEngine(Config(), unsafe=True)
CHECKER = Checker(Config())
NOT_REMOVED = ("fixable with --unsafe", "its fix would break", "not fixed within")
TOUCHABLE = re.compile(
    r"\$\{\{|permissions|^\s*[a-z-]+:\s*(read|write|none)\s*(#.*)?$|cache|with:|^\s*-?\s*uses:"
    r"|persist-credentials|-days:|cooldown"
)
"""What a line a fix changes or removes must contain."""


def _check_properties(original: str, result: FileFix, kind: Kind | None) -> None:
    assert result.errors == []
    if result.changed:
        parse(result.text)  # raises if the result is not YAML
        before = CHECKER.check(Input("t.yml", kind, data=original.encode())).findings
        after = CHECKER.check(Input("t.yml", kind, data=result.text.encode())).findings
        syntax_before = Counter(f.message for f in before if f.rule == "syntax-error")
        syntax_after = Counter(f.message for f in after if f.rule == "syntax-error")
        assert not syntax_after - syntax_before
        again = ENGINE.fix_text(result.text, "t.yml", kind)
        assert not again.changed, again.applied
        for block in _changed_lines(original, result):
            # Comments inside a replaced value (old permissions) go with it.
            touched = any(TOUCHABLE.search(line) for line in block)
            for line in block:
                comment = line.strip().startswith("#")
                assert TOUCHABLE.search(line) or (comment and touched), (
                    f"a fix changed an unrelated line: {line!r}"
                )
    for finding in result.remaining:
        reason = result.reasons[finding]
        assert not reason.startswith(NOT_REMOVED), (finding, reason)


def _changed_lines(original: str, result: FileFix) -> list[list[str]]:
    """The original lines each change replaced or deleted (none for an insertion), after
    checking that the changes turn the original into the result and nothing else."""
    rebuilt: list[str] = []
    position = 0
    for change in result.changes:
        assert position <= change.start <= change.end <= len(original)
        rebuilt += [
            original[position : change.start],
            result.text[change.new_start : change.new_end],
        ]
        position = change.end
    rebuilt.append(original[position:])
    assert "".join(rebuilt) == result.text
    blocks = []
    for change in result.changes:
        if change.start == change.end:
            continue
        first = original.rfind("\n", 0, change.start) + 1
        last = original.find("\n", change.end - 1)
        blocks.append(original[first : len(original) if last < 0 else last].split("\n"))
    return blocks


# --- the edit mechanism ----------------------------------------------------------------------


@st.composite
def texts_and_edits(draw: st.DrawFn) -> tuple[str, list[Edit]]:
    text = draw(st.text(max_size=60))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    edits: list[Edit] = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        if edits and start <= edits[-1].end:
            continue
        edits.append(Edit(start, end, draw(st.text(max_size=5))))
    return text, edits


@given(texts_and_edits())
def test_edits_leave_the_rest_byte_identical(case: tuple[str, list[Edit]]) -> None:
    text, edits = case
    result = apply_edits(text, list(reversed(edits)))
    position = 0
    shift = 0
    for edit in edits:
        assert result[position + shift : edit.start + shift] == text[position : edit.start]
        assert result[edit.start + shift : edit.start + shift + len(edit.text)] == edit.text
        shift += len(edit.text) - (edit.end - edit.start)
        position = edit.end
    assert result[position + shift :] == text[position:]


# --- generated workflows ---------------------------------------------------------------------

STEPS = [
    "- uses: actions/checkout@v4",
    "- uses: actions/checkout@v4\n  with:\n    fetch-depth: 0",
    "- uses: actions/checkout@v4 # pinned\n  with: {ref: main}",
    "- uses: actions/setup-python@v5\n  with:\n    python-version: '3.12'\n    cache: pip",
    "- uses: actions/setup-node@v5\n  with:\n    cache: npm",
    "- uses: astral-sh/setup-uv@v6",
    "- uses: actions/setup-go@v5\n  with: {go-version: stable}",
    '- run: echo "${{ github.event.issue.title }}"',
    "- run: |\n    echo '${{ github.event.pull_request.title }}'\n    echo ${{ github.head_ref }}",
    "- name: comment\n  run: gh pr comment 1 --body ok\n  env:\n    GH_TOKEN: ${{ github.token }}",
    "- run: gh release create v1\n  env: {GH_TOKEN: '${{ secrets.GITHUB_TOKEN }}'}",
    "- uses: pypa/gh-action-pypi-publish@release/v1",
    "- uses: actions/github-script@v7\n  with:\n    script: console.log(1)",
    "- uses: softprops/action-gh-release@v2",
    "# a comment between steps\n- run: make",
]
TOP = ["", "permissions: {}\n", "permissions: read-all\n", "permissions: write-all\n",
       "permissions:\n  contents: write\n  # why\n  id-token: write\n"]  # fmt: skip
JOB_PERMISSIONS = ["", "permissions: write-all\n", "permissions:\n  contents: read\n"]
TRIGGERS = ["on: push\n", "on:\n  push:\n    tags: ['v*']\n", "on: [issues, pull_request_target]\n"]


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line if line else line for line in text.split("\n"))


@st.composite
def workflows(draw: st.DrawFn) -> str:
    step = draw(st.sampled_from([2, 3, 4]))
    top = draw(st.sampled_from(TOP)).replace("  ", " " * step)
    parts = [draw(st.sampled_from(TRIGGERS)).replace("  ", " " * step), top, "jobs:\n"]
    for number in range(draw(st.integers(1, 3))):
        permissions = draw(st.sampled_from(JOB_PERMISSIONS)).replace("  ", " " * step)
        steps = draw(st.lists(st.sampled_from(STEPS), min_size=1, max_size=5))
        items = _indent("\n".join(steps), draw(st.sampled_from([0, step])))
        body = "runs-on: ubuntu-latest\n" + permissions + "steps:\n" + items + "\n"
        parts.append(_indent(f"job{number}:\n" + _indent(body, step), step) + "\n")
    text = "".join(parts).replace("\n\n", "\n")
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text


MISALIGNED = (
    "on: push\njobs:\n  job0:\n    runs-on: ubuntu-latest\n    steps:\n"
    "    - run: gh release create v1\n      env: {GH_TOKEN: '${{ secrets.GITHUB_TOKEN }}'}\n"
    "    - uses: actions/checkout@v4\n    - uses: actions/setup-python@v5\n      with:\n"
    "        python-version: '3.12'\n        cache: pip\n  job1:\n    runs-on: ubuntu-latest\n"
    "    steps:\n    - uses: actions/checkout@v4\n    - uses: actions/setup-python@v5\n"
    "      with:\n        python-version: '3.12'\n        cache: pip\n"
)
"""A case a line-aligned diff misread (it paired the inserted lines with `job1:`)."""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows())
@example(MISALIGNED)
def test_generated_workflows(text: str) -> None:
    parse(text)  # the generator writes valid YAML
    result = ENGINE.fix_text(text, "t.yml", Kind.WORKFLOW)
    _check_properties(text, result, Kind.WORKFLOW)
    if "\r\n" in text:
        assert "\n" not in result.text.replace("\r\n", "")


# --- the real corpus -------------------------------------------------------------------------


def test_corpus_sample() -> None:
    root = require(CORPUS)
    projects = sorted(str(path) for path in root.iterdir())
    sample = random.Random(20261123).sample(projects, 40)
    changed = 0
    for item in collect(sample):
        assert item.path is not None
        try:
            text = item.path.read_bytes().decode("utf-8").removeprefix(BOM)
        except UnicodeDecodeError:
            continue
        result = ENGINE.fix_text(text, item.display, item.kind)
        _check_properties(text, result, item.kind)
        changed += result.changed
    assert changed > 100


# --- arbitrary documents ---------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "actions/checkout@v4",
            "actions/setup-python@v5",
            "astral-sh/setup-uv@v6",
            "${{ github.event.issue.title }}",
            "echo ${{ github.head_ref }}",
            "write-all",
            "read-all",
            "pip",
            "refs/tags/v1",
        ]
    ),
)
_keys = st.sampled_from(
    [
        "on", "jobs", "steps", "uses", "run", "with", "env", "permissions", "runs-on", "shell",
        "persist-credentials", "cache", "enable-cache", "push", "tags", "runs", "using",
        "build", "release", "contents", "updates", "cooldown", "package-ecosystem",
    ]
)  # fmt: skip
_documents = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _documents,
    st.sampled_from([Kind.WORKFLOW, Kind.ACTION, Kind.DEPENDABOT, None]),
    st.booleans(),
)
def test_arbitrary_documents_never_crash(document: object, kind: Kind | None, flow: bool) -> None:
    text = yaml.safe_dump(document, default_flow_style=flow, sort_keys=False)
    result = ENGINE.fix_text(text, "t.yml", kind)
    assert result.errors == []
    if result.changed:
        parse(result.text)
