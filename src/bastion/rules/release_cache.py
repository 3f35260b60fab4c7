from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.findings import Area, Confidence, Severity
from bastion.graph.gaps import Context, Gap, input_defaults, with_inputs
from bastion.graph.model import Node
from bastion.model.workflow import Action, Step, Workflow
from bastion.rules.base import Hit, Rule, gap_of
from bastion.rules.release import release_jobs

CACHE_ACTIONS = frozenset(
    {
        "actions/cache", "actions/cache/restore", "actions/cache/save", "swatinem/rust-cache",
        "hendrikmuhs/ccache-action", "determinatesystems/magic-nix-cache-action",
        "nix-community/cache-nix-action",
    }
)  # fmt: skip
"""Actions whose whole purpose is to save or restore the Actions cache."""
CACHE_INPUTS = {
    "actions/setup-python": "cache",
    "actions/setup-node": "cache",
    "actions/setup-java": "cache",
    "actions/setup-dotnet": "cache",
    "ruby/setup-ruby": "bundler-cache",
}
"""Setup actions that cache only when an input asks for it."""
_MAJOR = re.compile(r"v(\d+)")
_FALSE = ("false", "")


def _off(text: str) -> bool:
    return text.strip().lower() in _FALSE


def _major(step: Step) -> int | None:
    ref = step.uses.ref if step.uses else None
    match = _MAJOR.match(ref or "")
    return int(match.group(1)) if match else None


class ReleaseCache(Rule):
    """Flags the Actions cache used in a release job.

    In a release job, flagged at the step's `uses:` or its caching input. A release job has a
    publishing step (see `bastion explain publish-outside-environment` for the list), or sits
    in a workflow triggered by `release` or a push of tags and either the workflow has no
    other trigger (except `workflow_dispatch` and `workflow_call`), or a publishing job needs
    the artifacts it uploads, or its `if:` singles out tags or releases. The caches:

    - `actions/cache`, `actions/cache/restore`, `actions/cache/save`, `Swatinem/rust-cache`,
      `hendrikmuhs/ccache-action`, `DeterminateSystems/magic-nix-cache-action` and
      `nix-community/cache-nix-action`;
    - `actions/setup-python`, `setup-node`, `setup-java` and `setup-dotnet` with a `cache:`
      input, and `ruby/setup-ruby` with `bundler-cache: true`;
    - `actions/setup-go` unless `cache: false` (it caches by default from v4; a SHA pin is
      reported with medium confidence since its version is not known here);
    - `astral-sh/setup-uv` unless `enable-cache: false` (its default, `auto`, caches on
      GitHub-hosted runners: medium confidence when the input is left out or `auto`);
    - `gradle/actions/setup-gradle` and `gradle/gradle-build-action` unless
      `cache-disabled: true` (they cache by default);
    - `docker/build-push-action` and `docker/bake-action` with `type=gha` in `cache-from`
      or `cache-to`.

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

    ## How to fix
    Remove the cache from release jobs, or turn it off explicitly:

    ```yaml
          - uses: actions/setup-python@<sha>
          - uses: astral-sh/setup-uv@<sha>
            with:
              enable-cache: false
    ```

    Setting `ACTIONS_CACHE_MODE: none` in the release workflow's `env` also asks recent
    cache clients to stay away from the cache, but it is honoured by the client, not
    enforced, so keep the inputs explicit too.
    """

    id = "release-cache"
    summary = "a release job uses the Actions cache"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    area = Area.RELEASE

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for release in release_jobs(workflow):
            for step in release.job.steps:
                yield from self._step(step, f"job `{release.job.job_id}` {release.why}")

    def check_node(self, node: Node, context: Context) -> Iterator[Gap]:
        """In the graph: the steps of a called action or workflow, run by a release job."""
        view = node.view
        if context.release is None or context.job is None or view is None:
            return
        steps = (
            view.steps
            if isinstance(view, Action)
            else [step for job in view.jobs for step in job.steps]
        )
        where = f"job `{context.job.job_id}` {context.release}"
        values = {**input_defaults(view), **context.inputs}
        for step in steps:
            # `cache: ${{ inputs.cache }}` is judged on what the caller passes, or the default.
            for hit in self._step(with_inputs(step, values), where):
                yield gap_of(hit, node.metadata)

    def _step(self, step: Step, context: str) -> Iterator[Hit]:
        uses, uses_node = step.uses, step.uses_node
        if uses is None or uses_node is None:
            return
        slug = uses.slug.lower()
        tail = (
            "a cache entry written by any other job on the repository can poison what it "
            "builds and publishes; build releases without a cache"
        )
        if slug in CACHE_ACTIONS:
            yield Hit(
                f"{context} and restores or saves the Actions cache with `{uses.slug}`: {tail}",
                uses_node,
                f"{step.route}/uses",
            )
            return
        name = CACHE_INPUTS.get(slug)
        if name is not None:
            value = step.input(name)
            if value is None or _off(value.value):
                return
            explicit = value.value.strip().lower() == "true" or "${{" in value.value
            if slug == "ruby/setup-ruby" and not explicit:
                return
            yield Hit(
                f"{context} and caches with `{uses.slug}` (`{name}: {value.value.strip()}`): "
                f"{tail}; remove the `{name}` input",
                value,
                f"{step.route}/with/{name}",
                confidence=Confidence.LOW if "${{" in value.value else None,
            )
            return
        default = self._default_on(step, slug)
        if default is not None:
            name, confidence = default
            value = step.input(name)
            node = value if value is not None else uses_node
            route = f"{step.route}/with/{name}" if value is not None else f"{step.route}/uses"
            off = "true" if name == "cache-disabled" else "false"
            yield Hit(
                f"{context} and caches with `{uses.slug}`, which caches unless "
                f"`{name}: {off}`: {tail}; set `{name}: {off}`",
                node,
                route,
                confidence=confidence,
            )
            return
        if slug in ("docker/build-push-action", "docker/bake-action"):
            for name in ("cache-from", "cache-to"):
                value = step.input(name)
                if value is not None and "type=gha" in value.value.replace(" ", ""):
                    yield Hit(
                        f"{context} and builds with the Actions cache (`{name}: type=gha`): "
                        f"{tail}; remove `{name}`",
                        value,
                        f"{step.route}/with/{name}",
                    )

    @staticmethod
    def _default_on(step: Step, slug: str) -> tuple[str, Confidence | None] | None:
        """For actions that cache by default: the input that turns it off, and confidence."""
        if slug == "actions/setup-go":
            value = step.input("cache")
            if value is not None:
                if "${{" in value.value:
                    return "cache", Confidence.LOW
                return None if _off(value.value) else ("cache", None)
            major = _major(step)
            if major is None:
                return "cache", Confidence.MEDIUM
            return ("cache", None) if major >= 4 else None
        if slug == "astral-sh/setup-uv":
            value = step.input("enable-cache")
            if value is None or value.value.strip().lower() == "auto":
                return "enable-cache", Confidence.MEDIUM
            if "${{" in value.value:
                return "enable-cache", Confidence.LOW
            return None if _off(value.value) else ("enable-cache", None)
        if slug in ("gradle/actions/setup-gradle", "gradle/gradle-build-action"):
            value = step.input("cache-disabled")
            if value is None:
                return "cache-disabled", None
            if "${{" in value.value:
                return "cache-disabled", Confidence.LOW
            return None if value.value.strip().lower() == "true" else ("cache-disabled", None)
        return None
