"""`bastion apply` against the local GitHub API: dry run, apply, idempotence, partial failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.settings.apply import DEPLOYMENT_GATE, TEMPLATES, covers, load_template
from tests.settings.conftest import RELEASE_WORKFLOW, compliant_org, run
from tests.settings.server import GitHub, Org

TOOL = "127.0.0.1/acme/tool"
AUDIT = ("--no-config", "--format", "json")


def _bare_org(github: GitHub) -> Org:
    org = github.add_org("acme", teams={"release-approvers": 42})
    repo = github.add_repo(org, "tool", files={".github/workflows/release.yml": RELEASE_WORKFLOW})
    repo.environments["release"] = {
        "reviewers": [],
        "prevent_self_review": False,
        "deployment_branch_policy": None,
        "can_admins_bypass": True,
    }
    return org


def test_dry_run_changes_nothing_and_shows_current_and_desired(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare_org(github)
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config")
    assert github.counters.writes == 0
    assert outcome.code == 1
    headers = [line for line in outcome.out.splitlines() if not line.startswith(" ")]
    assert headers == [
        f"{TOOL}: Actions policy: would change",
        f"{TOOL}: default GITHUB_TOKEN permissions: would change",
        f"{TOOL}: ruleset `bastion: default branch`: would change",
        f"{TOOL}: ruleset `bastion: forbidden branches`: would change",
        f"{TOOL}: ruleset `bastion: release tags`: would change",
        f"{TOOL}: environment `release`: blocked",
        f"{TOOL}: environment `release` deployment branches: blocked",
        f"{TOOL}: immutable releases: would change",
        "6 change(s) to make, 2 blocked; dry run: nothing was changed (add --yes to apply)",
    ]
    assert (
        '  current: {"can_approve_pull_request_reviews": true, '
        '"default_workflow_permissions": "write"}'
    ) in outcome.out
    assert "  blocked: it has no required reviewers and no protection App" in outcome.out


def test_apply_then_nothing_left_and_the_audit_passes(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = _bare_org(github)
    reviewer = ("--release-reviewer", "team:release-approvers")
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes", *reviewer)
    assert outcome.code == 0, outcome.out + outcome.err
    assert outcome.out.splitlines()[-1] == "8 applied"
    environment = org.repos["tool"].environments["release"]
    assert environment["reviewers"] == [{"type": "Team", "id": 42}]
    assert (environment["prevent_self_review"], environment["can_admins_bypass"]) == (True, False)
    assert [p["name"] for p in org.repos["tool"].branch_policies["release"]] == ["main"]
    writes = github.counters.writes

    again = run(capsys, "apply", "--repo", "acme/tool", "--no-config", *reviewer)
    assert (again.code, again.out) == (0, "Nothing to change: the settings match the baseline.\n")
    assert github.counters.writes == writes

    audit = run(capsys, "repo", "acme/tool", *AUDIT)
    # Repository rulesets protect the default branch; the playbook prefers the organisation's.
    assert audit.findings() == {(TOOL, "unprotected-default-branch", "fail")}
    assert audit.json()["findings"][0]["severity"] == "low"


def test_organisation_apply_is_idempotent(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = _bare_org(github)
    outcome = run(
        capsys, "apply", "--org", "acme", "--no-config", "--yes", "--release-app-id", "77"
    )
    assert outcome.code == 0, outcome.out
    assert outcome.out.splitlines()[-1] == "6 applied"
    assert org.actions["sha_pinning_required"] is True
    assert org.immutable_releases == "all"
    tags = next(r for r in org.rulesets if r["target"] == "tag")
    assert tags["bypass_actors"] == [
        {"actor_id": 77, "actor_type": "Integration", "bypass_mode": "always"}
    ]
    assert {r["type"] for r in tags["rules"]} == {
        "update",
        "deletion",
        "non_fast_forward",
        "creation",
    }
    assert tags["conditions"]["repository_name"] == {"include": ["~ALL"], "exclude": []}
    again = run(capsys, "apply", "--org", "acme", "--no-config", "--release-app-id", "77")
    assert (again.code, github.counters.writes) == (0, 6)
    audit = run(capsys, "org", "acme", *AUDIT)
    assert audit.findings() == {
        ("127.0.0.1/acme", "weak-org-2fa", "fail"),
        (TOOL, "unprotected-release-environment", "fail"),
    }


def test_organisation_tag_gate_is_required_deployments_in_its_own_ruleset(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare_org(github)
    outcome = run(capsys, "apply", "--org", "acme", "--no-config", "--yes")
    assert outcome.code == 0, outcome.out
    assert "127.0.0.1/acme: ruleset `bastion: release tag deployments`: applied" in outcome.out
    assert outcome.out.splitlines()[-1] == "7 applied"
    gate = next(r for r in github.orgs["acme"].rulesets if r["name"] == DEPLOYMENT_GATE)
    assert gate["rules"] == [
        {
            "type": "required_deployments",
            "parameters": {"required_deployment_environments": ["release"]},
        }
    ]
    audit = run(capsys, "repo", "acme/tool", *AUDIT)
    assert (TOOL, "mutable-release-tags", "fail") not in audit.findings()
    assert (TOOL, "mutable-release-tags", "unknown") not in audit.findings()


def test_organisation_tag_gate_refused_fails_alone(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare_org(github)
    github.org_required_deployments = False
    outcome = run(capsys, "apply", "--org", "acme", "--no-config", "--yes")
    assert outcome.code == 2
    assert "127.0.0.1/acme: ruleset `bastion: release tags`: applied" in outcome.out
    assert "127.0.0.1/acme: ruleset `bastion: release tag deployments`: FAILED" in outcome.out
    assert "422 Invalid rule 'required_deployments'" in outcome.out
    assert outcome.out.splitlines()[-1] == "5 applied, 1 failed, 1 not attempted"


def test_failure_in_the_middle_is_reported(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare_org(github)
    github.fail(r"/rulesets$", 422, times=5, method="POST")
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes")
    assert outcome.code == 2
    headers = [line for line in outcome.out.splitlines() if not line.startswith(" ")]
    assert headers == [
        f"{TOOL}: Actions policy: applied",
        f"{TOOL}: default GITHUB_TOKEN permissions: applied",
        f"{TOOL}: ruleset `bastion: default branch`: FAILED",
        f"{TOOL}: ruleset `bastion: forbidden branches`: not attempted",
        f"{TOOL}: ruleset `bastion: release tags`: not attempted",
        f"{TOOL}: environment `release`: blocked",
        f"{TOOL}: environment `release` deployment branches: blocked",
        f"{TOOL}: immutable releases: not attempted",
        "2 applied, 1 failed, 3 not attempted, 2 blocked",
    ]
    assert "  error: POST /api/v3/repos/acme/tool/rulesets: 422" in outcome.out


def test_existing_ruleset_is_updated_in_place(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    org = _bare_org(github)
    github.ruleset(
        org.repos["tool"],
        name="bastion: release tags",
        target="tag",
        rules=[{"type": "deletion"}],
    )
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config")
    assert f"{TOOL}: ruleset `bastion: release tags`: would change" in outcome.out
    assert "  PUT /repos/acme/tool/rulesets/" in outcome.out
    run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes")
    [tags] = [r for r in org.repos["tool"].rulesets if r["name"] == "bastion: release tags"]
    assert len(tags["rules"]) == 4


def test_user_templates_replace_the_shipped_ones(
    github: GitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    org = _bare_org(github)
    custom = load_template("forbidden-branches")
    custom["conditions"]["ref_name"]["include"].append("refs/heads/security-*")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "forbidden-branches.json").write_text(json.dumps(custom))
    run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--yes", "--templates", "templates")
    [forbidden] = [r for r in org.repos["tool"].rulesets if r["name"] == custom["name"]]
    assert "refs/heads/security-*" in forbidden["conditions"]["ref_name"]["include"]
    (tmp_path / "templates" / "release-tags.json").write_text("[]")
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config", "--templates", "templates")
    assert outcome.code == 2
    assert "is not a ruleset" in outcome.err


def test_compliant_repository_needs_nothing(
    github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    compliant_org(github)
    outcome = run(capsys, "apply", "--repo", "acme/tool", "--no-config")
    assert (outcome.code, outcome.out) == (
        0,
        "Nothing to change: the settings match the baseline.\n",
    )


def test_shipped_templates_are_valid_rulesets() -> None:
    for name in TEMPLATES:
        ruleset = load_template(name)
        assert ruleset["enforcement"] == "active"
        assert ruleset["bypass_actors"] == []
        assert ruleset["name"].startswith("bastion: ")


def test_covers_ignores_added_defaults_and_order() -> None:
    desired = {"rules": [{"type": "a"}, {"type": "b", "parameters": {"x": 1}}], "name": "n"}
    current = {
        "id": 3,
        "name": "n",
        "rules": [{"type": "b", "parameters": {"x": 1, "y": 2}}, {"type": "a"}],
    }
    assert covers(current, desired)
    assert not covers({**current, "rules": [{"type": "a"}]}, desired)
    assert not covers({**current, "name": "m"}, desired)
