"""Fixtures: a local GitHub API per test, and the CLI run against it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bastion.cli import main
from bastion.github.rest import RestClient
from tests.settings.server import ALL_PERMISSIONS, GitHub, Org, Repo

TOKEN = "ghp_test_token_with_every_permission"

RELEASE_WORKFLOW = b"""name: release
on:
  push:
    tags: ['v*']
permissions: {}
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: release
    permissions:
      id-token: write
    steps:
      - uses: actions/checkout@0123456789abcdef0123456789abcdef01234567
        with:
          persist-credentials: false
      - run: uv build
      - uses: actions/attest-build-provenance@0123456789abcdef0123456789abcdef01234567
        with:
          subject-path: dist/*
      - run: uv publish
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def findings(self) -> set[tuple[str, str, str | None]]:
        """(path, rule, status) of each finding of a JSON report."""
        found = self.json()["findings"]
        return {(f["path"], f["rule"], f.get("status")) for f in found}


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[GitHub]:
    with GitHub() as server:
        server.add_token(TOKEN, ALL_PERMISSIONS)
        monkeypatch.setenv("BASTION_GITHUB_URL", server.web_url)
        monkeypatch.setenv("BASTION_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("GH_TOKEN", TOKEN)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        monkeypatch.chdir(tmp_path)
        _no_write_spacing(monkeypatch)
        yield server


def _no_write_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loopback server needs no second between writes (GitHub asks for it; the spacing
    itself is tested in test_rest.py): without this, each apply test sleeps for seconds."""
    original = RestClient.__init__

    def construct(self: RestClient, *arguments: Any, **options: Any) -> None:
        options.setdefault("write_interval", 0.0)
        original(self, *arguments, **options)

    monkeypatch.setattr(RestClient, "__init__", construct)


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> Outcome:
    capsys.readouterr()
    code = main(list(arguments))
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def compliant_org(github: GitHub, login: str = "acme", repos: int = 1) -> Org:
    """An organisation that follows the playbook everywhere."""
    org = github.add_org(
        login,
        two_factor_requirement_enabled=True,
        owners=["alice", "bob"],
        members=["carol"],
        immutable_releases="all",
    )
    org.actions["sha_pinning_required"] = True
    org.workflow.update(default_workflow_permissions="read", can_approve_pull_request_reviews=False)
    github.ruleset(
        org,
        name="main",
        rules=[
            {"type": "deletion"},
            {"type": "non_fast_forward"},
            {"type": "pull_request", "parameters": {"required_approving_review_count": 1}},
        ],
    )
    github.ruleset(
        org,
        name="forbidden",
        conditions={"ref_name": {"include": ["refs/heads/advisory-*", "refs/heads/internal-*"]}},
        rules=[{"type": "creation"}],
    )
    github.ruleset(
        org,
        name="tags",
        target="tag",
        conditions={"ref_name": {"include": ["~ALL"], "exclude": []}},
        bypass_actors=[{"actor_id": 77, "actor_type": "Integration", "bypass_mode": "always"}],
        rules=[{"type": "update"}, {"type": "deletion"}, {"type": "creation"}],
    )
    for number in range(repos):
        compliant_repo(github, org, f"tool{number}" if repos > 1 else "tool")
    return org


def compliant_repo(github: GitHub, org: Org, name: str) -> Repo:
    repo = github.add_repo(
        org,
        name,
        files={".github/workflows/release.yml": RELEASE_WORKFLOW},
        secrets=["CODECOV_TOKEN"],
        admins=["alice"],
    )
    repo.actions["sha_pinning_required"] = True
    repo.workflow.update(
        default_workflow_permissions="read", can_approve_pull_request_reviews=False
    )
    repo.environments["release"] = {
        "reviewers": [{"type": "Team", "id": 9}],
        "prevent_self_review": True,
        "can_admins_bypass": False,
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
    }
    repo.branch_policies["release"] = [{"id": 1, "node_id": "X", "name": "main", "type": "branch"}]
    repo.environment_secrets["release"] = ["PYPI_TOKEN"]
    return repo
