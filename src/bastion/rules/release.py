"""What the release rules share: which steps publish, and which jobs make up a release.

A *publishing step* is one of:

- a `uses:` of an action that publishes (`publishes` in the knowledge base, see
  docs/knowledge.md): `pypa/gh-action-pypi-publish` (PyPI), `rubygems/release-gem` (RubyGems),
  `JS-DevTools/npm-publish` (npm), `softprops/action-gh-release`, `ncipollo/release-action`,
  `actions/create-release`, `actions/upload-release-asset`,
  `svenstaro/upload-release-action`, `marvinpinto/action-automatic-releases`,
  `goreleaser/goreleaser-action` unless its `args` run another command than `release` or
  skip publishing (`--snapshot`, `--skip=publish`) (GitHub releases), and
  `docker/build-push-action` or `docker/bake-action` whose `push:` input is `true` or an
  expression (container images);
- a `run:` script with a command that publishes: `uv publish`, `twine upload`,
  `poetry publish`, `flit publish`, `hatch publish`, `npm publish`, `pnpm publish`,
  `yarn npm publish`, `yarn publish`, `bun publish`, `cargo publish`, `gem push`,
  `dotnet nuget push`, `nuget push`, `dart pub publish`, `flutter pub publish`,
  `docker push`, `podman push`, `gh release create` and `gh release upload`. A command
  with `--dry-run` does not publish. Commands are read at the start of a line or after
  `;`, `&&`, `||`, `|`, `then`, `do` or `else`, past `sudo`, `env` and variable
  assignments, so an `echo` that
  mentions `npm publish` is not one.

A job is a *release job* when it has a publishing step, or when its workflow is triggered by
`release` or by a push of tags (`on: push: tags:`) and one of these holds:

- the workflow has no other trigger than those and `workflow_dispatch` or `workflow_call`
  (a release workflow: all its jobs build the release);
- the job uploads an artifact (`actions/upload-artifact`) and a publishing job `needs` it,
  directly or not (it builds what is published; jobs that only gate the release, such as
  tests, do not count);
- the job's `if:` singles out releases (`refs/tags/`, `github.ref_type == 'tag'`,
  `github.event_name == 'release'`).

So the test jobs of a CI workflow that also runs on tags are not release jobs, while the
build job whose artifacts its publish job uploads is. A workflow is a release context when
it has a release job. Jobs that call a reusable workflow have no steps of their own: the
called workflow is checked on its own file.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bastion import knowledge
from bastion.findings import Span
from bastion.model.expressions import mask_expressions
from bastion.model.shell import ScriptLine, line_span
from bastion.model.workflow import Fields, Job, Step, Workflow
from bastion.rules.facts import Facts, Script, facts
from bastion.source.text import LineIndex
from bastion.source.yaml import MappingNode, ScalarNode, node_span

PYPI, NPM, CRATES, RUBYGEMS, NUGET, PUBDEV = (
    "PyPI",
    "npm",
    "crates.io",
    "RubyGems",
    "NuGet",
    "pub.dev",
)
CONTAINER, GITHUB_RELEASE = "a container registry", "a GitHub release"

_PUBLISH_COMMANDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("uv", "publish"), PYPI),
    (("twine", "upload"), PYPI),
    (("poetry", "publish"), PYPI),
    (("flit", "publish"), PYPI),
    (("hatch", "publish"), PYPI),
    (("npm", "publish"), NPM),
    (("pnpm", "publish"), NPM),
    (("yarn", "npm", "publish"), NPM),
    (("yarn", "publish"), NPM),
    (("bun", "publish"), NPM),
    (("cargo", "publish"), CRATES),
    (("gem", "push"), RUBYGEMS),
    (("dotnet", "nuget", "push"), NUGET),
    (("nuget", "push"), NUGET),
    (("dart", "pub", "publish"), PUBDEV),
    (("flutter", "pub", "publish"), PUBDEV),
    (("docker", "push"), CONTAINER),
    (("podman", "push"), CONTAINER),
    (("gh", "release", "create"), GITHUB_RELEASE),
    (("gh", "release", "upload"), GITHUB_RELEASE),
)
_COMMAND_NAMES = frozenset(pattern[0] for pattern, _ in _PUBLISH_COMMANDS)
_RUNNERS = frozenset({"python", "python3", "npx", "pipx", "uvx", "bunx"})
"""Launchers that may come before a tool: `python -m twine upload`, `npx pnpm publish`."""


class Publish(NamedTuple):
    """A publishing step: what it publishes to, and where it says so."""

    step: Step
    registry: str
    what: str
    """The action or command, for a message: "`npm publish`"."""
    node: ScalarNode
    route: str
    span: Span
    line: ScriptLine | None = None


def _publish_command(words: list[str]) -> tuple[str, str] | None:
    if words[0].rsplit("/", 1)[-1] not in _COMMAND_NAMES and words[0] not in _RUNNERS:
        return None
    if "--dry-run" in words or ("-n" in words and words[:1] == ["cargo"]):
        return None
    if len(words) > 2 and words[0] in _RUNNERS:
        words = words[2:] if words[1] == "-m" else words[1:]
    name = words[0].rsplit("/", 1)[-1] if words else ""
    words = [name, *words[1:]]
    for pattern, registry in _PUBLISH_COMMANDS:
        if tuple(words[: len(pattern)]) == pattern:
            return " ".join(pattern), registry
    return None


def _pushes(step: Step) -> bool:
    value = step.input("push")
    if value is None:
        return False
    text = value.value.strip()
    return text.lower() == "true" or "${{" in text


def _goreleaser_publishes(step: Step) -> bool:
    """GoReleaser publishes with `release` (its default) unless told to skip publishing."""
    args = step.input("args")
    if args is None:
        return True
    words = mask_expressions(args.value).split()
    if words and words[0] != "release" and not words[0].startswith("-"):
        return False  # `check`, `build`, `healthcheck`...
    return not any(
        word in ("--snapshot", "--skip-publish", "--skip=publish") for word in words
    ) and not any(word.startswith("--skip=") and "publish" in word for word in words)


def publishing(lines: LineIndex, step: Step, shared: Facts) -> Publish | None:
    """How ``step`` publishes (its first publishing command), if it does (``shared``: the
    facts of its file)."""
    uses, uses_node = step.uses, step.uses_node
    if uses is not None and uses_node is not None:
        info = knowledge.lookup(uses)  # `publishes` in src/bastion/knowledge/actions.toml
        registry = info.publishes if info is not None else ""
        if info is not None and info.publishes_when == "push" and not _pushes(step):
            registry = ""
        if info is not None and info.publishes_when == "goreleaser":
            registry = registry if _goreleaser_publishes(step) else ""
        if not registry:
            return None
        what = f"`{uses.slug}`"
        return Publish(step, registry, what, uses_node, f"{step.route}/uses", node_span(uses_node))
    script = shared.script(step)
    found = _first_publish_command(script) if script is not None else None
    if script is None or found is None:
        return None
    command, registry, line = found
    span = line_span(lines, script.node, script.text, line)
    return Publish(step, registry, f"`{command}`", script.node, f"{step.route}/run", span, line)


_LAST_WORDS = tuple({pattern[-1] for pattern, _ in _PUBLISH_COMMANDS})


def _may_publish(script: Script) -> bool:
    """Whether all the words of some publishing command are written in ``script`` (its
    commands are words of its text, quotes stripped), a publishing command's last word
    looked for first."""
    return script.mentions(*_LAST_WORDS) and any(
        all(word in script.text for word in pattern) for pattern, _ in _PUBLISH_COMMANDS
    )


def _first_publish_command(script: Script) -> tuple[str, str, ScriptLine] | None:
    if not _may_publish(script):
        return None
    for line, words in script.commands:
        found = _publish_command(words)
        if found is not None:
            return (*found, line)
    return None


def release_trigger(workflow: Workflow) -> str | None:
    """`release` or `a push of tags` when the workflow is triggered that way."""
    for trigger in workflow.triggers:
        if trigger.event == "release":
            return "`release`"
        config = trigger.config
        if trigger.event == "push" and isinstance(config, MappingNode) and "tags" in Fields(config):
            return "a push of tags"
    return None


class ReleaseJob(NamedTuple):
    job: Job
    why: str
    """Why it is a release job, for a message."""
    publishes: list[Publish]


def release_jobs(workflow: Workflow) -> list[ReleaseJob]:
    """The workflow's release jobs (analysed once for all the release rules)."""
    return workflow.analysis(_release_jobs)


def job_publishes(workflow: Workflow, job: Job) -> list[Publish]:
    """The publishing steps of ``job`` (analysed once for all the release rules)."""
    return workflow.analysis(_publishes_by_job).get(job.job_id, [])


def _publishes_by_job(workflow: Workflow) -> dict[str, list[Publish]]:
    found: dict[str, list[Publish]] = {}
    shared = facts(workflow)
    for job in workflow.jobs:
        steps = (publishing(workflow.lines, step, shared) for step in job.steps)
        found[job.job_id] = [publish for publish in steps if publish is not None]
    return found


_RELEASE_ONLY_EVENTS = frozenset({"release", "workflow_dispatch", "workflow_call"})
_RELEASE_CONDITION = re.compile(
    r"refs/tags/|github\.ref_type\s*==\s*'tag'|github\.event_name\s*==\s*'release'",
    re.IGNORECASE,
)


def _only_release_triggers(workflow: Workflow) -> bool:
    """Whether nothing but a release, a tag push or a manual or calling run starts it."""
    for trigger in workflow.triggers:
        if trigger.event in _RELEASE_ONLY_EVENTS:
            continue
        config = trigger.config
        if trigger.event != "push" or not isinstance(config, MappingNode):
            return False
        fields = Fields(config)
        if "tags" not in fields or "branches" in fields or "branches-ignore" in fields:
            return False
    return True


def _feeders(workflow: Workflow, publishers: list[Job]) -> dict[str, str]:
    """Jobs that publishing jobs need, directly or not, with the publisher each one feeds."""
    needs = {job.job_id: job.needs for job in workflow.jobs}
    fed: dict[str, str] = {}
    for publisher in publishers:
        pending = list(needs.get(publisher.job_id, []))
        while pending:
            name = pending.pop()
            if name not in fed:
                fed[name] = publisher.job_id
                pending.extend(needs.get(name, []))
    return fed


def _uploads_artifact(job: Job) -> bool:
    return any(
        step.uses is not None and step.uses.name == "actions/upload-artifact" for step in job.steps
    )


def _release_condition(job: Job) -> bool:
    condition = job.fields.text("if")
    return condition is not None and _RELEASE_CONDITION.search(condition) is not None


def _release_jobs(workflow: Workflow) -> list[ReleaseJob]:
    trigger = release_trigger(workflow)
    publishes_by_job = {job.job_id: job_publishes(workflow, job) for job in workflow.jobs}
    publishers = [job for job in workflow.jobs if publishes_by_job[job.job_id]]
    everything = trigger is not None and _only_release_triggers(workflow)
    feeders = _feeders(workflow, publishers) if trigger is not None else {}
    found = []
    for job in workflow.jobs:
        publishes = publishes_by_job[job.job_id]
        if publishes:
            why = f"publishes with {publishes[0].what}"
        elif trigger is None:
            continue
        elif everything:
            why = f"runs in a release workflow (triggered by {trigger})"
        elif job.job_id in feeders and _uploads_artifact(job):
            why = f"builds what job `{feeders[job.job_id]}` publishes"
        elif _release_condition(job):
            why = f"runs for releases (its `if:`, in a workflow triggered by {trigger})"
        else:
            continue
        found.append(ReleaseJob(job, why, publishes))
    return found
