"""The checks: each judges what ``collect`` read and ends pass, fail or unknown, never silent.

A check that needs a value the token could not read ends ``unknown`` and says what GitHub
answered and which permission the endpoint needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from bastion.findings import Severity
from bastion.rules.base import OptionValue
from bastion.rules.repository_settings import (
    MutableReleases,
    MutableReleaseTags,
    PublishSecretOutsideEnvironment,
    ShaPinningNotRequired,
    TooManyAdmins,
    UnprotectedDefaultBranch,
    UnprotectedReleaseEnvironment,
    UnrestrictedSensitiveBranches,
    WeakOrgTwoFactor,
    WritableDefaultToken,
)
from bastion.settings.collect import PROTECTED_TYPES, probe_branch
from bastion.settings.state import OrgState, RepoState, Unavailable

Status = Literal["pass", "fail", "unknown"]

ADMIN_ACTORS = frozenset(
    {"OrganizationAdmin", "RepositoryRole", "EnterpriseOwner", "EnterpriseRole"}
)
RELEASE_IDENTITIES = frozenset({"Integration", "DeployKey"})
"""Bypass actors that stand for automation, not people: a GitHub App or a deploy key."""


@dataclass(frozen=True, slots=True)
class Outcome:
    rule: str
    status: Status
    message: str
    subject: str
    route: str
    severity: Severity | None = None
    """Overrides the rule's default severity."""


Settings = Mapping[str, Mapping[str, OptionValue]]


def _option(settings: Settings, rule: str, name: str, default: OptionValue) -> OptionValue:
    return settings.get(rule, {}).get(name, default)


def _strings(value: OptionValue) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return value
    return (str(value),)


def _unknown(rule: str, subject: str, route: str, what: str, why: Unavailable) -> Outcome:
    return Outcome(rule, "unknown", f"cannot tell {what}: {why.reason}", subject, route)


# Actions policy and token defaults -----------------------------------------------------------


def sha_pinning(subject: str, actions: Any, level: str) -> Outcome:
    rule = ShaPinningNotRequired.id
    route = "actions/permissions/sha_pinning_required"
    if isinstance(actions, Unavailable):
        return _unknown(rule, subject, route, "whether actions must be pinned", actions)
    value = actions.get("sha_pinning_required") if isinstance(actions, dict) else None
    if value is True:
        return Outcome(rule, "pass", f"the {level} requires SHA-pinned actions", subject, route)
    if value is None:
        why = Unavailable("GitHub's answer has no `sha_pinning_required` (an older server?)")
        return _unknown(rule, subject, route, "whether actions must be pinned", why)
    return Outcome(
        rule,
        "fail",
        f"the {level}'s Actions policy does not require actions pinned to a full commit SHA "
        "(`sha_pinning_required` is off)",
        subject,
        route,
    )


def default_token(subject: str, workflow: Any, level: str) -> Outcome:
    rule = WritableDefaultToken.id
    route = "actions/permissions/workflow"
    if isinstance(workflow, Unavailable):
        return _unknown(rule, subject, route, "the default token's permissions", workflow)
    if not isinstance(workflow, dict):
        why = Unavailable("GitHub's answer is not an object")
        return _unknown(rule, subject, route, "the default token's permissions", why)
    problems = []
    if workflow.get("default_workflow_permissions") != "read":
        problems.append(
            f"the default GITHUB_TOKEN of the {level} can write "
            f"(`default_workflow_permissions: {workflow.get('default_workflow_permissions')}`)"
        )
    if workflow.get("can_approve_pull_request_reviews") is not False:
        problems.append("GitHub Actions may approve pull requests")
    if problems:
        return Outcome(rule, "fail", "; ".join(problems), subject, route)
    return Outcome(rule, "pass", f"the {level}'s default token is read-only", subject, route)


# Rulesets ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Verdict:
    ok: bool
    hidden: Unavailable | None = None
    problem: str = ""
    organization: bool = False


def _bypass(ruleset: Any, *, allowed: frozenset[str] | None = None) -> _Verdict:
    """Whether a ruleset's bypass actors let people through (``allowed``: the only types
    permitted at all, for creation gates)."""
    if isinstance(ruleset, Unavailable):
        return _Verdict(False, hidden=ruleset)
    if not isinstance(ruleset, dict):
        return _Verdict(False, hidden=Unavailable("the ruleset could not be read"))
    source = ruleset.get("source_type")
    organization = source in ("Organization", "Enterprise")
    name = f"ruleset `{ruleset.get('name', ruleset.get('id'))}`"
    if "bypass_actors" not in ruleset:
        return _Verdict(False, hidden=_hidden_bypass(name, source), organization=organization)
    for actor in ruleset.get("bypass_actors") or []:
        if not isinstance(actor, dict):
            continue
        kind = str(actor.get("actor_type"))
        mode = actor.get("bypass_mode") or "always"
        if kind in ADMIN_ACTORS:
            who = "administrators" if kind != "RepositoryRole" else "a repository role"
            return _Verdict(False, problem=f"{name} lets {who} bypass it ({kind}, {mode})")
        if allowed is not None and kind not in allowed:
            return _Verdict(False, problem=f"{name} lets a {kind} bypass it")
        if mode == "exempt" and kind not in RELEASE_IDENTITIES:
            return _Verdict(False, problem=f"{name} exempts a {kind} from it")
    return _Verdict(True, organization=organization)


def _hidden_bypass(name: str, source: Any) -> Unavailable:
    """Why the bypass actors are missing: GitHub shows them only to those who can edit the
    ruleset, which depends on where it is defined."""
    if source == "Enterprise":
        return Unavailable(
            f"GitHub hides the bypass actors of enterprise {name} from everyone but the "
            "enterprise's owners (a GitHub App needs the enterprise permission "
            "Enterprise administration write)",
            "enterprise_administration=write",
        )
    if source == "Organization":
        return Unavailable(
            f"GitHub hides the bypass actors of organisation {name} from tokens that cannot "
            "edit it (fine-grained: Organization Administration write; classic: `admin:org`)",
            "organization_administration=write",
        )
    return Unavailable(
        f"GitHub hides the bypass actors of {name} from tokens without write access to it "
        "(fine-grained: repository Administration write; classic: `repo`)",
        "administration=write",
    )


def _level(source: Any) -> str:
    return "enterprise" if source == "Enterprise" else "organisation"


@dataclass(frozen=True, slots=True)
class _Coverage:
    missing: list[str]
    bypassed: list[str]
    hidden: Unavailable | None
    repository_only: list[str]


def _coverage(state: RepoState, rules: list[Any], wanted: tuple[str, ...]) -> _Coverage:
    """Which of the ``wanted`` rule types are enforced on a branch, by whom."""
    missing: list[str] = []
    bypassed: list[str] = []
    repository_only: list[str] = []
    hidden: Unavailable | None = None
    for kind in wanted:
        providers = [rule for rule in rules if isinstance(rule, dict) and rule.get("type") == kind]
        if not providers:
            missing.append(kind)
            continue
        verdicts = [
            _bypass(state.ruleset_details.get(_int(rule.get("ruleset_id")), _not_read(rule)))
            for rule in providers
        ]
        good = [v for v in verdicts if v.ok]
        if good:
            if not any(v.organization for v in good):
                repository_only.append(kind)
            continue
        unseen = [v.hidden for v in verdicts if v.hidden is not None]
        if unseen:
            hidden = hidden or unseen[0]
        else:
            bypassed.extend(v.problem for v in verdicts if v.problem)
    return _Coverage(missing, sorted(set(bypassed)), hidden, repository_only)


def _int(value: Any) -> int:
    return value if isinstance(value, int) else -1


def _not_read(rule: dict[str, Any]) -> Unavailable:
    return Unavailable(f"ruleset {rule.get('ruleset_id')} was not read")


def _quote_list(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def default_branch(state: RepoState) -> Outcome:
    rule = UnprotectedDefaultBranch.id
    branch = state.default_branch
    route = f"rules/branches/{branch}"
    rules = state.branch_rules.get(branch)
    if isinstance(rules, Unavailable) or rules is None:
        why = rules or Unavailable("not read")
        return _unknown(rule, state.subject, route, f"how `{branch}` is protected", why)
    coverage = _coverage(state, rules, PROTECTED_TYPES)
    problems = []
    if coverage.missing:
        text = f"no active ruleset applies {_quote_list(coverage.missing)} to `{branch}`"
        classic = _classic(state.protection)
        if classic:
            text += f"; {classic}"
        problems.append(text)
    problems.extend(coverage.bypassed)
    if problems:
        return Outcome(rule, "fail", "; ".join(problems), state.subject, route)
    if coverage.hidden is not None:
        return _unknown(
            rule, state.subject, route, f"who may bypass the rules of `{branch}`", coverage.hidden
        )
    if coverage.repository_only and state.owner_is_org:
        return Outcome(
            rule,
            "fail",
            f"`{branch}` is protected by repository rulesets only "
            f"({_quote_list(coverage.repository_only)}), which repository admins can change; "
            "the playbook enforces them with an organisation ruleset",
            state.subject,
            route,
            Severity.LOW,
        )
    level = "repository"
    if not coverage.repository_only:
        levels = {
            _level(rule.get("ruleset_source_type"))
            for rule in rules
            if isinstance(rule, dict)
            and rule.get("type") in PROTECTED_TYPES
            and rule.get("ruleset_source_type") in ("Organization", "Enterprise")
        }
        level = "enterprise" if levels == {"enterprise"} else "organisation"
    return Outcome(
        rule,
        "pass",
        f"`{branch}` is protected by {level} rulesets without admin bypass",
        state.subject,
        route,
    )


def _classic(protection: Any) -> str:
    if not isinstance(protection, dict):
        return ""
    text = "it has classic branch protection only, which repository admins can change"
    enforce = protection.get("enforce_admins")
    if not (isinstance(enforce, dict) and enforce.get("enabled")):
        text += ", and it does not apply to admins"
    return text


def sensitive_branches(state: RepoState, settings: Settings) -> Outcome:
    rule = UnrestrictedSensitiveBranches.id
    patterns = _strings(_option(settings, rule, "patterns", ("advisory-*", "internal-*")))
    route = "rules/branches/" + ",".join(patterns)
    open_patterns, problems = [], []
    hidden: Unavailable | None = None
    for pattern in patterns:
        rules = state.branch_rules.get(probe_branch(pattern))
        if isinstance(rules, Unavailable) or rules is None:
            why = rules or Unavailable("not read")
            return _unknown(rule, state.subject, route, f"whether `{pattern}` can be created", why)
        coverage = _coverage(state, rules, ("creation",))
        if coverage.missing:
            open_patterns.append(pattern)
        problems.extend(coverage.bypassed)
        hidden = hidden or coverage.hidden
    if open_patterns:
        problems.insert(
            0, f"no active ruleset forbids creating branches named {_quote_list(open_patterns)}"
        )
    if problems:
        return Outcome(rule, "fail", "; ".join(problems), state.subject, route)
    if hidden is not None:
        return _unknown(rule, state.subject, route, "who may create sensitive branches", hidden)
    return Outcome(
        rule, "pass", f"creating {_quote_list(list(patterns))} is forbidden", state.subject, route
    )


def _ref_covers(ruleset: dict[str, Any], refs: list[str]) -> bool:
    condition = (ruleset.get("conditions") or {}).get("ref_name") or {}

    def hit(patterns: list[Any], ref: str) -> bool:
        return any(pattern == "~ALL" or ref_matches(str(pattern), ref) for pattern in patterns)

    include = condition.get("include") or []
    exclude = condition.get("exclude") or []
    return any(hit(include, ref) and not hit(exclude, ref) for ref in refs)


def ref_matches(pattern: str, ref: str) -> bool:
    """A ruleset's ref pattern as GitHub reads it: Ruby's ``File.fnmatch`` with
    ``FNM_PATHNAME`` (GitHub docs, "Creating rulesets for a repository"). ``*`` and ``?``
    never cross ``/``; ``**/`` matches any number of directories, a ``**`` not followed by
    ``/`` is a ``*``; ``[...]`` is a character class (``[!...]`` its complement; GitHub
    does not support ``[^...]``)."""
    return _ref_regex(pattern).fullmatch(ref) is not None


@lru_cache(maxsize=256)
def _ref_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif char == "*":
            parts.append("[^/]*")
            index += 1
        elif char == "?":
            parts.append("[^/]")
            index += 1
        elif char == "[" and "]" in pattern[index + 2 :]:
            end = pattern.index("]", index + 2)
            body = pattern[index + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            parts.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            index = end + 1
        else:
            parts.append(re.escape(char))
            index += 1
    return re.compile("".join(parts), re.DOTALL)


def release_tags(state: RepoState, settings: Settings) -> Outcome:
    rule = MutableReleaseTags.id
    route = "rulesets?targets=tag"
    examples = _strings(_option(settings, rule, "tag-examples", ("v1.2.3", "1.2.3")))
    environments = set(_strings(_option(settings, rule, "environments", ("release",))))
    if isinstance(state.tag_rulesets, Unavailable):
        return _unknown(
            rule, state.subject, route, "how release tags are protected", state.tag_rulesets
        )
    refs = [f"refs/tags/{example}" for example in examples]
    covering: list[dict[str, Any]] = []
    hidden: Unavailable | None = None
    for summary in state.tag_rulesets:
        if not isinstance(summary, dict) or summary.get("enforcement") != "active":
            continue
        details = state.ruleset_details.get(_int(summary.get("id")))
        if isinstance(details, Unavailable) or not isinstance(details, dict):
            hidden = hidden or (details if isinstance(details, Unavailable) else None)
            continue
        if details.get("target", "tag") == "tag" and _ref_covers(details, refs):
            covering.append(details)
    if not covering:
        if hidden is not None:
            return _unknown(rule, state.subject, route, "how release tags are protected", hidden)
        return Outcome(
            rule,
            "fail",
            f"no active tag ruleset covers release tags such as {_quote_list(list(examples))}, "
            "so they can be moved, deleted and created by anyone who can push",
            state.subject,
            route,
        )
    problems: list[str] = []
    unseen: list[Unavailable] = []
    for kind in ("update", "deletion"):
        verdicts = [_bypass(r) for r in covering if _has_rule(r, kind)]
        if not verdicts:
            problems.append(
                f"no tag ruleset has a `{kind}` rule, so release tags can be "
                + ("moved" if kind == "update" else "deleted")
            )
        elif not any(v.ok for v in verdicts):
            hidden_here = [v.hidden for v in verdicts if v.hidden is not None]
            if hidden_here:
                unseen.append(hidden_here[0])
            else:
                problems.extend(v.problem for v in verdicts if v.problem)
    gate = _creation_gate(covering, environments)
    if isinstance(gate, Unavailable):
        unseen.append(gate)
    elif gate:
        problems.append(gate)
    if problems:
        return Outcome(rule, "fail", "; ".join(problems), state.subject, route)
    if unseen:
        return _unknown(rule, state.subject, route, "who may bypass the tag rulesets", unseen[0])
    return Outcome(
        rule, "pass", "release tags are immutable and their creation is gated", state.subject, route
    )


def _has_rule(ruleset: dict[str, Any], kind: str) -> bool:
    return any(isinstance(r, dict) and r.get("type") == kind for r in ruleset.get("rules") or [])


def _creation_gate(covering: list[dict[str, Any]], environments: set[str]) -> str | Unavailable:
    """An empty string when some ruleset gates tag creation, else the problem."""
    hidden: Unavailable | None = None
    problems = []
    for ruleset in covering:
        for item in ruleset.get("rules") or []:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "required_deployments":
                wanted = (item.get("parameters") or {}).get("required_deployment_environments")
                if set(wanted or []) & environments:
                    verdict = _bypass(ruleset)
                    if verdict.ok:
                        return ""
                    hidden = hidden or verdict.hidden
                    if verdict.problem:
                        problems.append(verdict.problem)
            if item.get("type") == "creation":
                verdict = _bypass(ruleset, allowed=RELEASE_IDENTITIES)
                if verdict.ok:
                    return ""
                hidden = hidden or verdict.hidden
                if verdict.problem:
                    problems.append(verdict.problem)
    if problems:
        return "tag creation is not gated: " + "; ".join(problems)
    if hidden is not None:
        return hidden
    return (
        "release tags can be created without the release deployment: no tag ruleset has "
        f"`required_deployments` on {_quote_list(sorted(environments))} or a `creation` rule "
        "that only the release identity may bypass"
    )


# Environments, secrets, releases -------------------------------------------------------------


def release_environment(state: RepoState, settings: Settings) -> Outcome:
    rule = UnprotectedReleaseEnvironment.id
    route = "environments"
    if isinstance(state.environments, Unavailable):
        return _unknown(
            rule,
            state.subject,
            route,
            "how the release environment is protected",
            state.environments,
        )
    existing = {str(env.get("name")): env for env in state.environments if isinstance(env, dict)}
    configured = set(_strings(_option(settings, rule, "environments", ("release",))))
    targets = sorted(set(state.release_environments) | (configured & set(existing)))
    if not targets:
        if isinstance(state.workflows, Unavailable):
            return _unknown(
                rule, state.subject, route, "which environment publishes", state.workflows
            )
        return Outcome(
            rule,
            "pass",
            "no publishing job names an environment and no release environment exists",
            state.subject,
            route,
        )
    problems: list[str] = []
    unseen: list[Unavailable] = []
    for name in targets:
        env_problems, env_unseen = _environment_problems(state, name, existing.get(name))
        problems.extend(f"environment `{name}` {text}" for text in env_problems)
        unseen.extend(env_unseen)
    if problems:
        return Outcome(rule, "fail", "; ".join(problems), state.subject, f"{route}/{targets[0]}")
    if unseen:
        return _unknown(
            rule, state.subject, route, "how the release environment is protected", unseen[0]
        )
    return Outcome(
        rule,
        "pass",
        f"{_quote_list(targets)} {'needs' if len(targets) == 1 else 'need'} another "
        f"person's approval and {'deploys' if len(targets) == 1 else 'deploy'} from "
        f"`{state.default_branch}` only",
        state.subject,
        route,
    )


def _environment_problems(
    state: RepoState, name: str, env: Any
) -> tuple[list[str], list[Unavailable]]:
    if not isinstance(env, dict):
        jobs = state.release_environments.get(name, [])
        used = f" (used by {', '.join(jobs[:3])})" if jobs else ""
        return [f"does not exist{used}: GitHub creates it on the first run, with no protection"], []
    problems: list[str] = []
    unseen: list[Unavailable] = []
    rules = [r for r in env.get("protection_rules") or [] if isinstance(r, dict)]
    reviewers = [r for r in rules if r.get("type") == "required_reviewers"]
    if reviewers:
        if not any(r.get("reviewers") for r in reviewers):
            problems.append("has a reviewers rule with no reviewers")
        if not any(r.get("prevent_self_review") is True for r in reviewers):
            problems.append(
                "lets the person who started the run approve it (no `prevent_self_review`)"
            )
    else:
        apps = state.protection_apps.get(name)
        if isinstance(apps, Unavailable):
            unseen.append(apps)
        elif not any(isinstance(a, dict) and a.get("enabled", True) for a in apps or []):
            problems.append("needs no approval (no required reviewers or protection App)")
    bypass = env.get("can_admins_bypass")
    if bypass is True:
        problems.append("lets administrators bypass its protection rules")
    elif bypass is None:
        unseen.append(
            Unavailable(
                f"GitHub's answer has no `can_admins_bypass` for environment `{name}` (the "
                "field is not in GitHub's 2022-11-28 API description; check the setting "
                '"Allow administrators to bypass configured protection rules" in the '
                "environment's page)"
            )
        )
    policy = env.get("deployment_branch_policy")
    if not isinstance(policy, dict):
        problems.append("can be deployed from any branch or tag")
    elif policy.get("protected_branches"):
        problems.append(
            f"can be deployed from every protected branch, not only `{state.default_branch}`"
        )
    else:
        policies = state.branch_policies.get(name)
        if isinstance(policies, Unavailable):
            unseen.append(policies)
        else:
            allowed = [
                (str(p.get("type", "branch")), str(p.get("name")))
                for p in policies or []
                if isinstance(p, dict)
            ]
            extra = [
                f"{kind} `{value}`"
                for kind, value in allowed
                if (kind, value) != ("branch", state.default_branch)
            ]
            if extra:
                problems.append(
                    f"can also be deployed from {', '.join(extra)}, not only "
                    f"`{state.default_branch}`"
                )
            elif not allowed:
                problems.append("has a custom branch policy that allows no branch")
    return problems, unseen


def _publishing_names(names: list[str], settings: Settings) -> list[str]:
    rule = PublishSecretOutsideEnvironment.id
    patterns = _strings(_option(settings, rule, "patterns", ()))
    if not patterns:
        patterns = _strings(PublishSecretOutsideEnvironment.options[0].default)
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error:
            compiled.append(re.compile(re.escape(pattern), re.IGNORECASE))
    return sorted({name for name in names if any(p.search(name) for p in compiled)})


def repository_secrets(state: RepoState, settings: Settings) -> Outcome:
    rule = PublishSecretOutsideEnvironment.id
    route = "actions/secrets"
    problems = []
    unseen = []
    for level, found in (
        ("repository", state.secrets),
        ("organisation", state.organization_secrets),
    ):
        if found is None:
            continue
        if isinstance(found, Unavailable):
            unseen.append(found)
            continue
        suspicious = _publishing_names(found, settings)
        if suspicious:
            problems.append(
                f"{level} secrets {_quote_list(suspicious)} look like publishing credentials"
            )
    if problems:
        return Outcome(
            rule,
            "fail",
            "; ".join(problems) + ": store them in the release environment instead",
            state.subject,
            route,
        )
    if unseen:
        return _unknown(rule, state.subject, route, "which secrets the repository holds", unseen[0])
    return Outcome(
        rule, "pass", "no publishing credential is a repository secret", state.subject, route
    )


def organization_secrets(state: OrgState, settings: Settings) -> Outcome:
    rule = PublishSecretOutsideEnvironment.id
    route = "actions/secrets"
    if isinstance(state.secrets, Unavailable):
        return _unknown(
            rule, state.subject, route, "which organisation secrets exist", state.secrets
        )
    by_name = {str(s.get("name")): s for s in state.secrets if isinstance(s, dict)}
    suspicious = _publishing_names(list(by_name), settings)
    if suspicious:
        described = [
            f"{name} (visibility {by_name[name].get('visibility')})" for name in suspicious
        ]
        return Outcome(
            rule,
            "fail",
            f"organisation secrets {_quote_list(described)} look like publishing credentials: "
            "store them in the release environment of the repositories that publish",
            state.subject,
            route,
        )
    return Outcome(
        rule, "pass", "no publishing credential is an organisation secret", state.subject, route
    )


def repository_immutable(state: RepoState) -> Outcome:
    rule = MutableReleases.id
    route = "immutable-releases"
    if isinstance(state.immutable, Unavailable):
        return _unknown(
            rule, state.subject, route, "whether releases are immutable", state.immutable
        )
    if state.immutable:
        return Outcome(rule, "pass", "releases are immutable", state.subject, route)
    return Outcome(
        rule,
        "fail",
        "immutable releases are not enabled: published assets can be replaced and release tags "
        "moved",
        state.subject,
        route,
    )


def organization_immutable(state: OrgState) -> Outcome:
    rule = MutableReleases.id
    route = "settings/immutable-releases"
    if isinstance(state.immutable, Unavailable):
        return _unknown(
            rule, state.subject, route, "whether releases are immutable", state.immutable
        )
    enforced = (
        state.immutable.get("enforced_repositories") if isinstance(state.immutable, dict) else None
    )
    if enforced == "all":
        return Outcome(
            rule,
            "pass",
            "immutable releases are enforced on all repositories",
            state.subject,
            route,
        )
    return Outcome(
        rule,
        "fail",
        f"the organisation does not enforce immutable releases on all repositories "
        f"(`enforced_repositories: {enforced}`)",
        state.subject,
        route,
    )


# People --------------------------------------------------------------------------------------


def two_factor(state: OrgState) -> Outcome:
    rule = WeakOrgTwoFactor.id
    route = "two_factor_requirement_enabled"
    if isinstance(state.meta, Unavailable):
        return _unknown(rule, state.subject, route, "whether 2FA is required", state.meta)
    required = (
        state.meta.get("two_factor_requirement_enabled") if isinstance(state.meta, dict) else None
    )
    if required is None:
        why = Unavailable(
            "GitHub shows `two_factor_requirement_enabled` to organisation owners only "
            "(classic scope `admin:org`)",
            "organization_administration=read",
        )
        return _unknown(rule, state.subject, route, "whether 2FA is required", why)
    problems = []
    if required is False:
        problems.append("the organisation does not require two-factor authentication")
    unseen = []
    for label, found in (
        ("have no 2FA", state.two_factor_disabled),
        ("use an insecure 2FA method (SMS)", state.two_factor_insecure),
    ):
        if isinstance(found, Unavailable):
            unseen.append(_owners_only(found))
        elif found:
            shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
            problems.append(f"{len(found)} member(s) {label}: {shown}")
    if problems:
        return Outcome(rule, "fail", "; ".join(problems), state.subject, route)
    if unseen:
        return _unknown(rule, state.subject, route, "the members' 2FA methods", unseen[0])
    return Outcome(
        rule, "pass", "2FA is required and every member uses a secure method", state.subject, route
    )


def _owners_only(why: Unavailable) -> Unavailable:
    """``members?filter=2fa_*`` answers 422 to callers who are not owners: that is about
    who asks, not about the token's permissions."""
    if why.status != 422:
        return why
    return Unavailable(
        "GitHub answered 422 to the members' 2FA filter, which it shows to organisation owners "
        "only: run the audit as an owner",
        None,
        422,
    )


def organization_admins(state: OrgState, settings: Settings) -> Outcome:
    rule = TooManyAdmins.id
    route = "members?role=admin"
    limit = _option(settings, rule, "max-owners", 5)
    if isinstance(state.owners, Unavailable):
        return _unknown(rule, state.subject, route, "how many owners there are", state.owners)
    assert isinstance(limit, int)
    if len(state.owners) > limit:
        return Outcome(
            rule,
            "fail",
            f"{len(state.owners)} organisation owners, more than {limit}: "
            f"{', '.join(state.owners[:10])}",
            state.subject,
            route,
        )
    return Outcome(rule, "pass", f"{len(state.owners)} organisation owners", state.subject, route)


def repository_admins(state: RepoState, settings: Settings) -> Outcome:
    rule = TooManyAdmins.id
    route = "collaborators?permission=admin"
    limit = _option(settings, rule, "max-repository-admins", 3)
    assert isinstance(limit, int)
    if isinstance(state.admins, Unavailable):
        return _unknown(
            rule, state.subject, route, "how many admins the repository has", state.admins
        )
    owners = set(state.owners) if isinstance(state.owners, list) else set()
    admins = [login for login in state.admins if login not in owners]
    note = "" if owners or not state.owner_is_org else " (organisation owners included)"
    if len(admins) > limit:
        return Outcome(
            rule,
            "fail",
            f"{len(admins)} repository administrators{note}, more than {limit}: "
            f"{', '.join(admins[:10])}",
            state.subject,
            route,
        )
    return Outcome(
        rule, "pass", f"{len(admins)} repository administrators{note}", state.subject, route
    )


def repository_checks(state: RepoState, settings: Settings) -> Iterator[Outcome]:
    yield sha_pinning(state.subject, state.actions, "repository")
    yield default_token(state.subject, state.workflow_permissions, "repository")
    yield default_branch(state)
    yield sensitive_branches(state, settings)
    yield release_tags(state, settings)
    yield release_environment(state, settings)
    yield repository_secrets(state, settings)
    yield repository_immutable(state)
    yield repository_admins(state, settings)


def organization_checks(state: OrgState, settings: Settings) -> Iterator[Outcome]:
    yield sha_pinning(state.subject, state.actions, "organisation")
    yield default_token(state.subject, state.workflow_permissions, "organisation")
    yield organization_secrets(state, settings)
    yield organization_immutable(state)
    yield two_factor(state)
    yield organization_admins(state, settings)
