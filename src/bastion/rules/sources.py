"""Where each rule's facts come from: GitHub's documentation, the registries' and the tools'
own documentation, or the files of the actions a rule knows. `bastion explain` prints them
under "Sources"; tests/test_docs_explain.py checks that every rule has some."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

_DOCS: Final = "https://docs.github.com/en"
_ACTIONS: Final = f"{_DOCS}/actions/reference"
_REST: Final = f"{_DOCS}/rest"

_SECURE_USE: Final = ("GitHub Docs, Secure use reference", f"{_ACTIONS}/security/secure-use")
_PULL_REQUEST_TARGET: Final = (
    "GitHub Docs, Securely using pull_request_target",
    f"{_ACTIONS}/security/securely-using-pull_request_target",
)
_EVENTS: Final = (
    "GitHub Docs, Events that trigger workflows",
    f"{_ACTIONS}/workflows-and-actions/events-that-trigger-workflows",
)
_WORKFLOW_SYNTAX: Final = (
    "GitHub Docs, Workflow syntax",
    f"{_ACTIONS}/workflows-and-actions/workflow-syntax",
)
_METADATA_SYNTAX: Final = (
    "GitHub Docs, Metadata syntax reference (action.yml)",
    f"{_ACTIONS}/workflows-and-actions/metadata-syntax",
)
_ENVIRONMENTS: Final = (
    "GitHub Docs, Deployments and environments",
    f"{_ACTIONS}/workflows-and-actions/deployments-and-environments",
)
_SECRETS: Final = ("GitHub Docs, Secrets reference", f"{_ACTIONS}/security/secrets")
_TOKEN: Final = (
    "GitHub Docs, Workflow syntax: permissions",
    f"{_ACTIONS}/workflows-and-actions/workflow-syntax#permissions",
)
_TOKEN_TUTORIAL: Final = (
    "GitHub Docs, Use GITHUB_TOKEN for authentication in workflows",
    f"{_DOCS}/actions/tutorials/authenticate-with-github_token",
)
_SCRIPT_INJECTIONS: Final = (
    "GitHub Docs, Script injections",
    f"{_DOCS}/actions/concepts/security/script-injections",
)
_WORKFLOW_COMMANDS: Final = (
    "GitHub Docs, Workflow commands (environment files)",
    f"{_ACTIONS}/workflows-and-actions/workflow-commands",
)
_OIDC: Final = ("GitHub Docs, OpenID Connect reference", f"{_ACTIONS}/security/oidc")
_ATTESTATIONS: Final = (
    "GitHub Docs, Artifact attestations",
    f"{_DOCS}/actions/concepts/security/artifact-attestations",
)
_IMMUTABLE_RELEASES: Final = (
    "GitHub Docs, Immutable releases",
    f"{_DOCS}/code-security/concepts/supply-chain-security/immutable-releases",
)
_RULESETS: Final = (
    "GitHub Docs, About rulesets",
    f"{_DOCS}/repositories/configuring-branches-and-merges-in-your-repository/"
    "managing-rulesets/about-rulesets",
)
_REST_RULES: Final = ("GitHub REST API, Repository rules", f"{_REST}/repos/rules")
_REST_PERMISSIONS: Final = (
    "GitHub REST API, GitHub Actions permissions",
    f"{_REST}/actions/permissions",
)
_REST_ENVIRONMENTS: Final = (
    "GitHub REST API, Deployment environments",
    f"{_REST}/deployments/environments",
)
_REST_RELEASES: Final = ("GitHub REST API, Releases", f"{_REST}/releases/releases")
_REST_ATTESTATIONS: Final = (
    "GitHub REST API, Repository attestations",
    f"{_REST}/repos/attestations",
)
_DEPENDABOT_OPTIONS: Final = (
    "GitHub Docs, Dependabot options reference",
    f"{_DOCS}/code-security/dependabot/working-with-dependabot/dependabot-options-reference",
)
_RENOVATE_OPTIONS: Final = (
    "Renovate documentation, Configuration options",
    "https://docs.renovatebot.com/configuration-options/",
)
_LOCKFILE_FORMAT: Final = (
    "github/actions-lockfile (the format and GitHub's parser)",
    "https://github.com/github/actions-lockfile",
)
_LOCKFILE_WRITER: Final = (
    "github/gh-actions-lock (GitHub's writer and checker)",
    "https://github.com/github/gh-actions-lock",
)
_GIT_PROTOCOL: Final = ("git, protocol v2 (ls-refs, fetch)", "https://git-scm.com/docs/protocol-v2")
# The registries' own pages are cited by title: no file here names a registry's host.
_TRUSTED_PUBLISHERS: Final = ('PyPI\'s documentation, "Trusted Publishers"', "")
_NPM_TRUSTED: Final = ('npm\'s documentation, "Trusted publishing for npm packages"', "")
_NPM_PROVENANCE: Final = ('npm\'s documentation, "Generating provenance statements"', "")
_PEP_740: Final = (
    "PEP 740, Index support for digital attestations",
    "https://peps.python.org/pep-0740/",
)
_PYPI_INTEGRITY: Final = ('PyPI\'s documentation, "Integrity API"', "")
_FULCIO_OIDS: Final = (
    "Sigstore Fulcio, certificate extension OIDs",
    "https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md",
)
_CACHING: Final = (
    "GitHub Docs, Dependency caching reference",
    f"{_ACTIONS}/workflows-and-actions/dependency-caching",
)
_CACHE_MODE: Final = (
    "GitHub changelog, cache-mode",
    "https://github.blog/changelog/2026-09-10-control-github-actions-cache-access-with-cache-mode",
)
_CHECKOUT: Final = (
    "actions/checkout, action.yml (`persist-credentials`, default true)",
    "https://github.com/actions/checkout/blob/main/action.yml",
)
_KNOWLEDGE: Final = (
    "the action files cited in bastion's knowledge base (each entry's `source`)",
    "src/bastion/knowledge/actions.toml",
)

Source = tuple[str, str]
"""A title and where to read it: a web address, a file of this repository, or "" when the
title alone names it."""

SOURCES: Final[Mapping[str, tuple[Source, ...]]] = {
    "dangerous-trigger": (_EVENTS, _PULL_REQUEST_TARGET, _TOKEN_TUTORIAL),
    "untrusted-checkout": (_PULL_REQUEST_TARGET, _SECURE_USE, _CHECKOUT),
    "unpinned-action": (
        _SECURE_USE,
        _WORKFLOW_SYNTAX,
        _LOCKFILE_WRITER,
        ("docs/lockfile.md (what GitHub's lockfile covers)", "docs/lockfile.md"),
    ),
    "stale-lock-entry": (_LOCKFILE_FORMAT, _LOCKFILE_WRITER),
    "unpinned-image": (_WORKFLOW_SYNTAX, _METADATA_SYNTAX),
    "impostor-commit": (_SECURE_USE, _GIT_PROTOCOL),
    "version-comment-mismatch": (_SECURE_USE, _GIT_PROTOCOL),
    "unknown-ref": (_WORKFLOW_SYNTAX, _GIT_PROTOCOL),
    "lock-drift": (_LOCKFILE_FORMAT, _LOCKFILE_WRITER),
    "lock-identity": (_LOCKFILE_FORMAT, _LOCKFILE_WRITER),
    "excessive-permissions": (_TOKEN, _TOKEN_TUTORIAL, _SECURE_USE),
    "secret-outside-environment": (_SECRETS, _ENVIRONMENTS),
    "secrets-inherit": (
        (
            "GitHub Docs, Workflow syntax: jobs.<job_id>.secrets.inherit",
            f"{_ACTIONS}/workflows-and-actions/workflow-syntax#jobsjob_idsecretsinherit",
        ),
    ),
    "hardcoded-credential": (_WORKFLOW_SYNTAX, _SECRETS),
    "template-injection": (_SCRIPT_INJECTIONS, _SECURE_USE, _METADATA_SYNTAX),
    "env-file-injection": (_WORKFLOW_COMMANDS, _SCRIPT_INJECTIONS),
    "persisted-credentials": (_CHECKOUT, _SECURE_USE),
    "release-cache": (_CACHING, _CACHE_MODE, _KNOWLEDGE),
    "stored-publish-credential": (_TRUSTED_PUBLISHERS, _NPM_TRUSTED, _OIDC, _KNOWLEDGE),
    "publish-outside-environment": (_ENVIRONMENTS, _TRUSTED_PUBLISHERS),
    "missing-provenance": (_ATTESTATIONS, _NPM_PROVENANCE, _PEP_740),
    "unverified-download": (_SECURE_USE, _KNOWLEDGE),
    "nested-mutable-uses": (_METADATA_SYNTAX, _SECURE_USE),
    "unresolved-uses": (
        _WORKFLOW_SYNTAX,
        (
            "GitHub Docs, Reusable workflows (limitations)",
            f"{_ACTIONS}/workflows-and-actions/reusing-workflow-configurations",
        ),
    ),
    "nested-unverified-download": (_METADATA_SYNTAX, _KNOWLEDGE),
    "mutable-docker-image": (
        _METADATA_SYNTAX,
        (
            "GitHub Docs, Dockerfile support for GitHub Actions",
            f"{_ACTIONS}/workflows-and-actions/dockerfile-support",
        ),
    ),
    "latest-version-default": (_METADATA_SYNTAX, _KNOWLEDGE),
    "no-dependency-updater": (_DEPENDABOT_OPTIONS, _RENOVATE_OPTIONS),
    "updater-cooldown": (
        _DEPENDABOT_OPTIONS,
        (
            "Renovate, minimumReleaseAge",
            "https://docs.renovatebot.com/configuration-options/#minimumreleaseage",
        ),
    ),
    "actions-not-updated": (_DEPENDABOT_OPTIONS, _RENOVATE_OPTIONS),
    "updater-code-execution": (_DEPENDABOT_OPTIONS,),
    "unpinned-pre-commit": (
        ("pre-commit, autoupdate --freeze", "https://pre-commit.com/#pre-commit-autoupdate"),
    ),
    "syntax-error": (_WORKFLOW_SYNTAX, _METADATA_SYNTAX, _DEPENDABOT_OPTIONS, _LOCKFILE_FORMAT),
    "sha-pinning-not-required": (
        _REST_PERMISSIONS,
        (
            "GitHub changelog, Actions policy supports blocking and SHA pinning actions",
            "https://github.blog/changelog/2025-08-15-github-actions-policy-now-supports-blocking-and-sha-pinning-actions/",
        ),
    ),
    "writable-default-token": (_REST_PERMISSIONS, _TOKEN_TUTORIAL),
    "unprotected-default-branch": (_RULESETS, _REST_RULES),
    "unrestricted-sensitive-branches": (_RULESETS, _REST_RULES),
    "mutable-release-tags": (_RULESETS, _REST_RULES),
    "unprotected-release-environment": (_ENVIRONMENTS, _REST_ENVIRONMENTS),
    "publish-secret-outside-environment": (
        _SECRETS,
        ("GitHub REST API, GitHub Actions secrets", f"{_REST}/actions/secrets"),
        _TRUSTED_PUBLISHERS,
    ),
    "mutable-releases": (_IMMUTABLE_RELEASES,),
    "weak-org-2fa": (
        (
            "GitHub Docs, Requiring two-factor authentication in your organization",
            f"{_DOCS}/organizations/keeping-your-organization-secure/"
            "managing-two-factor-authentication-for-your-organization/"
            "requiring-two-factor-authentication-in-your-organization",
        ),
        ("GitHub REST API, Organizations", f"{_REST}/orgs/orgs"),
    ),
    "too-many-admins": (
        ("GitHub REST API, Organization members", f"{_REST}/orgs/members"),
        ("GitHub REST API, Collaborators", f"{_REST}/collaborators/collaborators"),
    ),
    "release-tag": (
        ("GitHub REST API, Git references", f"{_REST}/git/refs"),
        ("GitHub REST API, Commits (compare two commits)", f"{_REST}/commits/commits"),
    ),
    "release-tag-protection": (_RULESETS, _REST_RULES),
    "release-immutable": (_IMMUTABLE_RELEASES, _REST_RELEASES),
    "release-asset-digest": (("GitHub REST API, Release assets", f"{_REST}/releases/assets"),),
    "release-attestation": (_REST_ATTESTATIONS, _ATTESTATIONS, _FULCIO_OIDS),
    "release-workflow": (_ATTESTATIONS, _FULCIO_OIDS),
    "registry-provenance": (_PEP_740, _PYPI_INTEGRITY, _NPM_PROVENANCE),
    "registry-environment": (_TRUSTED_PUBLISHERS, _ENVIRONMENTS),
}
