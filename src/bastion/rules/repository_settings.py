"""Rules about a repository's or an organisation's settings, read through the GitHub API.

They check no file: `bastion repo` and `bastion org` collect the settings and the checks of
``bastion.settings.checks`` judge them, each ending pass, fail or unknown. These classes give
the checks their ids, documentation (`bastion explain`) and options.
"""

from __future__ import annotations

from bastion.findings import Area, Confidence, Severity
from bastion.rules.base import Option, Rule


class SettingsRule(Rule):
    """A check of settings; it yields nothing for workflow or action files."""

    area = Area.REPOSITORY
    confidence = Confidence.HIGH
    checks_files = False


class ShaPinningNotRequired(SettingsRule):
    """Flags an organisation or repository whose Actions policy does not require actions to be
    pinned to a full-length commit SHA (`sha_pinning_required` is off).

    Read from `GET /orgs/{org}/actions/permissions` and
    `GET /repos/{owner}/{repo}/actions/permissions`.

    ## Why it matters
    With the policy on, GitHub refuses to run a workflow that uses an action by tag or branch,
    including actions used by other actions, which no file-level check can see. The playbook
    (CI/CD controls C2 and C3) treats it as the hard gate behind the static checks.

    ## Example
    ```json
    {"enabled": true, "allowed_actions": "all", "sha_pinning_required": false}
    ```

    ## How to fix
    Settings → Actions → General → "Require actions to be pinned to a full-length commit SHA",
    at the organisation level; or `bastion apply --org ORG`. Pin the existing workflows first, or
    they stop running.
    """

    id = "sha-pinning-not-required"
    summary = "Actions policy does not require SHA-pinned actions"
    severity = Severity.MEDIUM


class WritableDefaultToken(SettingsRule):
    """Flags an organisation or repository whose default `GITHUB_TOKEN` can write
    (`default_workflow_permissions: write`), or that lets GitHub Actions approve pull requests
    (`can_approve_pull_request_reviews: true`).

    Read from `GET /orgs/{org}/actions/permissions/workflow` and
    `GET /repos/{owner}/{repo}/actions/permissions/workflow`.

    ## Why it matters
    Every workflow that does not set `permissions:` gets the default token. A write default
    turns any compromised step into a push to the repository; letting Actions approve pull
    requests lets a workflow satisfy the review requirement of the default branch by itself.
    The playbook (C5) defaults to read-only at the organisation level.

    ## Example
    ```json
    {"default_workflow_permissions": "write", "can_approve_pull_request_reviews": true}
    ```

    ## How to fix
    Settings → Actions → General → Workflow permissions: "Read repository contents and
    packages permissions", and untick "Allow GitHub Actions to create and approve pull
    requests"; or `bastion apply`. Jobs that need more ask for it with `permissions:`.
    """

    id = "writable-default-token"
    summary = "default GITHUB_TOKEN can write or approve pull requests"
    severity = Severity.MEDIUM


class UnprotectedDefaultBranch(SettingsRule):
    """Flags a default branch that no active ruleset protects with `non_fast_forward`,
    `deletion` and `pull_request`, or whose rulesets let administrators or a repository role
    bypass them.

    The effective rules come from `GET /repos/{owner}/{repo}/rules/branches/{branch}` (rules
    of every level, active only), and the bypass actors from each ruleset that provides them.
    Bypass by `OrganizationAdmin`, `RepositoryRole`, `EnterpriseOwner` or `EnterpriseRole`, or in
    `exempt` mode, defeats the rule. Enterprise and organisation rulesets count alike;
    protection by repository rulesets only is reported with low severity when the owner is an
    organisation: repository admins can edit those. Classic branch protection alone fails:
    repository admins can change it. Ref patterns match as GitHub's do (`*` stops at `/`).

    ## Why it matters
    The playbook (R3, R7) forbids force pushes to `main` and requires every change to go through
    a pull request, enforced at the organisation level so that a compromised repository admin
    cannot switch it off.

    ## Example
    ```json
    {"name": "main", "target": "branch", "enforcement": "active",
     "bypass_actors": [{"actor_type": "RepositoryRole", "actor_id": 5, "bypass_mode": "always"}],
     "rules": [{"type": "non_fast_forward"}]}
    ```

    ## How to fix
    Create an organisation ruleset targeting `~DEFAULT_BRANCH` of all repositories, with the
    rules `deletion`, `non_fast_forward` and `pull_request` and no bypass actors. `bastion apply
    --org ORG` creates it from the template `default-branch.json`.
    """

    id = "unprotected-default-branch"
    summary = "default branch not protected by a ruleset without admin bypass"
    severity = Severity.HIGH


class UnrestrictedSensitiveBranches(SettingsRule):
    """Flags a repository where branches named `advisory-*` or `internal-*` can be created:
    the effective rules of such a branch (`GET /repos/{owner}/{repo}/rules/branches/advisory-x`)
    hold no `creation` rule, or only one that administrators may bypass.

    ## Why it matters
    Security fixes are prepared in private forks and advisories. A branch pushed to the public
    repository by mistake discloses the vulnerability before the fix ships. The playbook (R4)
    forbids these branch names.

    ## Example
    No ruleset with `{"type": "creation"}` includes `refs/heads/advisory-*`.

    ## How to fix
    An organisation ruleset with a `creation` rule including `refs/heads/advisory-*` and
    `refs/heads/internal-*`, and no bypass actors: `bastion apply` creates it from
    `forbidden-branches.json`.
    """

    id = "unrestricted-sensitive-branches"
    summary = "advisory-* and internal-* branches can be created"
    severity = Severity.MEDIUM
    options = (
        Option(
            "patterns",
            ("advisory-*", "internal-*"),
            "branch name patterns whose creation must be blocked",
        ),
    )


class MutableReleaseTags(SettingsRule):
    """Flags a repository whose release tags can be moved, deleted or created by anyone who can
    push: no active tag ruleset covering them has both `update` and `deletion` rules and a
    creation gate, either `required_deployments` on a release environment or `creation` with only
    the release identity (a GitHub App, `Integration`, or a deploy key) allowed to bypass.

    Tag rulesets come from `GET /repos/{owner}/{repo}/rulesets?targets=tag` and each active one
    in detail; a ruleset covers release tags when its `ref_name` conditions match `v1.2.3` or
    `1.2.3` (the `tag-examples` option).

    ## Why it matters
    A tag that moves changes what every user who pinned it runs: the Trivy compromise
    force-pushed existing tags. The playbook (R5, L8) makes tags immutable and lets them be
    created only after the release deployment, which needs another person's approval.

    ## Example
    ```json
    {"target": "tag", "conditions": {"ref_name": {"include": ["refs/tags/v*"]}},
     "rules": [{"type": "deletion"}]}
    ```

    ## How to fix
    A tag ruleset over `~ALL` tags (or your release pattern) with `update`, `deletion` and
    `required_deployments: ["release"]`: `bastion apply --repo` creates it from
    `release-tags.json`. `bastion apply --org` puts `required_deployments` in an organisation
    ruleset of its own (GitHub's API description lists the rule for organisation rulesets), or,
    with `--release-app-id`, uses `creation` with the release App as the only bypass actor.
    """

    id = "mutable-release-tags"
    summary = "release tags can be moved, deleted or created without the release gate"
    severity = Severity.HIGH
    options = (
        Option("tag-examples", ("v1.2.3", "1.2.3"), "tag names a release tag ruleset must cover"),
        Option(
            "environments",
            ("release",),
            "environments whose deployment gates the creation of release tags",
        ),
    )


class UnprotectedReleaseEnvironment(SettingsRule):
    """Flags a release environment without two-person approval or limited to other branches
    than the default one: it lacks a `required_reviewers` rule (or a custom deployment protection
    App), `prevent_self_review`, `can_admins_bypass: false`, or a deployment branch policy that
    allows the default branch only.

    The environments checked are those named by jobs that publish (as the release rules see
    them in the repository's workflows) and those named in the `environments` option that
    exist. Read from `GET /repos/{owner}/{repo}/environments/{name}` and its
    `deployment-branch-policies`. GitHub does not document `can_admins_bypass`; when it is
    absent the check is unknown.

    ## Why it matters
    The release environment holds the publishing credentials and the right to mint OIDC tokens
    for Trusted Publishing. The playbook (L5, L6, R6) requires another privileged member to
    approve each release, admins not to skip that, and releases to come from `main` only.

    ## Example
    ```json
    {"name": "release", "protection_rules": [], "deployment_branch_policy": null,
     "can_admins_bypass": true}
    ```

    ## How to fix
    Settings → Environments → release: required reviewers with "Prevent self-review", untick
    "Allow administrators to bypass", and "Selected branches and tags" with the default branch
    only. `bastion apply --release-reviewer team:SLUG` does it.
    """

    id = "unprotected-release-environment"
    summary = "release environment without reviewers, admin lock or branch limit"
    severity = Severity.HIGH
    options = (
        Option(
            "environments",
            ("release",),
            "environment names treated as release environments when they exist",
        ),
    )


class PublishSecretOutsideEnvironment(SettingsRule):
    """Flags repository or organisation Actions secrets whose names look like publishing
    credentials: registry tokens (`PYPI_TOKEN`, `NPM_TOKEN`, `CARGO_REGISTRY_TOKEN`, Docker Hub,
    RubyGems, NuGet, Maven Central) and personal access tokens (`*_PAT`, `GH_PAT`).

    Read from `GET /repos/{owner}/{repo}/actions/secrets`, the organisation secrets a repository
    sees (`/actions/organization-secrets`) and `GET /orgs/{org}/actions/secrets`. Secret values
    are never readable; only names are judged.

    ## Why it matters
    A repository or organisation secret is available to every workflow of the repository, so a
    compromised test dependency can read it. Stored in a protected environment it reaches only
    the jobs that name the environment, after approval (playbook C6, L5, L10). Better still,
    Trusted Publishing needs no stored token at all (L1).

    ## Example
    `PYPI_TOKEN` as a repository secret.

    ## How to fix
    Move the secret to the `release` environment (or replace it with Trusted Publishing) and
    delete the repository or organisation copy.
    """

    id = "publish-secret-outside-environment"
    summary = "publishing credential stored as a repository or organisation secret"
    severity = Severity.HIGH
    options = (
        Option(
            "patterns",
            (
                r"PYPI",
                r"TWINE",
                r"NPM",
                r"CARGO",
                r"CRATES",
                r"DOCKER(HUB)?_(TOKEN|PASSWORD|PAT)",
                r"GHCR",
                r"RUBYGEMS|GEM_HOST",
                r"NUGET",
                r"OSSRH|SONATYPE|MAVEN_(CENTRAL|PASSWORD|TOKEN)",
                r"GRADLE_PUBLISH",
                r"(^|_)PAT($|_)",
                r"PERSONAL_ACCESS_TOKEN",
                r"(RELEASE|PUBLISH|DEPLOY|REGISTRY)_(TOKEN|KEY|PASSWORD|PAT)",
            ),
            "regular expressions (searched, case-insensitive) for secret names that publish",
        ),
    )


class MutableReleases(SettingsRule):
    """Flags a repository (or an organisation) where immutable releases are not enabled.

    Read from `GET /repos/{owner}/{repo}/immutable-releases` (404 means disabled, but only
    when the token can read the repository's administration settings; otherwise the check is
    unknown) and `GET /orgs/{org}/settings/immutable-releases` (`enforced_repositories`). On
    GitHub Enterprise Server a 404 may mean that the server has no such endpoint: the check is
    then unknown and names the version `GET /meta` reports.

    ## Why it matters
    An immutable release cannot have its assets replaced or its tag moved, and GitHub attests
    it. Replacing earlier builds is how an attacker who steals a release credential reaches
    users who already trust a version (playbook L3).

    ## Example
    `GET /repos/acme/tool/immutable-releases` answers 404.

    ## How to fix
    Settings → General → Releases → "Enable release immutability", or at the organisation
    level for all repositories; `bastion apply` does both.
    """

    id = "mutable-releases"
    summary = "immutable releases not enabled"
    severity = Severity.MEDIUM


class WeakOrgTwoFactor(SettingsRule):
    """Flags an organisation that does not require two-factor authentication, or whose members
    (or outside collaborators) use an insecure 2FA method (SMS) or none.

    Read from `GET /orgs/{org}` (`two_factor_requirement_enabled`, shown to owners only) and
    `GET /orgs/{org}/members?filter=2fa_insecure` and `?filter=2fa_disabled` (owners only).

    ## Why it matters
    Every account with write access is a way into the release process. The playbook (R2)
    requires 2FA no weaker than TOTP for all members.

    ## Example
    `{"login": "acme", "two_factor_requirement_enabled": false}`

    ## How to fix
    Organisation settings → Authentication security → "Require two-factor authentication" and
    "Only allow secure two-factor methods".
    """

    id = "weak-org-2fa"
    summary = "organisation does not enforce secure two-factor authentication"
    severity = Severity.HIGH


class TooManyAdmins(SettingsRule):
    """Flags an organisation with more owners, or a repository with more administrators, than
    the thresholds allow.

    Owners come from `GET /orgs/{org}/members?role=admin`; repository administrators from
    `GET /repos/{owner}/{repo}/collaborators?permission=admin` (in an organisation audit, the
    organisation's owners are not counted again for each repository).

    ## Why it matters
    Each administrator can change the protections every other control relies on; fewer such
    accounts means fewer targets (playbook R1).

    ## Example
    An organisation with twelve owners.

    ## How to fix
    Give people the least role that lets them work (write, maintain); keep owners and admins to
    a few named accounts.
    """

    id = "too-many-admins"
    summary = "more owners or repository admins than the threshold"
    severity = Severity.LOW
    options = (
        Option("max-owners", 5, "organisation owners allowed"),
        Option(
            "max-repository-admins",
            3,
            "repository administrators allowed, besides the organisation's owners",
        ),
    )


SETTINGS_RULES: tuple[type[SettingsRule], ...] = (
    ShaPinningNotRequired,
    WritableDefaultToken,
    UnprotectedDefaultBranch,
    UnrestrictedSensitiveBranches,
    MutableReleaseTags,
    UnprotectedReleaseEnvironment,
    PublishSecretOutsideEnvironment,
    MutableReleases,
    WeakOrgTwoFactor,
    TooManyAdmins,
)
