"""What the audit reads from GitHub: one value per endpoint, or why it could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.github.rest import ApiError, RateLimitError, RestClient, permission_sets


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A value the token could not read; the checks that need it end ``unknown``."""

    reason: str
    """A sentence fragment: what GitHub answered and what the token needs."""
    permission: str | None = None
    status: int = 0

    @classmethod
    def from_error(cls, error: ApiError) -> Unavailable:
        """What GitHub answered and what the endpoint needs. GitHub sends
        ``X-Accepted-GitHub-Permissions`` on every answer to fine-grained tokens, so the
        header names the requirement; only the status says whether it was refused."""
        if error.status == 0:
            return cls(error.message, None, 0)
        needs = []
        if error.permission:
            needs.append(f"the fine-grained permission {_permissions(error.permission)}")
        if error.scopes:
            # X-Accepted-OAuth-Scopes lists the scopes of which any one is accepted.
            scopes = [scope.strip() for scope in error.scopes.split(",") if scope.strip()]
            named = ", ".join(f"`{scope}`" for scope in scopes)
            needs.append(
                f"the classic scope {named}"
                if len(scopes) == 1
                else f"one of the classic scopes {named}"
            )
        endpoint = error.endpoint.split("?", 1)[0]
        text = f"GitHub answered {error.status} to {endpoint}"
        if error.status in (401, 403, 404) and needs:
            text += f" (the endpoint needs {' or '.join(needs)})"
        elif error.status in (403, 404):
            text += " (the token lacks a permission, or the resource is hidden from it)"
        elif 300 <= error.status < 400:
            text += f": {error.message}"
        return cls(text, error.permission, error.status)


def _permissions(header: str) -> str:
    return (
        " or ".join("`" + ", ".join(needed) + "`" for needed in permission_sets(header))
        or f"`{header}`"
    )


Read = Any
"""A parsed JSON value, or ``Unavailable``."""


def read(client: RestClient, path: str, params: dict[str, str | int] | None = None) -> Read:
    """GET one resource; errors other than exhausted rate limits become ``Unavailable``."""
    try:
        return client.get(path, params).data
    except RateLimitError:
        raise
    except ApiError as error:
        return Unavailable.from_error(error)


def read_list(
    client: RestClient,
    path: str,
    params: dict[str, str | int] | None = None,
    *,
    key: str | None = None,
) -> list[Any] | Unavailable:
    """Every item of a list endpoint, or ``Unavailable``."""
    try:
        return list(client.paginate(path, params, key=key))
    except RateLimitError:
        raise
    except ApiError as error:
        return Unavailable.from_error(error)


def names(items: list[Any] | Unavailable) -> list[str] | Unavailable:
    if isinstance(items, Unavailable):
        return items
    return [str(item.get("name", "")) for item in items if isinstance(item, dict)]


@dataclass(slots=True)
class RepoState:
    """Everything the repository checks read, as GitHub answered it."""

    owner: str
    name: str
    subject: str
    """How findings name the repository: ``github.com/OWNER/REPO``."""
    meta: dict[str, Any]
    default_branch: str
    owner_is_org: bool
    actions: Read = None
    workflow_permissions: Read = None
    branch_rules: dict[str, list[Any] | Unavailable] = field(default_factory=dict)
    """Effective rules of a branch (``rules/branches/{branch}``), by branch name."""
    tag_rulesets: list[Any] | Unavailable = field(default_factory=list)
    ruleset_details: dict[int, Read] = field(default_factory=dict)
    protection: Read = None
    """Classic protection of the default branch; None when not read or not present."""
    environments: list[Any] | Unavailable = field(default_factory=list)
    branch_policies: dict[str, list[Any] | Unavailable] = field(default_factory=dict)
    protection_apps: dict[str, list[Any] | Unavailable] = field(default_factory=dict)
    secrets: list[str] | Unavailable = field(default_factory=list)
    organization_secrets: list[str] | Unavailable | None = None
    """Organisation secrets the repository sees; None in an organisation audit, which judges
    the organisation's secrets once."""
    immutable: bool | Unavailable = False
    admins: list[str] | Unavailable = field(default_factory=list)
    owners: list[str] | Unavailable | None = None
    """The organisation's owners, not counted as repository admins."""
    workflows: dict[str, bytes] | Unavailable = field(default_factory=dict)
    configurations: dict[str, bytes] | Unavailable = field(default_factory=dict)
    """Dependabot, Renovate and pre-commit configuration files, by path."""
    release_environments: dict[str, list[str]] = field(default_factory=dict)
    """Environments named by publishing jobs, with the jobs (``workflow.yml: job``)."""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(slots=True)
class OrgState:
    login: str
    subject: str
    meta: Read = None
    actions: Read = None
    workflow_permissions: Read = None
    immutable: Read = None
    secrets: list[Any] | Unavailable = field(default_factory=list)
    owners: list[str] | Unavailable = field(default_factory=list)
    two_factor_disabled: list[str] | Unavailable = field(default_factory=list)
    two_factor_insecure: list[str] | Unavailable = field(default_factory=list)
