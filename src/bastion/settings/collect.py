"""Reading a repository's and an organisation's settings through the REST API.

Each repository costs about fifteen REST requests; the rulesets of the organisation, shared
by every repository, are read once per run. The files bastion checks (workflows, Dependabot,
Renovate and pre-commit configuration) come through git's smart HTTP in three requests per
repository whatever their number (ls-refs, the trees of the default branch's head without
blobs, then exactly the blobs wanted); git requests do not count against the REST rate
limit. When git cannot be used (a server with git over HTTP turned off, a token without
Contents read), the contents API is the fallback: one request per directory and per file.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bastion.github.git import GitError, fetch_blobs, fetch_trees, list_refs
from bastion.github.rest import ApiError, RateLimitError, RestClient
from bastion.inputs import DEPENDABOT_PATHS, PRE_COMMIT_PATHS, RENOVATE_PATHS, Kind
from bastion.model.workflow import Fields, Workflow, build_workflow
from bastion.rules.release import job_publishes, release_jobs
from bastion.settings.state import (
    OrgState,
    Read,
    RepoState,
    Unavailable,
    names,
    read,
    read_list,
)
from bastion.source.text import LineIndex
from bastion.source.yaml import MappingNode, ScalarNode, YamlError, parse

WORKFLOW_DIRECTORY = ".github/workflows"
PROTECTED_TYPES = ("non_fast_forward", "deletion", "pull_request")
MAX_WORKFLOW_BYTES = 1024 * 1024
CONFIGURATION_KINDS: dict[str, Kind] = {
    **dict.fromkeys(DEPENDABOT_PATHS, Kind.DEPENDABOT),
    **dict.fromkeys(RENOVATE_PATHS, Kind.RENOVATE),
    **dict.fromkeys(PRE_COMMIT_PATHS, Kind.PRE_COMMIT),
}
"""The configuration files read besides the workflows, by path from the repository's root."""
REGULAR_FILE_MODES = ("100644", "100755")


@dataclass(frozen=True, slots=True)
class Options:
    sensitive_patterns: tuple[str, ...] = ("advisory-*", "internal-*")
    release_environments: tuple[str, ...] = ("release",)


def probe_branch(pattern: str) -> str:
    """A branch name that ``pattern`` (``advisory-*``) matches, to ask for its rules."""
    return pattern.replace("*", "bastion-probe").replace("?", "x")


class RulesetCache:
    """Answers shared by every repository of a run, read once: organisation and enterprise
    rulesets (by id) and the server's ``/meta`` (by name)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: dict[int | str, Read] = {}
        self._pending: dict[int | str, threading.Event] = {}

    def get(self, number: int | str, fetch: Callable[[], Read]) -> Read:
        with self._lock:
            if number in self._found:
                return self._found[number]
            event = self._pending.get(number)
            owner = event is None
            if owner:
                event = self._pending[number] = threading.Event()
        assert event is not None
        if not owner:
            event.wait()
            with self._lock:
                return self._found.get(number)
        value: Read = Unavailable("the ruleset could not be read")
        try:
            value = fetch()
        finally:
            with self._lock:
                self._found[number] = value
                del self._pending[number]
            event.set()
        return value


Gather = Callable[[dict[str, Callable[[], Any]]], dict[str, Any]]


def sequential(tasks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    return {name: task() for name, task in tasks.items()}


def threaded(pool: ThreadPoolExecutor) -> Gather:
    def gather(tasks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        return {name: future.result() for name, future in futures.items()}

    return gather


def repository_meta(client: RestClient, owner: str, name: str) -> dict[str, Any]:
    """``GET /repos/{owner}/{repo}``; raises ApiError when the repository cannot be read."""
    data = client.get(f"/repos/{_q(owner)}/{_q(name)}").data
    if not isinstance(data, dict):
        raise ApiError(200, "GET", f"/repos/{owner}/{name}", "the answer is not a repository")
    return data


def _new_state(meta: dict[str, Any], subject: str) -> tuple[RepoState, str]:
    """The state of the repository ``meta`` describes (nothing read yet), and its REST base
    path."""
    owner = str(meta.get("owner", {}).get("login") or meta["full_name"].split("/")[0])
    name = str(meta["name"])
    default = str(meta.get("default_branch") or "main")
    owner_is_org = meta.get("owner", {}).get("type", "Organization") == "Organization"
    state = RepoState(owner, name, subject, meta, default, owner_is_org)
    return state, f"/repos/{_q(owner)}/{_q(name)}"


def collect_repo(
    client: RestClient,
    subject: str,
    meta: dict[str, Any],
    options: Options,
    *,
    cache: RulesetCache,
    gather: Gather = sequential,
    organization_audit: bool = False,
    owners: list[str] | Unavailable | None = None,
) -> RepoState:
    state, base = _new_state(meta, subject)
    owner, name, default = state.owner, state.name, state.default_branch
    probes = {pattern: probe_branch(pattern) for pattern in options.sensitive_patterns}

    tasks: dict[str, Callable[[], Any]] = {
        "actions": lambda: read(client, f"{base}/actions/permissions"),
        "workflow": lambda: read(client, f"{base}/actions/permissions/workflow"),
        "tags": lambda: read_list(
            client, f"{base}/rulesets", {"includes_parents": "true", "targets": "tag"}
        ),
        "environments": lambda: read_list(client, f"{base}/environments", key="environments"),
        "secrets": lambda: names(read_list(client, f"{base}/actions/secrets", key="secrets")),
        "immutable": lambda: _immutable(client, base, cache),
        "admins": lambda: _logins(
            read_list(
                client, f"{base}/collaborators", {"affiliation": "all", "permission": "admin"}
            )
        ),
        "files": lambda: repository_files(client, owner, name, base, default),
    }
    for branch in (default, *probes.values()):
        tasks[f"rules:{branch}"] = _branch_task(client, base, branch)
    if not organization_audit:
        tasks["organization_secrets"] = lambda: names(
            read_list(client, f"{base}/actions/organization-secrets", key="secrets")
        )
        if state.owner_is_org and owners is None:
            tasks["owners"] = lambda: _logins(
                read_list(client, f"/orgs/{_q(owner)}/members", {"role": "admin"})
            )
    found = gather(tasks)
    state.actions = found["actions"]
    state.workflow_permissions = found["workflow"]
    state.tag_rulesets = found["tags"]
    state.environments = found["environments"]
    state.secrets = found["secrets"]
    state.admins = found["admins"]
    state.workflows, state.configurations = found["files"]
    state.organization_secrets = found.get("organization_secrets")
    state.owners = found.get("owners", owners)
    state.branch_rules = {
        branch: found[f"rules:{branch}"] for branch in (default, *probes.values())
    }
    immutable = found["immutable"]
    if immutable is None:
        # 404: disabled, if the token can read administration settings (the actions policy
        # needs the same permission); else GitHub may be hiding it.
        immutable = (
            False
            if not isinstance(state.actions, Unavailable)
            else Unavailable(
                "GitHub answered 404 to immutable-releases, which means disabled or not "
                "permitted; the token cannot read the repository's administration settings "
                f"either ({state.actions.reason})",
                state.actions.permission or "administration=read",
                404,
            )
        )
    state.immutable = immutable
    if isinstance(state.workflows, dict):
        state.release_environments = release_environments(subject, state.workflows)

    # Second round: what the first answers point at.
    second: dict[str, Callable[[], Any]] = {}
    for number, source_type in _ruleset_ids(state).items():
        second[f"ruleset:{number}"] = _ruleset_task(
            client, base, owner, number, source_type=source_type, cache=cache
        )
    default_rules = state.branch_rules[default]
    if isinstance(default_rules, list):
        present = {rule.get("type") for rule in default_rules if isinstance(rule, dict)}
        if not set(PROTECTED_TYPES) <= present:
            second["protection"] = lambda: read(
                client, f"{base}/branches/{quote(default)}/protection"
            )
    wanted = set(state.release_environments) | set(options.release_environments)
    second.update(_environment_tasks(client, base, state, wanted))
    _second_round(state, gather(second))
    return state


def collect_release_settings(
    client: RestClient,
    subject: str,
    meta: dict[str, Any],
    environments: tuple[str, ...],
    *,
    cache: RulesetCache,
    gather: Gather = sequential,
) -> RepoState:
    """Only what judges a release's tag and environments (``release_tags`` and
    ``release_environment``): the repository's tag rulesets with the details of the active
    ones, its environments, and the branch policies and protection apps of ``environments``.
    Organisation rulesets come from ``cache``: one read per organisation when the cache is
    shared by its repositories."""
    state, base = _new_state(meta, subject)
    owner = state.owner
    found = gather(
        {
            "tags": lambda: read_list(
                client, f"{base}/rulesets", {"includes_parents": "true", "targets": "tag"}
            ),
            "environments": lambda: read_list(client, f"{base}/environments", key="environments"),
        }
    )
    state.tag_rulesets = found["tags"]
    state.environments = found["environments"]
    second: dict[str, Callable[[], Any]] = {
        f"ruleset:{number}": _ruleset_task(
            client, base, owner, number, source_type=source_type, cache=cache
        )
        for number, source_type in _ruleset_ids(state).items()
    }
    second.update(_environment_tasks(client, base, state, set(environments)))
    _second_round(state, gather(second))
    return state


def _environment_tasks(
    client: RestClient, base: str, state: RepoState, wanted: set[str]
) -> dict[str, Callable[[], Any]]:
    """The branch policies and protection apps of the ``wanted`` environments that exist."""
    tasks: dict[str, Callable[[], Any]] = {}
    if not isinstance(state.environments, list):
        return tasks
    existing = {str(env.get("name")): env for env in state.environments}
    for env_name in sorted(wanted & set(existing)):
        env_path = f"{base}/environments/{_q(env_name)}"
        tasks[f"policies:{env_name}"] = _list_task(
            client, f"{env_path}/deployment-branch-policies", "branch_policies"
        )
        tasks[f"apps:{env_name}"] = _list_task(
            client,
            f"{env_path}/deployment_protection_rules",
            "custom_deployment_protection_rules",
        )
    return tasks


def _second_round(state: RepoState, found: dict[str, Any]) -> None:
    for key, value in found.items():
        kind, _, rest = key.partition(":")
        if kind == "ruleset":
            state.ruleset_details[int(rest)] = value
        elif kind == "protection":
            state.protection = value
        elif kind == "policies":
            state.branch_policies[rest] = value
        elif kind == "apps":
            state.protection_apps[rest] = value


def _branch_task(client: RestClient, base: str, branch: str) -> Callable[[], Any]:
    return lambda: read_list(client, f"{base}/rules/branches/{quote(branch)}")


def _list_task(client: RestClient, path: str, key: str) -> Callable[[], Any]:
    return lambda: read_list(client, path, key=key)


def _ruleset_task(
    client: RestClient,
    base: str,
    owner: str,
    number: int,
    *,
    source_type: str,
    cache: RulesetCache,
) -> Callable[[], Any]:
    def fetch() -> Read:
        return read(client, f"{base}/rulesets/{number}", {"includes_parents": "true"})

    if source_type == "Enterprise":
        # The same ruleset from every repository of the enterprise: read it once.
        return lambda: cache.get(number, fetch)
    if source_type != "Organization":
        return fetch

    def fetch_from_organization() -> Read:
        # The organisation's own endpoint: the same URL from every repository, so the ETag
        # cache serves it. It needs the permission that reveals bypass actors; without it,
        # the repository's view still shows the rules and conditions.
        found = read(client, f"/orgs/{_q(owner)}/rulesets/{number}")
        return fetch() if isinstance(found, Unavailable) else found

    return lambda: cache.get(number, fetch_from_organization)


def _ruleset_ids(state: RepoState) -> dict[int, str]:
    """The rulesets whose bypass actors the checks need, with their source type."""
    found: dict[int, str] = {}
    for rules in state.branch_rules.values():
        if isinstance(rules, list):
            for rule in rules:
                if isinstance(rule, dict) and isinstance(rule.get("ruleset_id"), int):
                    found[rule["ruleset_id"]] = str(rule.get("ruleset_source_type", ""))
    if isinstance(state.tag_rulesets, list):
        for ruleset in state.tag_rulesets:
            if (
                isinstance(ruleset, dict)
                and ruleset.get("enforcement") == "active"
                and isinstance(ruleset.get("id"), int)
            ):
                found[ruleset["id"]] = str(ruleset.get("source_type", ""))
    return found


def _immutable(client: RestClient, base: str, cache: RulesetCache) -> bool | Unavailable | None:
    """True when enabled, None for a 404 (disabled or hidden), else Unavailable.

    On Enterprise Server a 404 may also mean that the server has no such endpoint (older
    versions): that is unknown, and says which version ``/meta`` reports."""
    try:
        data = client.get(f"{base}/immutable-releases").data
    except RateLimitError:
        raise
    except ApiError as error:
        version = server_version(client, cache) if error.status == 404 else None
        if version is not None:
            return Unavailable(
                f"GitHub Enterprise Server {version} answered 404 "
                "to immutable-releases: the server may not offer immutable releases, or it "
                "hides the setting from the token; check the server's release notes",
                error.permission,
                404,
            )
        if error.status == 404:
            return None
        return Unavailable.from_error(error)
    return bool(isinstance(data, dict) and data.get("enabled"))


def server_version(client: RestClient, cache: RulesetCache) -> str | None:
    """``installed_version`` of ``GET /meta``, which only Enterprise Server reports; read
    once a run, and not asked of github.com or ``*.ghe.com``."""
    if not client.host.is_server:
        return None
    found = cache.get("meta", lambda: read(client, "/meta"))
    version = found.get("installed_version") if isinstance(found, dict) else None
    return str(version) if version else None


def _logins(items: list[Any] | Unavailable) -> list[str] | Unavailable:
    if isinstance(items, Unavailable):
        return items
    return [str(item.get("login")) for item in items if isinstance(item, dict)]


Files = dict[str, bytes] | Unavailable


def repository_files(
    client: RestClient, owner: str, name: str, base: str, branch: str
) -> tuple[Files, Files]:
    """The workflows and the configuration files of the default branch, by path."""
    for attempt in (1, 2):
        try:
            return _files_by_git(client, owner, name, branch)
        except GitError as error:
            if error.status != 0 or attempt == 2:
                break  # Git over HTTP refused or unavailable: the contents API can answer.
            # No HTTP answer at all (a reset connection): once more before falling back.
    workflows = workflow_files(client, base, branch)
    return workflows, _configurations(client, base, branch)


def _files_by_git(
    client: RestClient, owner: str, name: str, branch: str
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    refs = list_refs(client.git, owner, name)
    commit = refs.heads.get(branch)
    if commit is None:
        return {}, {}  # An empty repository.
    snapshot = fetch_trees(client.git, owner, name, [commit])[commit]
    wanted = {
        path: blob
        for path, (mode, blob) in snapshot.files.items()
        if mode in REGULAR_FILE_MODES and (_is_workflow(path) or path in CONFIGURATION_KINDS)
    }
    blobs = fetch_blobs(client.git, owner, name, wanted.values())
    workflows: dict[str, bytes] = {}
    configurations: dict[str, bytes] = {}
    for path, blob in sorted(wanted.items()):
        data = blobs[blob]
        if len(data) > MAX_WORKFLOW_BYTES:
            continue
        (workflows if _is_workflow(path) else configurations)[path] = data
    return workflows, configurations


def _is_workflow(path: str) -> bool:
    """A file GitHub runs as a workflow: directly in ``.github/workflows``, YAML."""
    directory, _, file_name = path.rpartition("/")
    return directory == WORKFLOW_DIRECTORY and file_name.endswith((".yml", ".yaml"))


def workflow_files(client: RestClient, base: str, branch: str) -> Files:
    """The workflow files at ``branch`` (a branch or a full ref), by path, from the contents
    API."""
    listing = _listing(client, base, WORKFLOW_DIRECTORY, branch)
    if isinstance(listing, Unavailable):
        return listing
    paths = [path for path, size in listing.items() if _is_workflow(path)]
    return _contents(client, base, branch, [p for p in paths if listing[p] <= MAX_WORKFLOW_BYTES])


def _configurations(client: RestClient, base: str, branch: str) -> Files:
    """The configuration files, from the listings of the directories that may hold them."""
    directories = sorted({path.rpartition("/")[0] for path in CONFIGURATION_KINDS})
    present: list[str] = []
    for directory in directories:
        listing = _listing(client, base, directory, branch)
        if isinstance(listing, Unavailable):
            return listing
        present.extend(
            path
            for path, size in listing.items()
            if path in CONFIGURATION_KINDS and size <= MAX_WORKFLOW_BYTES
        )
    return _contents(client, base, branch, sorted(present))


def _listing(
    client: RestClient, base: str, directory: str, branch: str
) -> dict[str, int] | Unavailable:
    """The files of a directory (path -> size); empty when it does not exist."""
    try:
        where = f"{base}/contents" + (f"/{quote(directory)}" if directory else "")
        listing = client.get(where, {"ref": branch}).data
    except RateLimitError:
        raise
    except ApiError as error:
        if error.status == 404:
            # No such directory (or an empty repository). GitHub sends
            # X-Accepted-GitHub-Permissions on every answer to fine-grained tokens, so the
            # header does not mean a denial; a token without Contents read gets 403.
            return {}
        return Unavailable.from_error(error)
    if not isinstance(listing, list):
        return {}
    return {
        str(entry.get("path", "")): int(entry.get("size") or 0)
        for entry in listing
        if isinstance(entry, dict) and entry.get("type") == "file"
    }


def _contents(client: RestClient, base: str, branch: str, paths: list[str]) -> Files:
    files: dict[str, bytes] = {}
    for path in paths:
        try:
            data = client.get(f"{base}/contents/{quote(path)}", {"ref": branch}).data
        except RateLimitError:
            raise
        except ApiError as error:
            return Unavailable.from_error(error)
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, str) or data.get("encoding") != "base64":
            continue
        try:
            files[path] = base64.b64decode(content)
        except (binascii.Error, ValueError):
            continue
    return files


def release_environments(subject: str, workflows: dict[str, bytes]) -> dict[str, list[str]]:
    """Environments named by jobs that publish or release, with those jobs."""
    found: dict[str, list[str]] = {}
    for path, data in sorted(workflows.items()):
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
            lines = LineIndex(text)
            workflow = build_workflow(f"{subject}/{path}", parse(text), lines)
        except (UnicodeDecodeError, YamlError, RecursionError):
            continue
        for job in _publishing_jobs(workflow):
            environment = environment_name(job.fields)
            if environment and "${{" not in environment:
                found.setdefault(environment, []).append(f"{path}: {job.job_id}")
    return found


def _publishing_jobs(workflow: Workflow) -> list[Any]:
    try:
        releasing = {entry.job.job_id for entry in release_jobs(workflow)}
    except Exception:
        releasing = set()
    jobs = []
    for job in workflow.jobs:
        try:
            publishes = bool(job_publishes(workflow, job))
        except Exception:
            publishes = False
        if publishes or job.job_id in releasing:
            jobs.append(job)
    return jobs


def environment_name(fields: Fields) -> str | None:
    value = fields.get("environment")
    if isinstance(value, MappingNode):
        value = Fields(value).get("name")
    if isinstance(value, ScalarNode):
        text = str(value.value).strip()
        return text or None
    return None


def collect_org(client: RestClient, login: str, subject: str, gather: Gather) -> OrgState:
    base = f"/orgs/{_q(login)}"
    tasks: dict[str, Callable[[], Any]] = {
        "meta": lambda: read(client, base),
        "actions": lambda: read(client, f"{base}/actions/permissions"),
        "workflow": lambda: read(client, f"{base}/actions/permissions/workflow"),
        "immutable": lambda: read(client, f"{base}/settings/immutable-releases"),
        "secrets": lambda: read_list(client, f"{base}/actions/secrets", key="secrets"),
        "owners": lambda: _logins(read_list(client, f"{base}/members", {"role": "admin"})),
        "2fa_disabled": lambda: _logins(
            read_list(client, f"{base}/members", {"filter": "2fa_disabled"})
        ),
        "2fa_insecure": lambda: _logins(
            read_list(client, f"{base}/members", {"filter": "2fa_insecure"})
        ),
    }
    found = gather(tasks)
    state = OrgState(login, subject)
    state.meta = found["meta"]
    state.actions = found["actions"]
    state.workflow_permissions = found["workflow"]
    state.immutable = found["immutable"]
    if isinstance(state.immutable, Unavailable) and state.immutable.status == 404:
        version = server_version(client, RulesetCache())
        if version is not None:
            state.immutable = Unavailable(
                f"GitHub Enterprise Server {version} answered 404 to "
                "settings/immutable-releases: the server may not offer immutable releases, "
                "or it hides the setting from the token; check the server's release notes",
                state.immutable.permission,
                404,
            )
    state.secrets = found["secrets"]
    state.owners = found["owners"]
    state.two_factor_disabled = found["2fa_disabled"]
    state.two_factor_insecure = found["2fa_insecure"]
    return state


def _q(part: str) -> str:
    return quote(part, safe="")
