from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bastion import knowledge
from bastion.findings import Area, Confidence, Severity
from bastion.model import triggers
from bastion.model.shell import commands, script_lines
from bastion.model.workflow import Action, Fields, Job, Step, Workflow
from bastion.rules.base import Hit, Rule, gap_of
from bastion.rules.release import release_jobs
from bastion.source.yaml import MappingNode

if TYPE_CHECKING:  # graph audits only
    from bastion.model.gaps import Context, Gap
    from bastion.model.graph import Node

_FALSE = ("false", "")
NO_RESTORE_MODES = frozenset({"none", "write-only"})
"""Cache modes under which a job restores nothing, so nothing planted can reach it."""


def cache_mode(job: Job, workflow: Workflow | None) -> tuple[str, str]:
    """The cache mode GitHub gives ``job``, and where it comes from: the job's
    ``cache-mode:``, else the workflow's, else the default of its triggers."""
    owners = (("job", job.fields), ("workflow", workflow.fields if workflow else None))
    for owner, fields in owners:
        value = fields.text("cache-mode") if fields is not None else None
        if value is not None and value.strip():
            return value.strip().lower(), f"the {owner}'s `cache-mode: {value.strip()}`"
    names = [t.event for t in workflow.triggers] if workflow is not None else ["push"]
    mode = triggers.default_cache_mode(names)
    return mode, f"`{mode}`, the default of its triggers"


_CONFIDENCE = {"medium": Confidence.MEDIUM, "low": Confidence.LOW}


def _job_uses(steps: list[Step], names: tuple[str, ...]) -> bool:
    return any(step.uses is not None and step.uses.name in names for step in steps)


def _job_runs(steps: list[Step] | None, wanted: tuple[str, ...]) -> bool:
    """Whether a `run:` step of the job runs one of the commands ``wanted`` (unknown: yes)."""
    if steps is None:
        return True
    prefixes = [tuple(command.split()) for command in wanted]
    for step in steps:
        run = step.run
        if run is None or not any(prefix[0] in run.value for prefix in prefixes):
            continue
        for line in script_lines(run.value):
            for words in commands(line.masked):
                if any(tuple(words[: len(prefix)]) == prefix for prefix in prefixes):
                    return True
    return False


def _events(workflow: Workflow) -> frozenset[str]:
    """The workflow's triggers, a push of tags only as ``tag-push``."""
    found: set[str] = set()
    for trigger in workflow.triggers:
        config = trigger.config
        fields = Fields(config) if isinstance(config, MappingNode) else None
        tags_only = fields is not None and "tags" in fields and "branches" not in fields
        found.add("tag-push" if trigger.event == "push" and tags_only else trigger.event)
    return frozenset(found)


def _off(text: str) -> bool:
    return text.strip().lower() in _FALSE


class ReleaseCache(Rule):
    """Flags the Actions cache used in a release job.

    In a release job, flagged at the step's `uses:` or its caching input. A release job has a
    publishing step (see `bastion explain publish-outside-environment` for the list), or sits
    in a workflow triggered by `release` or a push of tags and either the workflow has no
    other trigger (except `workflow_dispatch` and `workflow_call`), or a publishing job needs
    the artifacts it uploads, or its `if:` singles out tags or releases. The caches:

    The caches are those of the knowledge base (`cache` entries of
    src/bastion/knowledge/actions.toml, docs/knowledge.md; extend it with
    `[tool.bastion.actions."owner/repo"]`), each by version (a SHA pin by its `# vX.Y.Z`
    comment; a pin without one, where the version matters, has medium confidence):

    - `actions/cache` (and `/restore`, `/save`), `Swatinem/rust-cache`,
      `hendrikmuhs/ccache-action`, `mozilla-actions/sccache-action` (medium),
      `DeterminateSystems/magic-nix-cache-action`, `nix-community/cache-nix-action`;
    - with an input: `cache:` of `actions/setup-python`, `setup-node`, `setup-java`,
      `setup-dotnet` and `graalvm/setup-graalvm`, `bundler-cache: true` of
      `ruby/setup-ruby`, `sccache: true` of `PyO3/maturin-action`, `type=gha` in
      `cache-from`/`cache-to` of `docker/build-push-action` and `docker/bake-action`;
    - by default, unless turned off: `actions/setup-go` from v4 (`cache: false`),
      `astral-sh/setup-uv` v4 to v9 (`enable-cache: false`; medium when left `auto`) and
      v10 except on `release`, tag pushes, `pull_request_target` and `workflow_run`,
      where its `auto` no longer caches, `gradle/actions/setup-gradle` and
      `gradle/gradle-build-action` (`cache-disabled: true`),
      `actions-rust-lang/setup-rust-toolchain` and `jdx/mise-action` (`cache: false`),
      `mlugg/setup-zig` (`use-cache: false`), `ramsey/composer-install`
      (`ignore-cache: true`), `oven-sh/setup-bun` v2 (`no-cache: true`, medium), and
      `actions/setup-node` from v5 (`package-manager-cache: false`; low confidence, only
      in a job that installs with npm and sets up no other package manager: it caches by
      itself when `package.json` names npm as its `packageManager`, which is not read
      here).

    A value given by an expression is reported with low confidence. A composite action is
    not checked on its own (whether it runs in a release job is not known from the action
    alone); `bastion check --graph` checks the steps of the composite actions and reusable
    workflows a release job calls, at any depth, and reports them at the job's `uses:`.

    ## Why it matters
    The Actions cache is shared by every workflow run on the repository's branches, and a
    cache entry is restored by key, not by who wrote it. Any job that can write the cache
    (a test job running a compromised dependency, a workflow injected through a pull
    request on the default branch) can plant an entry that the release job then restores
    into its toolchain or build tree, and the poisoned build is published under the
    project's name. The playbook (release control L4) builds releases without any cache.

    ## Example
    ```yaml
    on:
      push:
        tags: ["v*"]
    jobs:
      release:
        runs-on: ubuntu-latest
        environment: release
        steps:
          - uses: actions/setup-python@<sha>
            with:
              cache: pip               # flagged
          - uses: astral-sh/setup-uv@<sha>   # flagged
    ```

    Not reported: a release job whose effective cache mode restores nothing. GitHub's
    `cache-mode:` (2026-09; a workflow or job key: `read` restores only, `write` restores
    and saves, `write-only` saves only, `none` no cache) is enforced by the cache service;
    the job's value wins over the workflow's, and without either a run gets its trigger's
    default (`read` for untrusted events such as `pull_request_target` since 2026-06,
    `write` for trusted ones such as `push`). `none` and `write-only` leave nothing to
    restore; `read` still restores, so it is reported, saying so. In `check --graph`, a
    cache in a called action or workflow is judged by the root job's mode in the same way.
    Source:
    https://github.blog/changelog/2026-09-10-control-github-actions-cache-access-with-cache-mode

    ## How to fix
    Turn the cache off for the whole job, where the cache service enforces it (`bastion fix`
    does this):

    ```yaml
      release:
        runs-on: ubuntu-latest
        cache-mode: none
    ```

    Switching off each caching input also works, but misses actions that cache on their own.
    """

    id = "release-cache"
    summary = "a release job uses the Actions cache"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    area = Area.RELEASE

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        releases = release_jobs(workflow)
        events = _events(workflow) if releases else frozenset()
        for release in releases:
            mode, source = cache_mode(release.job, workflow)
            if mode in NO_RESTORE_MODES:
                continue  # the cache service refuses every restore
            context = f"job `{release.job.job_id}` {release.why}"
            if mode == "read":
                context = f"{context} (cache mode {source}, which still restores)"
            for step in release.job.steps:
                yield from self._step(
                    step, context, workflow.document.text, events, release.job.steps
                )

    def check_node(self, node: Node, context: Context) -> Iterator[Gap]:
        """In the graph: the steps of a called action or workflow, run by a release job."""
        from bastion.model.gaps import input_defaults, with_inputs

        view = node.view
        if context.release is None or context.job is None or view is None:
            return
        steps = (
            view.steps
            if isinstance(view, Action)
            else [step for job in view.jobs for step in job.steps]
        )
        mode, source = cache_mode(context.job, context.workflow)
        if mode in NO_RESTORE_MODES:
            return
        where = f"job `{context.job.job_id}` {context.release}"
        if mode == "read":
            where = f"{where} (cache mode {source}, which still restores)"
        values = {**input_defaults(view), **context.inputs}
        for step in steps:
            # `cache: ${{ inputs.cache }}` is judged on what the caller passes, or the default.
            for hit in self._step(with_inputs(step, values), where, view.document.text, job=steps):
                yield gap_of(hit, node.metadata)

    def _step(
        self,
        step: Step,
        context: str,
        text: str,
        events: frozenset[str] = frozenset(),
        job: list[Step] | None = None,
    ) -> Iterator[Hit]:
        """The cache ``step`` uses (``text`` is its file; ``events``, what starts the job)."""
        uses, uses_node = step.uses, step.uses_node
        info = knowledge.lookup(uses)
        if uses is None or uses_node is None or info is None or not info.cache:
            return
        tail = (
            "a cache entry written by any other job on the repository can poison what it "
            "builds and publishes; build releases without a cache"
        )
        major = knowledge.major_version(uses, text, uses_node.end_mark.index)
        for use in info.cache_uses(major):
            confidence = _CONFIDENCE[use.confidence] if use.confidence != "high" else None
            if major is None and use.versions.low > 0 and confidence is None:
                confidence = Confidence.MEDIUM  # the version is not known here
            if use.when == "always":
                yield Hit(
                    f"{context} and restores or saves the Actions cache with `{uses.slug}`: {tail}",
                    uses_node,
                    f"{step.route}/uses",
                    confidence=confidence,
                )
                return
            value = step.input(use.input)
            name = value_name = use.input
            if value is not None:
                value_name = next(
                    (e.key.value for e in step.with_ or () if e.key.value.lower() == name), name
                )
            expression = value is not None and "${{" in value.value
            if use.when in ("set", "true", "contains"):
                if value is None or (not expression and _off(value.value)):
                    continue
                text = value.value.strip()
                if use.when == "true" and not expression and text.lower() != "true":
                    continue
                if use.when == "contains":
                    if use.value not in value.value.replace(" ", ""):
                        continue
                    yield Hit(
                        f"{context} and builds with the Actions cache (`{value_name}: "
                        f"{use.value}`): {tail}; remove `{value_name}`",
                        value,
                        f"{step.route}/with/{value_name}",
                    )
                    continue
                yield Hit(
                    f"{context} and caches with `{uses.slug}` (`{value_name}: {text}`): "
                    f"{tail}; remove the `{value_name}` input",
                    value,
                    f"{step.route}/with/{value_name}",
                    confidence=Confidence.LOW if expression else None,
                )
                return
            # Caches by default, unless the input turns it off.
            off = use.off[0] if use.off else "false"
            if value is not None and not expression:
                setting = value.value.strip().lower()
                if setting in use.off:
                    continue
                if setting not in use.auto:
                    confidence = None
            if expression:
                confidence = Confidence.LOW
            by_default = value is None or value.value.strip().lower() in use.auto
            if by_default and major is not None and events and events <= set(use.skipped_on):
                continue  # the action's own default leaves the cache alone on these events
            if by_default and _job_uses(job or [], use.unless_job_uses):
                continue  # the job sets up another package manager than the default's
            if by_default and use.only_if_job_runs and not _job_runs(job, use.only_if_job_runs):
                continue  # nothing in the job uses what the default caches
            note = f" ({use.note})" if use.note else ""
            yield Hit(
                f"{context} and caches with `{uses.slug}`, which caches{note} unless "
                f"`{value_name}: {off}`: {tail}; set `{value_name}: {off}`",
                value if value is not None else uses_node,
                f"{step.route}/with/{value_name}" if value is not None else f"{step.route}/uses",
                confidence=confidence,
            )
            return
