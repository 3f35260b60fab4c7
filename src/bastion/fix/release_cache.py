"""release-cache: switch the cache off in the caching action's own input."""

from __future__ import annotations

import re

from bastion import knowledge
from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target, set_input
from bastion.fix.edits import Edit
from bastion.fix.yaml_edit import content_end, remove_entry
from bastion.model.workflow import Fields, Step
from bastion.source.yaml import MappingNode

OFF_VALUES = {
    "actions/setup-go": ("cache", "false"),
    "astral-sh/setup-uv": ("enable-cache", "false"),
    "ruby/setup-ruby": ("bundler-cache", "false"),
    "gradle/actions/setup-gradle": ("cache-disabled", "true"),
    "gradle/gradle-build-action": ("cache-disabled", "true"),
}
"""Actions whose cache is switched off by setting an input: slug -> (input, value)."""
REMOVED_INPUTS = {
    "actions/setup-python": "cache",
    "actions/setup-node": "cache",
    "actions/setup-java": "cache",
    "actions/setup-dotnet": "cache",
}
"""Actions that cache only when an input names what to cache: the input is removed (or set
to the empty string, its default, where it cannot be removed)."""
DOCKER_ACTIONS = frozenset({"docker/build-push-action", "docker/bake-action"})
_MAJOR = re.compile(r"v(\d+)")


class ReleaseCache(Fixer):
    rule = "release-cache"
    safe = False
    why_unsafe = "the release build gets slower and may behave differently without the cache"

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        step = target.step(finding.route)
        if step is None or step.uses is None:
            return NoFix("the caching step was not found")
        slug = step.uses.slug.lower()
        info = knowledge.lookup(step.uses)
        if info is not None and any(use.when == "always" for use in info.cache):
            return NoFix(
                f"`{step.uses.slug}` exists to use the cache: remove the step (and whatever "
                "depends on it) by hand"
            )
        if slug in OFF_VALUES:
            name, value = OFF_VALUES[slug]
            edit = set_input(target, step, name, value)
            if isinstance(edit, NoFix):
                return edit
            return Fix(f"set `{name}: {value}` on {step.uses.slug}", (edit,))
        if slug in REMOVED_INPUTS:
            return _remove_cache_input(target, step, slug, REMOVED_INPUTS[slug])
        if slug in DOCKER_ACTIONS:
            name = finding.route.rsplit("/", 1)[-1]
            node = step.input(name)
            if node is None or "\n" in node.value.strip():
                return NoFix(f"`{name}` lists several caches: remove the `type=gha` one by hand")
            return _remove_input(target, step, name, f"remove `{name}` from {step.uses.slug}")
        return NoFix(f"no fix knows how to switch off the cache of `{step.uses.slug}`")


def _remove_cache_input(target: Target, step: Step, slug: str, name: str) -> Fix | NoFix:
    assert step.uses is not None
    message = f"remove `{name}` from {step.uses.slug}"
    if slug == "actions/setup-node" and _caches_on_its_own(step):
        # From v5, setup-node caches npm by itself when package.json names a package
        # manager: the `cache` entry becomes `package-manager-cache: false`.
        inputs = step.with_
        entry = inputs.entry(name) if inputs is not None else None
        if entry is not None and target.owns(step.node, entry.key):
            end = content_end(target.text, entry.value)
            if end > entry.key.end_mark.index:
                edit = Edit(entry.key.start_mark.index, end, "package-manager-cache: false")
                return Fix(f"{message} and set `package-manager-cache: false`", (edit,))
    return _remove_input(target, step, name, message)


def _caches_on_its_own(step: Step) -> bool:
    """Whether this setup-node may cache without being asked (v5 and later, or unknown)."""
    assert step.uses is not None
    major = _MAJOR.match(step.uses.ref or "")
    if major and int(major.group(1)) < 5:
        return False
    return step.input("package-manager-cache") is None


def _remove_input(target: Target, step: Step, name: str, message: str) -> Fix | NoFix:
    """Remove input ``name``; remove ``with:`` when it is the only input; set it to the empty
    string where the layout allows neither."""
    assert step.uses is not None
    inputs = step.fields.entry("with")
    if inputs is None or not isinstance(inputs.value, MappingNode):
        return NoFix(f"the step has no `{name}` input")
    current = Fields(inputs.value).entry(name)
    if current is None:
        return NoFix(f"the step has no `{name}` input")
    if not (target.owns(step.node, inputs.key) and target.owns(inputs.value, current.key)):
        return NoFix(f"`{name}` is merged in from an anchor other steps share")
    edit = remove_entry(target.text, inputs.value, current.key, current.value)
    if edit is None and len(inputs.value.value) == 1:
        edit = remove_entry(target.text, step.node, inputs.key, inputs.value)
    if edit is not None:
        return Fix(message, (edit,))
    emptied = set_input(target, step, name, '""')
    if isinstance(emptied, NoFix):
        return emptied
    return Fix(f"set `{name}` to the empty string (no cache) on {step.uses.slug}", (emptied,))
