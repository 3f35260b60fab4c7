"""Bringing a repository's or an organisation's settings to the playbook's baseline.

``plan_*`` reads the current settings and lists the changes (current versus desired); nothing
is written until ``execute`` runs them, in order, stopping at the first failure so that the
report says exactly what was applied and what was not. Rulesets come from the JSON templates
in ``templates/`` (or a directory the user gives), found and updated by their name, so a
second run finds nothing to change.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from bastion.config import Config
from bastion.errors import UsageError
from bastion.github.rest import ApiError, RateLimitError, RestClient
from bastion.settings import checks
from bastion.settings.audit import options_from, subject_of
from bastion.settings.collect import RulesetCache, collect_repo, repository_meta
from bastion.settings.state import RepoState, Unavailable

TEMPLATES = ("default-branch", "forbidden-branches", "release-tags")
MAX_REVIEWERS = 6
"""GitHub's limit of users or teams an environment's reviewers rule may list."""
DEPLOYMENT_GATE = "bastion: release tag deployments"
"""The organisation ruleset that holds ``required_deployments`` for release tags, apart from
the tag ruleset so that GitHub refusing it leaves the tags immutable."""
RULESET_FIELDS = ("name", "target", "enforcement", "bypass_actors", "conditions", "rules")

ChangeState = Literal["planned", "applied", "failed", "not attempted", "blocked"]


@dataclass(slots=True)
class Step:
    method: str
    path: str
    body: Any = None


@dataclass(slots=True)
class Change:
    subject: str
    what: str
    current: Any
    desired: Any
    steps: list[Step] = field(default_factory=list)
    blocked: str = ""
    """Why the change cannot be made (the user must supply something); empty if it can."""
    state: ChangeState = "planned"
    error: str = ""
    completed: int = 0
    """Steps applied (a change of several steps may fail half-way)."""


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    release_environment: str = "release"
    reviewers: tuple[str, ...] = ()
    """``team:SLUG`` or ``user:LOGIN``, for release environments that have none."""
    release_app_id: int | None = None
    """The GitHub App allowed to create release tags, for organisation tag rulesets."""
    template_dir: Path | None = None


def load_template(name: str, directory: Path | None = None) -> dict[str, Any]:
    """A ruleset template: the user's copy in ``directory`` if there is one, else ours."""
    filename = f"{name}.json"
    try:
        if directory is not None and (directory / filename).is_file():
            text = (directory / filename).read_text(encoding="utf-8")
            origin = str(directory / filename)
        else:
            text = (
                resources.files("bastion.settings")
                .joinpath("templates")
                .joinpath(filename)
                .read_text(encoding="utf-8")
            )
            origin = f"the template {filename}"
        data = json.loads(text)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read ruleset template {filename}: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise UsageError(f"{origin} is not a ruleset (an object with a `name`)")
    return {key: data[key] for key in RULESET_FIELDS if key in data}


# Comparison ---------------------------------------------------------------------------------


def covers(current: Any, desired: Any) -> bool:
    """Whether ``current`` already holds everything ``desired`` asks for.

    Objects may carry more fields (GitHub adds defaults); lists must have the same items in
    any order.
    """
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(
            key in current and covers(current[key], value) for key, value in desired.items()
        )
    if isinstance(desired, list):
        if not isinstance(current, list) or len(current) != len(desired):
            return False
        remaining = list(current)
        for item in desired:
            match = next((c for c in remaining if covers(c, item)), None)
            if match is None:
                return False
            remaining.remove(match)
        return True
    return bool(current == desired)


# Planning -----------------------------------------------------------------------------------


def _read(client: RestClient, path: str) -> Any:
    try:
        return client.get(path).data
    except RateLimitError:
        raise
    except ApiError as error:
        return Unavailable.from_error(error)


def _ruleset_changes(
    client: RestClient,
    subject: str,
    base: str,
    desired: list[dict[str, Any]],
) -> list[Change]:
    """Create or update each desired ruleset, found by name among ``base``'s own rulesets."""
    listed = _list(client, f"{base}/rulesets", {"includes_parents": "false"})
    changes = []
    for ruleset in desired:
        what = f"ruleset `{ruleset['name']}`"
        if isinstance(listed, Unavailable):
            changes.append(Change(subject, what, None, ruleset, blocked=listed.reason))
            continue
        existing = next(
            (r for r in listed if isinstance(r, dict) and r.get("name") == ruleset["name"]), None
        )
        if existing is None:
            changes.append(
                Change(subject, what, None, ruleset, [Step("POST", f"{base}/rulesets", ruleset)])
            )
            continue
        path = f"{base}/rulesets/{existing['id']}"
        current = _read(client, path)
        if isinstance(current, Unavailable):
            changes.append(Change(subject, what, None, ruleset, blocked=current.reason))
            continue
        shown = {key: current.get(key) for key in RULESET_FIELDS if key in current}
        if not covers(current, ruleset):
            changes.append(Change(subject, what, shown, ruleset, [Step("PUT", path, ruleset)]))
    return changes


def _list(client: RestClient, path: str, params: dict[str, str | int]) -> Any:
    try:
        return list(client.paginate(path, params))
    except RateLimitError:
        raise
    except ApiError as error:
        return Unavailable.from_error(error)


def _setting_change(
    subject: str, what: str, *, path: str, current: Any, desired: dict[str, Any], body: Any
) -> Change | None:
    if isinstance(current, Unavailable):
        return Change(subject, what, None, desired, blocked=current.reason)
    if covers(current, desired):
        return None
    return Change(subject, what, current, desired, [Step("PUT", path, body)])


def plan_repository(
    client: RestClient, config: Config, owner: str, name: str, options: ApplyOptions
) -> list[Change]:
    try:
        meta = repository_meta(client, owner, name)
    except RateLimitError:
        raise
    except ApiError as error:
        raise UsageError(f"cannot read repository {owner}/{name}: {error}") from None
    # A renamed or transferred repository: reads follow GitHub's 301, but writes to the old
    # name get 307 and change nothing, so every write goes to the current name.
    full_name = str(meta.get("full_name") or f"{owner}/{name}")
    owner, _, name = full_name.partition("/")
    if meta.get("disabled"):
        raise UsageError(
            f"repository {full_name} is disabled by GitHub: its settings cannot be changed "
            "until it is re-enabled (see the repository's page)"
        )
    subject = subject_of(client.host, owner, name)
    base = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
    _check_templates(options)
    state = collect_repo(client, subject, meta, options_from(config), cache=RulesetCache())
    changes = _repository_changes(client, config, state, base, options)
    if meta.get("archived"):
        reason = (
            f"{full_name} is archived: GitHub refuses every write to an archived repository "
            "(403); unarchive it in its settings, then run again"
        )
        for change in changes:
            change.blocked = reason
    return changes


def _repository_changes(
    client: RestClient, config: Config, state: RepoState, base: str, options: ApplyOptions
) -> list[Change]:
    subject = state.subject
    changes: list[Change] = []

    actions = state.actions
    desired_actions = {"sha_pinning_required": True}
    body = (
        {
            "enabled": actions.get("enabled", True),
            "allowed_actions": actions.get("allowed_actions", "all"),
            "sha_pinning_required": True,
        }
        if isinstance(actions, dict)
        else None
    )
    _add(
        changes,
        _setting_change(
            subject,
            "Actions policy",
            path=f"{base}/actions/permissions",
            current=actions,
            desired=desired_actions,
            body=body,
        ),
    )
    token = {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
    _add(
        changes,
        _setting_change(
            subject,
            "default GITHUB_TOKEN permissions",
            path=f"{base}/actions/permissions/workflow",
            current=state.workflow_permissions,
            desired=token,
            body=token,
        ),
    )

    wanted = []
    settings = config.rule_settings
    for template, check in (
        ("default-branch", checks.default_branch(state)),
        ("forbidden-branches", checks.sensitive_branches(state, settings)),
        ("release-tags", checks.release_tags(state, settings)),
    ):
        if check.status != "pass":
            wanted.append(_repository_template(template, options))
    changes.extend(_ruleset_changes(client, subject, base, wanted))

    changes.extend(_environment_changes(client, state, base, options, config))

    if isinstance(state.immutable, Unavailable):
        changes.append(
            Change(
                subject,
                "immutable releases",
                None,
                {"enabled": True},
                blocked=state.immutable.reason,
            )
        )
    elif not state.immutable:
        changes.append(
            Change(
                subject,
                "immutable releases",
                {"enabled": False},
                {"enabled": True},
                [Step("PUT", f"{base}/immutable-releases")],
            )
        )
    return changes


def _check_templates(options: ApplyOptions) -> None:
    """Read every template first, so that a broken one stops the run before any change."""
    for name in TEMPLATES:
        load_template(name, options.template_dir)


def _repository_template(name: str, options: ApplyOptions) -> dict[str, Any]:
    ruleset = load_template(name, options.template_dir)
    for rule in ruleset.get("rules", []):
        if isinstance(rule, dict) and rule.get("type") == "required_deployments":
            rule["parameters"] = {"required_deployment_environments": [options.release_environment]}
    return ruleset


def _add(changes: list[Change], change: Change | None) -> None:
    if change is not None:
        changes.append(change)


def _environment_changes(
    client: RestClient, state: RepoState, base: str, options: ApplyOptions, config: Config
) -> list[Change]:
    subject = state.subject
    if isinstance(state.environments, Unavailable):
        return [
            Change(subject, "release environment", None, None, blocked=state.environments.reason)
        ]
    existing = {str(e.get("name")): e for e in state.environments if isinstance(e, dict)}
    # The environments the audit checks: those publishing jobs name, and the configured
    # release environments that exist.
    configured = set(options_from(config).release_environments) | {options.release_environment}
    names = set(state.release_environments) | (configured & set(existing))
    changes = []
    for name in sorted(names):
        changes.extend(
            _one_environment(
                client, state, base, name=name, env=existing.get(name), options=options
            )
        )
    return changes


def _one_environment(
    client: RestClient,
    state: RepoState,
    base: str,
    *,
    name: str,
    env: dict[str, Any] | None,
    options: ApplyOptions,
) -> list[Change]:
    subject = state.subject
    path = f"{base}/environments/{quote(name, safe='')}"
    what = f"environment `{name}`"
    reviewers = _current_reviewers(env)
    prevent = any(
        r.get("prevent_self_review") is True
        for r in (env or {}).get("protection_rules") or []
        if isinstance(r, dict) and r.get("type") == "required_reviewers"
    )
    apps = state.protection_apps.get(name)
    has_app = isinstance(apps, list) and any(isinstance(a, dict) for a in apps)
    wait_timer = _wait_timer(env)
    # `can_admins_bypass` is not in GitHub's 2022-11-28 description: bastion sends it only to
    # a server that shows it (or for a new environment), never guessing at an unknown field.
    admin_bypass = env is None or "can_admins_bypass" in env
    current = None
    if env is not None:
        current = {
            "reviewers": reviewers,
            "prevent_self_review": prevent,
            "deployment_branch_policy": env.get("deployment_branch_policy"),
        }
        if admin_bypass:
            current["can_admins_bypass"] = env.get("can_admins_bypass")
    desired: dict[str, Any] = {
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
    }
    if admin_bypass:
        desired["can_admins_bypass"] = False
    blocked = ""
    if reviewers:
        desired["reviewers"] = reviewers
    elif options.reviewers:
        if len(options.reviewers) > MAX_REVIEWERS:
            blocked = (
                f"GitHub accepts at most {MAX_REVIEWERS} reviewers for an environment; "
                f"{len(options.reviewers)} were given with --release-reviewer (name a team)"
            )
        else:
            try:
                desired["reviewers"] = [
                    _resolve_reviewer(client, state.owner, r) for r in options.reviewers
                ]
            except UsageError as error:
                blocked = str(error)
    elif not has_app:
        blocked = (
            "it has no required reviewers and no protection App; name who approves releases "
            "with --release-reviewer team:SLUG or user:LOGIN"
        )
    if "reviewers" in desired:
        # Only a reviewers rule has `prevent_self_review`; a protection App gates alone.
        desired["prevent_self_review"] = True
    # GitHub's PUT is "create or update"; its description does not say that omitted fields
    # are kept, so the body repeats every protection the environment has (wait timer
    # included): a change must never drop one.
    body = dict(desired)
    if wait_timer:
        body["wait_timer"] = wait_timer
    changes: list[Change] = []
    if current is None or not covers(current, desired):
        change = Change(subject, what, current, desired, [Step("PUT", path, body)], blocked)
        changes.append(change)
    if not admin_bypass:
        changes.append(
            Change(
                subject,
                f"{what} administrator bypass",
                None,
                {"can_admins_bypass": False},
                blocked=(
                    "GitHub's answer has no `can_admins_bypass` (not in its 2022-11-28 API "
                    'description), so bastion does not send it: turn off "Allow '
                    'administrators to bypass configured protection rules" on the '
                    "environment's page"
                ),
            )
        )
    policies = state.branch_policies.get(name) if env is not None else []
    if isinstance(policies, Unavailable):
        changes.append(
            Change(subject, f"{what} branch policies", None, None, blocked=policies.reason)
        )
        return changes
    found = [
        (p.get("id"), str(p.get("type", "branch")), str(p.get("name")))
        for p in policies or []
        if isinstance(p, dict)
    ]
    target = ("branch", state.default_branch)
    steps = [
        Step("DELETE", f"{path}/deployment-branch-policies/{number}")
        for number, kind, value in found
        if (kind, value) != target
    ]
    if target not in [(kind, value) for _, kind, value in found]:
        steps.insert(
            0,
            Step(
                "POST",
                f"{path}/deployment-branch-policies",
                {"name": state.default_branch, "type": "branch"},
            ),
        )
    if steps:
        changes.append(
            Change(
                subject,
                f"{what} deployment branches",
                [f"{kind} {value}" for _, kind, value in found],
                [f"branch {state.default_branch}"],
                steps,
                blocked,
            )
        )
    return changes


def _wait_timer(env: dict[str, Any] | None) -> int:
    """Minutes of the environment's wait timer (a ``wait_timer`` protection rule), or 0."""
    for rule in (env or {}).get("protection_rules") or []:
        if isinstance(rule, dict) and rule.get("type") == "wait_timer":
            value = rule.get("wait_timer")
            if isinstance(value, int):
                return value
    return 0


def _current_reviewers(env: dict[str, Any] | None) -> list[dict[str, Any]]:
    found = []
    for rule in (env or {}).get("protection_rules") or []:
        if isinstance(rule, dict) and rule.get("type") == "required_reviewers":
            for reviewer in rule.get("reviewers") or []:
                if isinstance(reviewer, dict) and isinstance(reviewer.get("reviewer"), dict):
                    found.append(
                        {"type": reviewer.get("type"), "id": reviewer["reviewer"].get("id")}
                    )
    return found


def _resolve_reviewer(client: RestClient, owner: str, text: str) -> dict[str, Any]:
    kind, _, name = text.partition(":")
    paths = {
        "team": f"/orgs/{quote(owner, safe='')}/teams/{quote(name, safe='')}",
        "user": f"/users/{quote(name, safe='')}",
    }
    if kind not in paths or not name:
        raise UsageError(f"--release-reviewer {text!r} is not team:SLUG or user:LOGIN")
    try:
        data = client.get(paths[kind]).data
    except RateLimitError:
        raise
    except ApiError as error:
        raise UsageError(f"cannot find reviewer {text}: {error}") from None
    return {"type": "Team" if kind == "team" else "User", "id": data["id"]}


def plan_organization(
    client: RestClient, config: Config, login: str, options: ApplyOptions
) -> list[Change]:
    _check_templates(options)
    subject = subject_of(client.host, login)
    base = f"/orgs/{quote(login, safe='')}"
    changes: list[Change] = []
    actions = _read(client, f"{base}/actions/permissions")
    body = (
        {
            "enabled_repositories": actions.get("enabled_repositories", "all"),
            "allowed_actions": actions.get("allowed_actions", "all"),
            "sha_pinning_required": True,
        }
        if isinstance(actions, dict)
        else None
    )
    _add(
        changes,
        _setting_change(
            subject,
            "Actions policy",
            path=f"{base}/actions/permissions",
            current=actions,
            desired={"sha_pinning_required": True},
            body=body,
        ),
    )
    token = {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
    _add(
        changes,
        _setting_change(
            subject,
            "default GITHUB_TOKEN permissions",
            path=f"{base}/actions/permissions/workflow",
            current=_read(client, f"{base}/actions/permissions/workflow"),
            desired=token,
            body=token,
        ),
    )
    rulesets = [_organization_template(name, options) for name in TEMPLATES]
    if options.release_app_id is None:
        rulesets.append(_deployment_gate(rulesets[-1], options))
    changes.extend(_ruleset_changes(client, subject, base, rulesets))
    immutable = {"enforced_repositories": "all"}
    _add(
        changes,
        _setting_change(
            subject,
            "immutable releases",
            path=f"{base}/settings/immutable-releases",
            current=_read(client, f"{base}/settings/immutable-releases"),
            desired=immutable,
            body=immutable,
        ),
    )
    return changes


def _organization_template(name: str, options: ApplyOptions) -> dict[str, Any]:
    """A template made fit for an organisation: all repositories, and the tag creation gate
    apart. With ``--release-app-id`` the gate is ``creation`` that only that App may bypass;
    else ``required_deployments`` goes into a ruleset of its own (``_deployment_gate``)."""
    ruleset = load_template(name, options.template_dir)
    conditions = ruleset.setdefault("conditions", {})
    if not {"repository_name", "repository_id", "repository_property"} & set(conditions):
        conditions["repository_name"] = {"include": ["~ALL"], "exclude": []}
    rules = []
    for rule in ruleset.get("rules", []):
        if isinstance(rule, dict) and rule.get("type") == "required_deployments":
            if options.release_app_id is not None:
                rules.append({"type": "creation"})
                actors = ruleset.setdefault("bypass_actors", [])
                actor = {
                    "actor_id": options.release_app_id,
                    "actor_type": "Integration",
                    "bypass_mode": "always",
                }
                if actor not in actors:
                    actors.append(actor)
            continue
        rules.append(rule)
    ruleset["rules"] = rules
    return copy.deepcopy(ruleset)


def _deployment_gate(tags: dict[str, Any], options: ApplyOptions) -> dict[str, Any]:
    """``required_deployments`` on the release environment for the tags of ``tags``, as an
    organisation ruleset of its own. GitHub's description lists the rule for organisation
    rulesets; if GitHub refuses it, only this change fails (see docs/settings.md)."""
    return {
        "name": DEPLOYMENT_GATE,
        "target": "tag",
        "enforcement": tags.get("enforcement", "active"),
        "bypass_actors": [],
        "conditions": copy.deepcopy(tags.get("conditions", {})),
        "rules": [
            {
                "type": "required_deployments",
                "parameters": {"required_deployment_environments": [options.release_environment]},
            }
        ],
    }


# Execution ----------------------------------------------------------------------------------


def execute(
    client: RestClient, changes: list[Change], *, report: Callable[[Change], None] | None = None
) -> bool:
    """Apply the changes in order; stop at the first failure. True when all were applied."""
    failed = False
    for change in changes:
        if change.blocked:
            change.state = "blocked"
        elif failed:
            change.state = "not attempted"
        else:
            try:
                for step in change.steps:
                    client.request(step.method, step.path, step.body)
                    change.completed += 1
            except ApiError as error:
                # Any answer but 2xx (a redirect included) means the change was not made.
                change.state, change.error, failed = "failed", str(error), True
            else:
                change.state = "applied"
        if report is not None:
            report(change)
    return not failed and not any(change.state == "blocked" for change in changes)
