"""The settings audit and apply against GitHub's documented behaviour (issue 11), item by item:
the permission header on every answer, enterprise rulesets, environment PUT semantics,
Enterprise Server without immutable releases, data-residency hosts, archived, disabled and
renamed repositories, 2FA filters for non-owners, ref patterns, long repository lists."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bastion.github.host import Host, Token
from bastion.github.rest import ApiError, RestClient, describe_permissions
from bastion.settings.checks import default_branch, ref_matches, two_factor
from bastion.settings.collect import Options, RulesetCache, collect_repo, repository_meta
from bastion.settings.state import OrgState, RepoState, Unavailable
from tests.settings.conftest import TOKEN, compliant_org, run
from tests.settings.server import ALL_PERMISSIONS, GitHub

TOOL = "127.0.0.1/acme/tool"
BASE = ("--no-config", "--format", "json")


def _messages(outcome: object) -> dict[str, str]:
    return {f["rule"]: f["message"] for f in outcome.json()["findings"]}  # type: ignore[attr-defined]


# 1. X-Accepted-GitHub-Permissions ----------------------------------------------------------


def test_header_on_every_answer_does_not_turn_a_missing_directory_into_unknown(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    tool = org.repos["tool"]
    tool.files.clear()  # No .github/workflows: GitHub answers 404, header and all.
    tool.environments.clear()
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert (outcome.code, outcome.findings()) == (0, set())
    assert "9 checks: 9 pass, 0 fail, 0 unknown" in outcome.err
    assert TOKEN not in outcome.out + outcome.err


def test_header_is_sent_on_success_to_fine_grained_tokens_only(
    github: GitHub, tmp_path: Path
) -> None:
    compliant_org(github)
    classic = github.add_token("ghp_classic", ALL_PERMISSIONS, classic=True)
    host = Host.from_web_url(github.web_url)
    fine = RestClient(host, Token(TOKEN, "test"), cache_dir=tmp_path)
    answer = fine.get("/repos/acme/tool/actions/permissions")
    assert (answer.status, answer.header("x-accepted-github-permissions")) == (
        200,
        "administration=read",
    )
    old = RestClient(host, Token(classic, "test"), cache_dir=tmp_path)
    answer = old.get("/repos/acme/tool/actions/permissions")
    assert answer.header("x-accepted-github-permissions") is None
    assert answer.header("x-accepted-oauth-scopes") == "repo"


def test_permission_alternatives_are_told_apart() -> None:
    header = "repository_projects=write; organization_projects=admin, members=read"
    assert describe_permissions(header) == (
        "repository_projects=write or organization_projects=admin and members=read"
    )
    error = ApiError(403, "GET", "/x", "Forbidden", permission=header)
    assert Unavailable.from_error(error).reason == (
        "GitHub answered 403 to /x (the endpoint needs the fine-grained permission "
        "`repository_projects=write` or `organization_projects=admin, members=read`)"
    )
    # A 200 never becomes unknown, and a 5xx does not blame the token.
    assert Unavailable.from_error(ApiError(502, "GET", "/x", "Bad", permission=header)).reason == (
        "GitHub answered 502 to /x"
    )


# 2. Enterprise rulesets --------------------------------------------------------------------


def _collected(github: GitHub, token: str) -> RepoState:
    with tempfile.TemporaryDirectory() as cache:
        client = RestClient(
            Host.from_web_url(github.web_url), Token(token, "t"), cache_dir=Path(cache)
        )
        meta = repository_meta(client, "acme", "tool")
        return collect_repo(client, TOOL, meta, Options(), cache=RulesetCache())


def _enterprise_protected(github: GitHub) -> None:
    org = compliant_org(github)
    org.rulesets = [r for r in org.rulesets if r["name"] != "main"]
    github.ruleset(
        None,
        name="enterprise main",
        rules=[
            {"type": "deletion"},
            {"type": "non_fast_forward"},
            {"type": "pull_request", "parameters": {"required_approving_review_count": 1}},
        ],
    )


def test_enterprise_ruleset_protects_the_default_branch(
    github: GitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _enterprise_protected(github)
    owner = github.add_token(
        "enterprise-owner", ALL_PERMISSIONS | {"enterprise_administration": "write"}
    )
    monkeypatch.setenv("GH_TOKEN", owner)
    outcome = run(capsys, "repo", "acme/tool", *BASE, "--select", "unprotected-default-branch")
    assert (outcome.code, outcome.findings()) == (0, set())
    state = _collected(github, owner)
    assert default_branch(state).message == (
        "`main` is protected by enterprise rulesets without admin bypass"
    )


def test_enterprise_ruleset_hidden_bypass_names_the_enterprise(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _enterprise_protected(github)
    outcome = run(capsys, "repo", "acme/tool", *BASE, "--select", "unprotected-default-branch")
    assert outcome.findings() == {(TOOL, "unprotected-default-branch", "unknown")}
    assert _messages(outcome)["unprotected-default-branch"] == (
        "cannot tell who may bypass the rules of `main`: GitHub hides the bypass actors of "
        "enterprise ruleset `enterprise main` from everyone but the enterprise's owners (a "
        "GitHub App needs the enterprise permission Enterprise administration write)"
    )


# 4. Environments ---------------------------------------------------------------------------


def _unprotected_environment(github: GitHub, **extra: object) -> None:
    org = compliant_org(github)
    org.teams = {"release-approvers": 42}
    env = org.repos["tool"].environments["release"]
    env.update(prevent_self_review=False, can_admins_bypass=True, **extra)


def test_environment_put_keeps_the_wait_timer(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _unprotected_environment(github, wait_timer=30)
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes")
    assert outcome.code == 0, outcome.out
    env = github.orgs["acme"].repos["tool"].environments["release"]
    assert env == {
        "reviewers": [{"type": "Team", "id": 9}],
        "prevent_self_review": True,
        "wait_timer": 30,
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
        "can_admins_bypass": False,
    }
    again = run(capsys, "repo", "acme/tool", *BASE)
    assert (again.code, again.findings()) == (0, set())


def test_protection_app_alone_gets_no_prevent_self_review(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _unprotected_environment(github, reviewers=[])
    tool = github.orgs["acme"].repos["tool"]
    tool.protection_apps["release"] = [{"id": 5, "enabled": True, "app": {"id": 77}}]
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes")
    assert outcome.code == 0, outcome.out
    assert (
        '  desired: {"can_admins_bypass": false, "deployment_branch_policy": '
        '{"custom_branch_policies": true, "protected_branches": false}}'
    ) in outcome.out
    assert tool.environments["release"]["reviewers"] == []


def test_admin_bypass_field_is_not_sent_to_a_server_that_does_not_show_it(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _unprotected_environment(github)
    env = github.orgs["acme"].repos["tool"].environments["release"]
    del env["can_admins_bypass"]
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes")
    assert "127.0.0.1/acme/tool: environment `release`: applied" in outcome.out
    assert "127.0.0.1/acme/tool: environment `release` administrator bypass: blocked" in (
        outcome.out
    )
    assert outcome.out.splitlines()[-1] == "1 applied, 1 blocked"
    assert "can_admins_bypass" not in github.orgs["acme"].repos["tool"].environments["release"]
    assert github.orgs["acme"].repos["tool"].environments["release"]["prevent_self_review"]


def test_more_than_six_reviewers_is_blocked_before_writing(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _unprotected_environment(github, reviewers=[])
    reviewers = [f"--release-reviewer=user:u{n}" for n in range(7)]
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", *reviewers)
    assert (
        "  blocked: GitHub accepts at most 6 reviewers for an environment; 7 were given with "
        "--release-reviewer (name a team)"
    ) in outcome.out


# 5. Enterprise Server and data residency ---------------------------------------------------


def test_enterprise_server_without_immutable_releases_is_unknown_with_its_version(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    compliant_org(github)
    github.ghes_version = "3.14.2"
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert outcome.findings() == {(TOOL, "mutable-releases", "unknown")}
    assert _messages(outcome)["mutable-releases"] == (
        "cannot tell whether releases are immutable: GitHub Enterprise Server 3.14.2 answered "
        "404 to immutable-releases: the server may not offer immutable releases, or it hides "
        "the setting from the token; check the server's release notes"
    )
    assert github.counters.by_path["GET /meta"] == 1


def test_enterprise_server_organisation_without_immutable_releases_is_unknown(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    compliant_org(github)
    github.ghes_version = "3.14.2"
    outcome = run(capsys, "org", "acme", *BASE, "--select", "mutable-releases")
    assert outcome.findings() == {
        ("127.0.0.1/acme", "mutable-releases", "unknown"),
        (TOOL, "mutable-releases", "unknown"),
    }
    assert _messages(outcome)["mutable-releases"].startswith(
        "cannot tell whether releases are immutable: GitHub Enterprise Server 3.14.2 answered "
        "404 to "
    )


def test_classic_token_names_any_of_the_accepted_scopes(
    github: GitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant_org(github)
    monkeypatch.setenv(
        "GH_TOKEN", github.add_token("ghp_member", {"metadata": "read"}, classic=True)
    )
    outcome = run(capsys, "repo", "acme/tool", *BASE, "--select", "sha-pinning-not-required")
    assert _messages(outcome)["sha-pinning-not-required"] == (
        "cannot tell whether actions must be pinned: GitHub answered 403 to "
        "/api/v3/repos/acme/tool/actions/permissions (the endpoint needs the classic scope "
        "`repo`)"
    )
    assert "ghp_member" not in outcome.out + outcome.err
    error = ApiError(404, "GET", "/orgs/acme/members", "Not Found", scopes="admin:org, read:org")
    assert Unavailable.from_error(error).reason == (
        "GitHub answered 404 to /orgs/acme/members (the endpoint needs one of the classic scopes "
        "`admin:org`, `read:org`)"
    )


def test_a_404_on_a_server_without_a_version_is_still_disabled(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    org.immutable_releases = "none"
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert outcome.findings() == {(TOOL, "mutable-releases", "fail")}


@pytest.mark.parametrize(
    ("url", "api"),
    [
        ("https://octo.ghe.com", "https://api.octo.ghe.com"),
        ("https://OCTO.ghe.com/", "https://api.octo.ghe.com"),
        ("https://github.com", "https://api.github.com"),
        ("https://git.example.com", "https://git.example.com/api/v3"),
    ],
)
def test_api_host(url: str, api: str) -> None:
    assert Host.from_web_url(url).api_url == api


# 6. Archived, disabled, renamed ------------------------------------------------------------


def test_archived_repository_apply_says_so_and_writes_nothing(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = github.add_org("acme")
    github.add_repo(org, "tool", archived=True)
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes")
    assert github.counters.writes == 0
    assert (
        "  blocked: acme/tool is archived: GitHub refuses every write to an archived "
        "repository (403); unarchive it in its settings, then run again"
    ) in outcome.out
    assert "would change" not in outcome.out
    assert "applied" not in outcome.out
    assert TOKEN not in outcome.out + outcome.err


def test_disabled_repository_is_skipped_with_a_note(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github, repos=2)
    org.repos["tool1"].disabled = True
    outcome = run(capsys, "org", "acme", *BASE)
    assert (outcome.code, outcome.findings()) == (0, set())
    assert (
        "bastion: skipped acme/tool1: GitHub has disabled the repository, so its settings "
        "cannot be read (this is not about the token; see the repository's page)"
    ) in outcome.err
    assert "1 repository, 15 checks: 15 pass" in outcome.err
    single = run(capsys, "repo", "acme/tool1", *BASE)
    assert (single.code, single.findings()) == (0, set())
    assert "0 checks" in single.err
    assert "skipped acme/tool1" in single.err


def test_write_to_a_renamed_repositorys_old_name_is_never_applied(
    github: GitHub, tmp_path: Path
) -> None:
    org = github.add_org("acme")
    tool = github.add_repo(org, "tool")
    github.rename(tool, "tool-next")
    rest = RestClient(Host.from_web_url(github.web_url), Token(TOKEN, "t"), cache_dir=tmp_path)
    assert rest.get("/repos/acme/tool").data["full_name"] == "acme/tool-next"
    body = {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
    with pytest.raises(ApiError) as caught:
        rest.request("PUT", "/repos/acme/tool/actions/permissions/workflow", body)
    assert caught.value.status == 307
    assert "nothing was changed" in str(caught.value)
    assert tool.workflow["default_workflow_permissions"] == "write"


def test_apply_on_a_renamed_repository_writes_to_its_current_name(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    tool = org.repos["tool"]
    tool.workflow["default_workflow_permissions"] = "write"
    github.rename(tool, "tool-next")
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes")
    assert outcome.code == 0, outcome.out
    assert "  PUT /repos/acme/tool-next/actions/permissions/workflow" in outcome.out
    assert tool.workflow["default_workflow_permissions"] == "read"
    audit = run(capsys, "repo", "acme/tool", *BASE)
    assert "acme/tool is now acme/tool-next" in audit.err
    assert audit.findings() == set()
    assert TOKEN not in outcome.out + outcome.err + audit.out + audit.err


# 7. Messages -------------------------------------------------------------------------------


def test_2fa_filter_refused_to_a_non_owner_says_owners_only() -> None:
    state = OrgState("acme", "127.0.0.1/acme", meta={"two_factor_requirement_enabled": True})
    state.two_factor_disabled = Unavailable("GitHub answered 422 to /orgs/acme/members", None, 422)
    outcome = two_factor(state)
    assert (outcome.status, outcome.message) == (
        "unknown",
        "cannot tell the members' 2FA methods: GitHub answered 422 to the members' 2FA "
        "filter, which it shows to organisation owners only: run the audit as an owner",
    )


# 8. Ref patterns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "ref", "expected"),
    [
        ("refs/heads/advisory-*", "refs/heads/advisory-1", True),
        ("refs/heads/advisory-*", "refs/heads/advisory-1/fix", False),
        ("refs/heads/**", "refs/heads/a/b/c", False),
        ("refs/heads/qa/**/*", "refs/heads/qa/foo/bar/foobar/hello-world", True),
        ("refs/heads/qa/*", "refs/heads/qa/foo/bar", False),
        ("refs/tags/v[!0-9]*", "refs/tags/vx", True),
        ("refs/tags/v*", "refs/tags/v1.2.3", True),
        ("refs/tags/*", "refs/tags/release/v1", False),
        ("refs/tags/v?.*", "refs/tags/v1.2", True),
        ("refs/tags/v[0-9]*", "refs/tags/vx", False),
    ],
)
def test_ref_patterns_follow_github(pattern: str, ref: str, expected: bool) -> None:
    assert ref_matches(pattern, ref) is expected


def test_a_tag_ruleset_on_one_level_does_not_cover_nested_tags(
    github: GitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    org = compliant_org(github)
    tags = next(r for r in org.rulesets if r["name"] == "tags")
    tags["conditions"]["ref_name"] = {"include": ["refs/tags/*"], "exclude": []}
    config = tmp_path / "bastion.toml"
    config.write_text('[rules.mutable-release-tags]\ntag-examples = ["tool/v1.2.3"]\n')
    outcome = run(capsys, "repo", "acme/tool", "--config", str(config), "--format", "json")
    assert outcome.findings() == {(TOOL, "mutable-release-tags", "fail")}
    assert _messages(outcome)["mutable-release-tags"].startswith(
        "no active tag ruleset covers release tags such as `tool/v1.2.3`"
    )


# Pagination of repository lists ------------------------------------------------------------


def test_repository_list_past_one_hundred(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    for number in range(105):
        github.add_repo(org, f"extra{number:03}", archived=True)
    outcome = run(capsys, "org", "acme", *BASE, "--include-archived", "--shard", "106/106")
    assert "1 repository" in outcome.err
    assert github.counters.by_path["GET /orgs/acme/repos"] == 2


# 9. The files of every repository ----------------------------------------------------------

DEPENDABOT = b"""version: 2
updates:
  - package-ecosystem: npm
    directory: /
    schedule:
      interval: daily
"""
PRE_COMMIT = b"""repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v6.0.0
    hooks:
      - id: trailing-whitespace
"""
RENOVATE = b'{"extends": ["config:recommended"]}\n'


def _configured(github: GitHub) -> None:
    org = compliant_org(github)
    org.repos["tool"].files.update(
        {
            ".github/dependabot.yml": DEPENDABOT,
            ".pre-commit-config.yaml": PRE_COMMIT,
            "renovate.json": RENOVATE,
            "docs/renovate.json": RENOVATE,  # Not where Renovate looks: not read.
            ".github/workflows/nested/ci.yml": b"not: [a workflow",  # Not run by GitHub.
        }
    )


def _file_findings(outcome: object) -> set[tuple[str, str, int]]:
    return {
        (f["path"], f["rule"], f["line"])
        for f in outcome.json()["findings"]  # type: ignore[attr-defined]
    }


EXPECTED_FILES = {
    (f"{TOOL}/.github/dependabot.yml", "updater-cooldown", 3),
    (f"{TOOL}/.pre-commit-config.yaml", "unpinned-pre-commit", 3),
    (f"{TOOL}/renovate.json", "updater-cooldown", 1),
}


def test_dependency_files_are_read_through_git_in_three_requests(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _configured(github)
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert outcome.code == 1
    assert _file_findings(outcome) == EXPECTED_FILES
    assert "4 file(s) checked" in outcome.err  # release.yml and the three configurations
    assert github.counters.git == 3
    assert not [key for key in github.counters.by_path if "/contents/" in key]


def test_without_git_the_contents_api_reads_the_same_files(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _configured(github)
    github.git_disabled = True
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert _file_findings(outcome) == EXPECTED_FILES
    contents = {k: v for k, v in github.counters.by_path.items() if "/contents" in k}
    # Listings of .github/workflows, the root, .github and .gitlab; then the four files.
    assert sum(contents.values()) == 8
    assert github.counters.git == 1  # The refused ls-refs.
