"""updater-cooldown: give each Dependabot ``updates`` entry a cooldown of the configured days.

Safe: a cooldown only delays version updates (security updates are not held back), so
nothing the repository runs changes.
"""

from __future__ import annotations

from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target
from bastion.fix.yaml_edit import insert_entries, set_value
from bastion.model.updaters import Dependabot, DependabotUpdate
from bastion.model.workflow import Fields
from bastion.rules.updater_cooldown import UpdaterCooldown as Rule
from bastion.source.yaml import MappingNode, ScalarNode

DEFAULT = "default-days"


class UpdaterCooldown(Fixer):
    rule = Rule.id
    safe = True

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        config = target.model
        if not isinstance(config, Dependabot):
            return NoFix("only Dependabot files are fixed; set `minimumReleaseAge` by hand")
        days = Rule(target.settings.get(self.rule)).setting_int("days")
        update = _update(config, finding.route)
        if update is None:
            return NoFix("the `updates` entry was not found")
        cooldown = update.cooldown
        text, layout = target.text, target.layout
        if cooldown is None:
            entry = (("cooldown", ((DEFAULT, str(days)),)),)
            edit = insert_entries(text, layout, update.node, entry)
            message = f"added `cooldown: {{{DEFAULT}: {days}}}` to {update.label}"
        elif not target.owns(update.node, cooldown.key):
            return NoFix("the `cooldown` is merged in from an anchor")
        elif isinstance(cooldown.node, ScalarNode) and not cooldown.node.value:
            entries = ((DEFAULT, str(days)),)
            edit = set_value(text, layout, cooldown.key, cooldown.node, entries)
            message = f"added `{DEFAULT}: {days}` to the empty cooldown of {update.label}"
        elif not isinstance(cooldown.node, MappingNode):
            return NoFix("the `cooldown` is not a mapping written in the entry")
        elif finding.route == cooldown.route:
            if DEFAULT in Fields(cooldown.node):
                return NoFix(f"`{DEFAULT}` is set; raise the shorter waits by hand")
            edit = insert_entries(text, layout, cooldown.node, ((DEFAULT, str(days)),))
            message = f"added `{DEFAULT}: {days}` to the cooldown of {update.label}"
        else:
            name = finding.route.removeprefix(cooldown.route + "/")
            setting = cooldown.days.get(name)
            if setting is None:
                return NoFix(
                    "`include`/`exclude` choose which dependencies wait: a decision for you"
                )
            entry_ = Fields(cooldown.node).entry(name)
            assert entry_ is not None
            flow = bool(cooldown.node.flow_style)
            edit = set_value(text, layout, entry_.key, entry_.value, str(days), flow=flow)
            message = f"raised `{name}` of {update.label} to {days}"
        if edit is None:
            return NoFix("the entry is written in a way this fix does not edit")
        return Fix(message, (edit,))


def _update(config: Dependabot, route: str) -> DependabotUpdate | None:
    for update in config.updates:
        if route == update.route or route.startswith(update.route + "/"):
            return update
    return None
