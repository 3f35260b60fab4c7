"""`bastion repo` and `bastion org` against the local GitHub API: exact findings and statuses."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bastion.cli.settings import ProgressBar
from tests.settings.conftest import compliant_org, run
from tests.settings.server import READ_ONLY, GitHub

HOST = "127.0.0.1"
ORG = f"{HOST}/acme"
TOOL = f"{HOST}/acme/tool"
BASE = ("--no-config", "--format", "json")


def test_compliant_organisation_passes_every_check(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    compliant_org(github)
    outcome = run(capsys, "org", "acme", *BASE)
    assert outcome.findings() == set()
    assert outcome.code == 0
    assert "1 repository, 15 checks: 15 pass, 0 fail, 0 unknown; 1 file(s)" in outcome.err


def test_compliant_repository_passes_every_check(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    compliant_org(github)
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert (outcome.code, outcome.findings()) == (0, set())
    assert "9 checks: 9 pass, 0 fail, 0 unknown" in outcome.err


def test_default_settings_fail_and_say_why(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = github.add_org("acme", owners=["a", "b", "c", "d", "e", "f"])
    github.add_repo(
        org, "tool", secrets=["PYPI_TOKEN", "CODECOV_TOKEN"], admins=["x", "y", "z", "w"]
    )
    org.secrets.append({"name": "NPM_TOKEN", "visibility": "all"})
    outcome = run(capsys, "org", "acme", *BASE)
    assert outcome.code == 1
    assert outcome.findings() == {
        (ORG, "sha-pinning-not-required", "fail"),
        (ORG, "writable-default-token", "fail"),
        (ORG, "publish-secret-outside-environment", "fail"),
        (ORG, "mutable-releases", "fail"),
        (ORG, "weak-org-2fa", "fail"),
        (ORG, "too-many-admins", "fail"),
        (TOOL, "sha-pinning-not-required", "fail"),
        (TOOL, "writable-default-token", "fail"),
        (TOOL, "unprotected-default-branch", "fail"),
        (TOOL, "unrestricted-sensitive-branches", "fail"),
        (TOOL, "mutable-release-tags", "fail"),
        (TOOL, "publish-secret-outside-environment", "fail"),
        (TOOL, "mutable-releases", "fail"),
        (TOOL, "too-many-admins", "fail"),
    }
    messages = {(f["path"], f["rule"]): f["message"] for f in outcome.json()["findings"]}
    assert messages[(TOOL, "publish-secret-outside-environment")] == (
        "repository secrets `PYPI_TOKEN` look like publishing credentials: store them in the "
        "release environment instead"
    )
    assert messages[(ORG, "too-many-admins")] == (
        "6 organisation owners, more than 5: a, b, c, d, e, f"
    )
    assert messages[(TOOL, "too-many-admins")] == (
        "4 repository administrators, more than 3: x, y, z, w"
    )
    assert messages[(TOOL, "unprotected-default-branch")] == (
        "no active ruleset applies `non_fast_forward`, `deletion`, `pull_request` to `main`"
    )
    assert "NPM_TOKEN (visibility all)" in messages[(ORG, "publish-secret-outside-environment")]


def test_organisation_policy_binds_repositories(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    tool = org.repos["tool"]
    tool.actions["sha_pinning_required"] = False
    tool.workflow["default_workflow_permissions"] = "write"
    assert run(capsys, "org", "acme", *BASE).findings() == set()
    # Audited alone, the repository's own answer is all there is.
    assert run(capsys, "repo", "acme/tool", *BASE).findings() == {
        (TOOL, "sha-pinning-not-required", "fail"),
        (TOOL, "writable-default-token", "fail"),
    }


def test_read_only_token_gives_unknown_not_pass(
    github: GitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant_org(github)
    # A member who is not an owner: no organisation administration at all.
    permissions = {k: v for k, v in READ_ONLY.items() if k != "organization_administration"}
    monkeypatch.setenv("GH_TOKEN", github.add_token("read-only", permissions))
    outcome = run(capsys, "org", "acme", *BASE)
    assert outcome.findings() == {
        (ORG, "sha-pinning-not-required", "unknown"),
        (ORG, "writable-default-token", "unknown"),
        (ORG, "mutable-releases", "unknown"),
        (ORG, "weak-org-2fa", "unknown"),
        (TOOL, "unprotected-default-branch", "unknown"),
        (TOOL, "unrestricted-sensitive-branches", "unknown"),
        (TOOL, "mutable-release-tags", "unknown"),
    }
    messages = {(f["path"], f["rule"]): f["message"] for f in outcome.json()["findings"]}
    assert messages[(TOOL, "unprotected-default-branch")] == (
        "cannot tell who may bypass the rules of `main`: GitHub hides the bypass actors of "
        "organisation ruleset `main` from tokens that cannot edit it (fine-grained: "
        "Organization Administration write; classic: `admin:org`)"
    )
    assert messages[(ORG, "weak-org-2fa")] == (
        "cannot tell whether 2FA is required: GitHub shows `two_factor_requirement_enabled` to "
        "organisation owners only (classic scope `admin:org`)"
    )
    assert messages[(ORG, "sha-pinning-not-required")] == (
        "cannot tell whether actions must be pinned: GitHub answered 404 to "
        "/api/v3/orgs/acme/actions/permissions (the endpoint needs the fine-grained permission "
        "`organization_administration=read`)"
    )


def test_metadata_only_token_names_the_missing_permissions(
    github: GitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant_org(github)
    monkeypatch.setenv("GH_TOKEN", github.add_token("metadata", {"metadata": "read"}))
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    statuses = {rule: status for _, rule, status in outcome.findings()}
    assert statuses == {
        "sha-pinning-not-required": "unknown",
        "writable-default-token": "unknown",
        "unprotected-default-branch": "unknown",
        "unrestricted-sensitive-branches": "unknown",
        "mutable-release-tags": "unknown",
        "unprotected-release-environment": "unknown",
        "publish-secret-outside-environment": "unknown",
        "mutable-releases": "unknown",
    }
    messages = {f["rule"]: f["message"] for f in outcome.json()["findings"]}
    assert messages["sha-pinning-not-required"] == (
        "cannot tell whether actions must be pinned: GitHub answered 403 to "
        "/api/v3/repos/acme/tool/actions/permissions (the endpoint needs the fine-grained "
        "permission `administration=read`)"
    )
    # 404 from immutable-releases means "disabled" only when administration can be read.
    assert messages["mutable-releases"].startswith(
        "cannot tell whether releases are immutable: GitHub answered 404 to immutable-releases"
    )


def test_release_environment_problems(github: GitHub, capsys: pytest.CaptureFixture[str]) -> None:
    org = compliant_org(github)
    tool = org.repos["tool"]
    tool.environments["release"].update(
        prevent_self_review=False,
        can_admins_bypass=True,
    )
    tool.branch_policies["release"].append({"id": 2, "name": "v*", "type": "tag"})
    outcome = run(capsys, "repo", "acme/tool", *BASE, "--select", "unprotected-release-environment")
    [finding] = outcome.json()["findings"]
    assert finding["message"] == (
        "environment `release` lets the person who started the run approve it (no "
        "`prevent_self_review`); environment `release` lets administrators bypass its "
        "protection rules; environment `release` can also be deployed from tag `v*`, not only "
        "`main`"
    )
    assert finding["status"] == "fail"


def test_publishing_job_environment_that_does_not_exist(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    del org.repos["tool"].environments["release"]
    outcome = run(capsys, "repo", "acme/tool", *BASE, "--select", "unprotected-release-environment")
    [finding] = outcome.json()["findings"]
    assert finding["message"] == (
        "environment `release` does not exist (used by .github/workflows/release.yml: publish): "
        "GitHub creates it on the first run, with no protection"
    )


def test_environment_without_admin_bypass_field_is_unknown(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    del org.repos["tool"].environments["release"]["can_admins_bypass"]
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert outcome.findings() == {(TOOL, "unprotected-release-environment", "unknown")}


def test_repository_without_releases_needs_no_environment(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    tool = org.repos["tool"]
    tool.files.clear()
    tool.environments.clear()
    assert run(capsys, "repo", "acme/tool", *BASE).findings() == set()


@pytest.mark.parametrize(
    ("bypass", "rules", "expected"),
    [
        ([], [{"type": "update"}, {"type": "deletion"}], "fail"),
        (
            [],
            [
                {"type": "update"},
                {"type": "deletion"},
                {
                    "type": "required_deployments",
                    "parameters": {"required_deployment_environments": ["release"]},
                },
            ],
            None,
        ),
        (
            [{"actor_id": None, "actor_type": "OrganizationAdmin", "bypass_mode": "always"}],
            [{"type": "update"}, {"type": "deletion"}, {"type": "creation"}],
            "fail",
        ),
        ([], [{"type": "deletion"}, {"type": "creation"}], "fail"),
    ],
)
def test_release_tag_rulesets(
    github: GitHub,
    capsys: pytest.CaptureFixture[str],
    bypass: list[dict[str, object]],
    rules: list[dict[str, object]],
    expected: str | None,
) -> None:
    org = compliant_org(github)
    org.rulesets = [r for r in org.rulesets if r["target"] != "tag"]
    github.ruleset(
        org.repos["tool"],
        name="tags",
        target="tag",
        conditions={"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
        bypass_actors=bypass,
        rules=rules,
    )
    outcome = run(capsys, "repo", "acme/tool", *BASE, "--select", "mutable-release-tags")
    assert outcome.findings() == (
        set() if expected is None else {(TOOL, "mutable-release-tags", expected)}
    )


def test_admin_bypass_and_classic_protection(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    org.rulesets[0]["bypass_actors"] = [
        {"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}
    ]
    outcome = run(capsys, "repo", "acme/tool", *BASE, "--select", "unprotected-default-branch")
    [finding] = outcome.json()["findings"]
    assert finding["message"] == (
        "ruleset `main` lets a repository role bypass it (RepositoryRole, always)"
    )
    org.rulesets.pop(0)
    org.repos["tool"].protection["main"] = {"enforce_admins": {"enabled": False}}
    outcome = run(capsys, "repo", "acme/tool", *BASE, "--select", "unprotected-default-branch")
    [finding] = outcome.json()["findings"]
    assert finding["message"] == (
        "no active ruleset applies `non_fast_forward`, `deletion`, `pull_request` to `main`; it "
        "has classic branch protection only, which repository admins can change, and it does "
        "not apply to admins"
    )


def test_repository_rulesets_are_reported_as_second_best(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    main_ruleset = org.rulesets.pop(0)
    github.ruleset(org.repos["tool"], name="main", rules=main_ruleset["rules"])
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    [finding] = outcome.json()["findings"]
    assert (finding["rule"], finding["severity"], finding["status"]) == (
        "unprotected-default-branch",
        "low",
        "fail",
    )


def test_evaluate_mode_ruleset_does_not_protect(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    org.rulesets[1]["enforcement"] = "evaluate"
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert outcome.findings() == {(TOOL, "unrestricted-sensitive-branches", "fail")}


def test_workflows_are_checked_through_the_api(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    org.repos["tool"].files[".github/workflows/ci.yml"] = (
        b"on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: x\n"
        b"    steps:\n      - run: echo\n"
    )
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    [finding] = outcome.json()["findings"]
    assert (finding["path"], finding["rule"], finding["line"]) == (
        f"{TOOL}/.github/workflows/ci.yml",
        "dangerous-trigger",
        1,
    )
    assert "status" not in finding


def test_human_and_sarif_output(github: GitHub, capsys: pytest.CaptureFixture[str]) -> None:
    org = compliant_org(github)
    org.repos["tool"].immutable_releases = False
    org.immutable_releases = "none"
    outcome = run(capsys, "repo", "acme/tool", "--no-config")
    assert outcome.out.splitlines()[0] == (
        f"{TOOL}: medium[mutable-releases] immutable releases are not enabled: published assets "
        "can be replaced and release tags moved"
    )
    outcome = run(capsys, "repo", "acme/tool", "--no-config", "--format", "sarif")
    [result] = outcome.json()["runs"][0]["results"]
    assert (result["ruleId"], result["kind"], result["properties"]["status"]) == (
        "mutable-releases",
        "fail",
        "fail",
    )


def test_unknown_repository_is_a_usage_error(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    compliant_org(github)
    outcome = run(capsys, "repo", "acme/nope", "--no-config")
    assert outcome.code == 2
    assert "cannot read repository acme/nope" in outcome.err
    assert outcome.out == ""


def test_shards_split_and_merge(github: GitHub, capsys: pytest.CaptureFixture[str]) -> None:
    org = compliant_org(github, repos=5)
    for repo in org.repos.values():
        repo.immutable_releases = False
    org.immutable_releases = "none"
    whole = run(capsys, "org", "acme", *BASE).findings()
    first = run(capsys, "org", "acme", *BASE, "--shard", "1/2").findings()
    second = run(capsys, "org", "acme", *BASE, "--shard", "2/2").findings()
    assert first | second == whole
    assert not first & second
    assert (ORG, "mutable-releases", "fail") in first
    assert len(whole) == 6
    assert run(capsys, "org", "acme", "--shard", "3/2").code == 2


def test_second_run_is_answered_from_the_etag_cache(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    compliant_org(github, repos=3)
    run(capsys, "org", "acme", *BASE)
    before = github.counters.counted
    outcome = run(capsys, "org", "acme", *BASE)
    assert outcome.findings() == set()
    # Only error answers (no ETag) count again: the 404 of each repository's missing
    # classic protection... none here, since rulesets protect every branch.
    assert github.counters.counted - before == 0


def test_archived_repositories_are_skipped_unless_asked(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = compliant_org(github)
    github.add_repo(org, "old", archived=True)
    assert "1 repository," in run(capsys, "org", "acme", *BASE).err
    outcome = run(capsys, "org", "acme", *BASE, "--include-archived")
    assert "2 repositories, 24 checks: 24 pass" in outcome.err
    assert outcome.findings() == set()


def test_shard_reports_merge_into_one(
    github: GitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    org = compliant_org(github, repos=4)
    for repo in org.repos.values():
        repo.secrets.append("CARGO_REGISTRY_TOKEN")
    org.two_factor_requirement_enabled = False
    whole = run(capsys, "org", "acme", *BASE)
    for index in (1, 2):
        run(capsys, "org", "acme", *BASE, "--shard", f"{index}/2", "-o", f"shard{index}.json")
    merged = run(capsys, "merge", "shard1.json", "shard2.json", "--format", "json")
    assert merged.code == 1
    assert merged.json()["findings"] == whole.json()["findings"]
    assert merged.json()["files_checked"] == 4
    sarif = run(capsys, "merge", "shard1.json", "shard2.json", "--format", "sarif")
    kinds = {(r["ruleId"], r["kind"]) for r in sarif.json()["runs"][0]["results"]}
    assert kinds == {("weak-org-2fa", "fail"), ("publish-secret-outside-environment", "fail")}
    (tmp_path / "bad.json").write_text("{}")
    assert run(capsys, "merge", "bad.json").code == 2


def test_progress_bar_redraws_one_line() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, "repositories")
    bar(0, 4)
    bar(2, 4)
    bar(4, 4)
    bar.close()
    frames = out.getvalue().split("\r")
    assert frames[1].startswith("[" + "." * 30 + "] 0/4 repositories")
    assert frames[2].startswith("[" + "#" * 15 + "." * 15 + "] 2/4 repositories")
    assert frames[3].startswith("[" + "#" * 30 + "] 4/4 repositories")
    assert frames[4] == "\x1b[K"


def test_without_a_token_public_data_only(
    github: GitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    compliant_org(github)
    monkeypatch.delenv("GH_TOKEN")
    monkeypatch.setenv("PATH", "")  # no gh CLI to ask for a token
    outcome = run(capsys, "repo", "acme/tool", *BASE)
    assert "bastion: no token for 127.0.0.1" in outcome.err
    statuses = {status for _, _, status in outcome.findings()}
    assert statuses == {"unknown"}
    assert outcome.code == 1
