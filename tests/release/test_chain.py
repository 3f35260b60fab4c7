"""`bastion release` end to end: the loopback GitHub and registry serve the real signed
artifacts, and each link has a case that holds and one that breaks."""

from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import pytest

from tests.release.conftest import (
    GITLAB_SDIST,
    NPM_COMMIT,
    NPM_PACKAGE,
    RELEASE_WORKFLOW,
    SDIST,
    WHEEL,
    Release,
    corpus,
    corpus_json,
    dsse_bundle,
    npm_attestations,
    npm_tarball,
    run,
)
from tests.settings.conftest import Outcome, compliant_org, compliant_repo
from tests.settings.server import Repo

SDIST_REPO = "127.0.0.1/trailofbits/pypi-attestations"
PUBLISH_V1 = pytest.importorskip("pypi_attestations").AttestationType.PYPI_PUBLISH_V1.value
WHEEL_REPO = "127.0.0.1/trailofbits/rfc8785.py"
NO_ENVIRONMENT = (
    "registry-environment",
    "fail",
    "release v0.0.19: PyPI publisher environment: the Trusted Publisher (`release.yml`) names "
    "no environment: any run of the workflow can publish, without anyone's approval",
)


def found(outcome: Outcome) -> set[tuple[str, str, str]]:
    """(rule, status, message) of each finding of a JSON report."""
    return {(f["rule"], f["status"], f["message"]) for f in outcome.json()["findings"]}


def release(capsys: pytest.CaptureFixture[str], repository: str, *extra: str) -> Outcome:
    return run(capsys, "release", repository, "--format", "json", *extra)


def test_chain_of_a_real_release_breaks_at_the_publisher_environment(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run(capsys, "release", "trailofbits/pypi-attestations")
    assert outcome.code == 1
    assert outcome.out.splitlines() == [
        f"{SDIST_REPO}: release v0.0.19",
        "  pass     tag: `v0.0.19` points at commit 08802efe1f8e, which is on `main`",
        "  pass     tag protection: release tags are immutable and their creation is gated",
        "  pass     release: the release is immutable",
        "  pass     assets: the one asset carries its SHA-256 digest",
        f"  pass     attestation of {SDIST}: signed "
        f"({PUBLISH_V1}) by `.github/workflows/release.yml` at "
        "`refs/tags/v0.0.19` of this repository, on a GitHub-hosted runner; signature, "
        "certificate and transparency-log entry verified",
        "  pass     signing workflow: `.github/workflows/release.yml` signed the assets and is "
        "the workflow that releases",
        "  pass     PyPI provenance of pypi-attestations 0.0.19: 1 file(s) carry PEP 740 "
        "provenance signed by `.github/workflows/release.yml` at `refs/tags/v0.0.19` and "
        "published by this repository's Trusted Publisher",
        "  FAIL     PyPI publisher environment: the Trusted Publisher (`release.yml`) names no "
        "environment: any run of the workflow can publish, without anyone's approval",
        "  the chain breaks at: PyPI publisher environment",
    ]
    assert outcome.err.startswith("bastion: 8 links: 7 pass, 1 fail, 0 unknown; ")
    assert outcome.err.endswith(", 2 registry requests\n")
    assert sdist_release.registry.requests == [
        "/pypi/pypi-attestations/0.0.19/json",
        f"/integrity/pypi-attestations/0.0.19/{SDIST}/provenance",
    ]
    assert found(release(capsys, "trailofbits/pypi-attestations")) == {NO_ENVIRONMENT}


def _protected_publisher(sdist_release: Release) -> None:
    provenance = corpus_json(f"{SDIST}.provenance")
    # The Trusted Publisher as PyPI would describe it once its environment is set; the
    # attestations are untouched (the publisher is not part of what is signed).
    provenance["attestation_bundles"][0]["publisher"]["environment"] = "release"
    sdist_release.registry.provenance[SDIST] = provenance


def test_chain_holds_with_a_protected_publisher_environment(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    _protected_publisher(sdist_release)
    outcome = run(capsys, "release", "trailofbits/pypi-attestations")
    assert outcome.code == 0, outcome.out
    lines = outcome.out.splitlines()
    assert lines[-2:] == [
        "  pass     environment `release`: used by PyPI publisher `release.yml`: `release` needs "
        "another person's approval and deploys from `main` only",
        "  the chain holds",
    ]
    assert all(line.startswith("  pass ") for line in lines[1:-1])
    assert release(capsys, "trailofbits/pypi-attestations").json()["findings"] == []


def test_publisher_environment_without_reviewers_fails(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    _protected_publisher(sdist_release)
    sdist_release.repo.environments["release"]["reviewers"] = []
    outcome = release(capsys, "trailofbits/pypi-attestations")
    assert outcome.code == 1
    assert found(outcome) == {
        (
            "registry-environment",
            "fail",
            "release v0.0.19: environment `release`: used by PyPI publisher `release.yml`: "
            "environment `release` needs no approval (no required reviewers or protection App)",
        )
    }


def test_mutable_release_fails(sdist_release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    sdist_release.repo.releases[0]["immutable"] = False
    assert found(release(capsys, "trailofbits/pypi-attestations")) == {
        NO_ENVIRONMENT,
        (
            "release-immutable",
            "fail",
            "release v0.0.19: release: the release is not immutable: its assets can be "
            "replaced and its tag moved or deleted (only releases published after immutable "
            "releases were enabled are immutable)",
        ),
    }


def test_tag_without_ruleset_fails(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist_release.org.rulesets = [r for r in sdist_release.org.rulesets if r["target"] != "tag"]
    assert found(release(capsys, "trailofbits/pypi-attestations")) == {
        NO_ENVIRONMENT,
        (
            "release-tag-protection",
            "fail",
            "release v0.0.19: tag protection: no active tag ruleset covers release tags such as "
            "`v0.0.19`, so they can be moved, deleted and created by anyone who can push",
        ),
    }


def test_tag_off_the_default_branch_fails(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist_release.repo.default_branch_commits.clear()
    assert (
        "release-tag",
        "fail",
        "release v0.0.19: tag: `v0.0.19` points at commit 08802efe1f8e, which is not on `main` "
        "(compared with `main`: diverged): the release was built from code that never went "
        "through the default branch's review",
    ) in found(release(capsys, "trailofbits/pypi-attestations"))


def test_deleted_tag_fails(sdist_release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    del sdist_release.repo.tags["v0.0.19"]
    assert (
        "release-tag",
        "fail",
        "release v0.0.19: tag: the release's tag `v0.0.19` does not exist: it was deleted "
        "after the release",
    ) in found(release(capsys, "trailofbits/pypi-attestations"))


def test_unknown_tag_has_no_release(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = release(capsys, "trailofbits/pypi-attestations", "--tag", "v9")
    assert outcome.code == 1
    assert found(outcome) == {
        ("release-immutable", "fail", "release v9: release: no published release for tag `v9`")
    }


def test_wheel_attestation_holds_and_missing_pypi_provenance_fails(
    wheel_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run(capsys, "release", "trailofbits/rfc8785.py")
    assert outcome.code == 1
    assert (
        f"  pass     attestation of {WHEEL}: signed by `.github/workflows/release.yml` at "
        "`refs/tags/v0.1.2` of this repository, on a GitHub-hosted runner; signature, "
        "certificate and transparency-log entry verified"
    ) in outcome.out.splitlines()
    assert found(release(capsys, "trailofbits/rfc8785.py")) == {
        (
            "registry-provenance",
            "fail",
            f"release v0.1.2: PyPI provenance of rfc8785 0.1.2: `{WHEEL}` has no provenance "
            "(published without attestations)",
        )
    }


def _acme_release(github_release: Release, assets: dict[str, bytes]) -> Repo:
    """The corpus wheel and its bundle, re-released by acme/tool."""
    server = github_release.github
    compliant_org(server, "acme", repos=0)
    repo = compliant_repo(server, server.orgs["acme"], "tool")
    repo.tags["v0.1.2"] = "d8b4a6445f38c48b9137a8099706d9b8073146e4"
    repo.default_branch_commits.add(repo.tags["v0.1.2"])
    server.release(repo, "v0.1.2", assets)
    return repo


def test_bundle_of_another_repository_fails(
    wheel_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    data = corpus("bundle_v3_github.whl")
    repo = _acme_release(wheel_release, {WHEEL: data})
    repo.attestations[hashlib.sha256(data).hexdigest()] = [
        corpus_json("bundle_v3_github.whl.sigstore")
    ]
    assert (
        "release-attestation",
        "fail",
        f"release v0.1.2: attestation of {WHEEL}: no attestation verifies for this release: "
        "built in `https://github.com/trailofbits/rfc8785.py`, not in "
        "`https://github.com/acme/tool`; signed by `https://github.com/trailofbits/rfc8785.py/"
        ".github/workflows/release.yml@refs/tags/v0.1.2`, which is not a workflow of `acme/tool`",
    ) in found(release(capsys, "acme/tool"))


def test_tampered_asset_fails(wheel_release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    tampered = corpus("bundle_v3_github.whl") + b"\0"
    repo = wheel_release.repo
    repo.releases.clear()
    wheel_release.github.release(repo, "v0.1.2", {WHEEL: tampered})
    # GitHub answers with the real bundle for the tampered file's digest.
    repo.attestations = {
        hashlib.sha256(tampered).hexdigest(): [corpus_json("bundle_v3_github.whl.sigstore")]
    }
    assert (
        "release-attestation",
        "fail",
        f"release v0.1.2: attestation of {WHEEL}: no attestation verifies for this release: the "
        "signature does not verify: Bundle message digest mismatch",
    ) in found(release(capsys, "trailofbits/rfc8785.py"))


def test_asset_without_attestation_fails(
    wheel_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel_release.repo.attestations.clear()
    assert (
        "release-attestation",
        "fail",
        f"release v0.1.2: attestation of {WHEEL}: GitHub holds no attestation for this digest: "
        "nothing says which workflow built it",
    ) in found(release(capsys, "trailofbits/rfc8785.py"))


def test_assets_without_digest_fail(
    wheel_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = wheel_release.repo
    repo.releases.clear()
    wheel_release.github.release(repo, "v0.1.2", {WHEEL: b"old"}, digests=False)
    assert (
        "release-asset-digest",
        "fail",
        f"release v0.1.2: assets: 1 of 1 asset has no SHA-256 digest (`{WHEEL}`): nothing "
        "ties them to what was signed",
    ) in found(release(capsys, "trailofbits/rfc8785.py"))


def test_signer_that_is_not_the_releasing_workflow_fails(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    files = sdist_release.repo.files
    files[".github/workflows/publish.yml"] = files.pop(".github/workflows/release.yml")
    assert found(release(capsys, "trailofbits/pypi-attestations")) == {
        NO_ENVIRONMENT,
        (
            "release-workflow",
            "fail",
            "release v0.0.19: signing workflow: the assets were signed by "
            "`.github/workflows/release.yml`, but the workflows that release are "
            "`.github/workflows/publish.yml`",
        ),
        (
            "registry-provenance",
            "fail",
            f"release v0.0.19: PyPI provenance of pypi-attestations 0.0.19: `{SDIST}`: the "
            "Trusted Publisher is workflow `release.yml`, but the workflows that publish to PyPI "
            "are `publish.yml`",
        ),
    }


def test_checkout_without_workflows_leaves_the_workflow_unknown(
    sdist_release: Release, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    outcome = release(capsys, "trailofbits/pypi-attestations", "--path", str(checkout))
    assert outcome.code == 1
    assert found(outcome) == {
        (
            "release-workflow",
            "unknown",
            "release v0.0.19: signing workflow: the assets were signed by "
            "`.github/workflows/release.yml`; cannot tell whether that is the workflow that "
            f"releases: {checkout} has no .github/workflows directory (give --path to a "
            "checkout of the tag)",
        ),
        (
            "registry-provenance",
            "unknown",
            f"release v0.0.19: registries: cannot tell where the release is published: "
            f"{checkout} has no .github/workflows directory (give --path, --pypi-project or "
            "--npm-package)",
        ),
    }


def _bare_release(release_: Release, workflow: bytes, tag: str) -> None:
    """acme/tool at ``tag``, with no asset, released by ``workflow``."""
    server = release_.github
    compliant_org(server, "acme", repos=0)
    repo = compliant_repo(server, server.orgs["acme"], "tool")
    repo.files[".github/workflows/release.yml"] = workflow
    repo.tags[tag] = "1" * 40
    repo.default_branch_commits.add("1" * 40)
    server.release(repo, tag, {})


def test_gitlab_publisher_fails(wheel_release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    _bare_release(wheel_release, RELEASE_WORKFLOW, "v0.0.3")
    data = corpus(GITLAB_SDIST)
    wheel_release.registry.files[("gitlab-oidc-project", "0.0.3")] = [(GITLAB_SDIST, data)]
    wheel_release.registry.provenance[GITLAB_SDIST] = {
        "version": 1,
        "attestation_bundles": [
            {
                "publisher": {
                    "kind": "GitLab",
                    "repository": "facutuesca/gitlab-oidc-project",
                    "workflow_filepath": ".gitlab-ci.yml",
                    "environment": None,
                },
                "attestations": [corpus_json(f"{GITLAB_SDIST}.publish.attestation")],
            }
        ],
    }
    outcome = release(capsys, "acme/tool", "--pypi-project", "gitlab-oidc-project")
    assert found(outcome) == {
        (
            "registry-provenance",
            "fail",
            "release v0.0.3: PyPI provenance of gitlab-oidc-project 0.0.3: "
            f"`{GITLAB_SDIST}`: published by a GitLab Trusted Publisher, not by GitHub Actions",
        )
    }


NPM_WORKFLOW = RELEASE_WORKFLOW.replace(b"uv publish", b"npm publish --provenance")


def test_npm_provenance_for_other_artifacts_fails(
    wheel_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare_release(wheel_release, NPM_WORKFLOW, "v1.0.0")
    registry = wheel_release.registry
    # A real DSSE bundle (logged as `dsse` 0.0.1), but its statement is about another artifact.
    provenance = {"predicateType": SLSA_V1, "bundle": dsse_bundle(f"{SDIST}.publish.attestation")}
    registry.publish_npm(
        "@acme/tool", "1.0.0", b"a package tarball", {"attestations": [provenance]}
    )
    outcome = release(capsys, "acme/tool", "--npm-package", "@acme/tool")
    assert found(outcome) == {
        (
            "registry-provenance",
            "fail",
            "release v1.0.0: npm provenance of @acme/tool 1.0.0: no provenance verifies for this "
            "release: the signed statement is about other artifacts (no subject has this digest)",
        )
    }
    assert registry.requests == [
        "/@acme%2Ftool/1.0.0",
        "/-/npm/v1/attestations/@acme%2Ftool@1.0.0",
    ]
    del registry.npm_versions[("@acme/tool", "1.0.0")]
    assert found(release(capsys, "acme/tool", "--npm-package", "@acme/tool")) == {
        (
            "registry-provenance",
            "fail",
            "release v1.0.0: npm provenance of @acme/tool 1.0.0: npm has no version 1.0.0 of "
            "`@acme/tool`, though the workflows publish there",
        )
    }


def test_other_registries_are_unknown(
    wheel_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    _bare_release(wheel_release, RELEASE_WORKFLOW.replace(b"uv publish", b"cargo publish"), "v2")
    assert found(release(capsys, "acme/tool")) == {
        (
            "registry-provenance",
            "unknown",
            "release v2: crates.io: `.github/workflows/release.yml: publish` publish to "
            "crates.io, whose provenance bastion does not verify (it verifies PyPI and npm): "
            "check it with crates.io's own tools",
        )
    }


def test_without_the_extra_says_what_to_install(
    sdist_release: Release, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sigstore.verify", None)
    outcome = run(capsys, "release", "trailofbits/pypi-attestations")
    assert outcome.code == 2
    assert outcome.out == ""
    assert outcome.err == (
        "bastion: `bastion release` verifies signatures with sigstore and pypi-attestations, "
        "which are not installed: install them with `pip install 'bastion[release]'` (from a "
        "clone: `pip install '.[release]'`)\n"
    )


def test_org_releases(sdist_release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    compliant_repo(sdist_release.github, sdist_release.org, "quiet")  # no release at all
    outcome = run(capsys, "org", "trailofbits", "--releases", "--format", "json")
    releases = {
        (f["path"], f["rule"], f["status"])
        for f in outcome.json()["findings"]
        if f["rule"].startswith(("release-", "registry-"))
    }
    assert releases == {(SDIST_REPO, "registry-environment", "fail")}
    assert outcome.code == 1
    paths = sdist_release.github.counters.by_path
    # The chain reads no setting that the audit alone needs: once per repository, the audit's.
    assert paths["GET /repos/O/R/actions/permissions"] == 2
    assert paths["GET /repos/O/R/collaborators"] == 2
    # What judges the tag and the environment: the audit's, and once more for the release.
    assert paths["GET /repos/O/R/rulesets"] == 3
    assert paths["GET /repos/O/R/environments"] == 3


def test_sarif_and_merge(
    sdist_release: Release, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sarif = run(capsys, "release", "trailofbits/pypi-attestations", "--format", "sarif")
    assert sarif.code == 1
    [result] = sarif.json()["runs"][0]["results"]
    assert (result["ruleId"], result["kind"], result["properties"]["status"]) == (
        "registry-environment",
        "fail",
        "fail",
    )
    report = tmp_path / "release.json"
    written = run(
        capsys, "release", "trailofbits/pypi-attestations", "--format", "json", "-o", str(report)
    )
    assert (written.code, written.out) == (1, "")
    merged = run(capsys, "merge", str(report), "--format", "json")
    assert found(merged) == {NO_ENVIRONMENT}


def test_signature_assets_need_no_attestation(
    wheel_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = wheel_release.repo
    repo.releases.clear()
    data = corpus("bundle_v3_github.whl")
    bundle = corpus("bundle_v3_github.whl.sigstore")
    wheel_release.github.release(repo, "v0.1.2", {WHEEL: data, f"{WHEEL}.sigstore.json": bundle})
    outcome = run(capsys, "release", "trailofbits/rfc8785.py")
    titles = [line.split(":")[0].split(maxsplit=1)[1] for line in outcome.out.splitlines()[1:-1]]
    assert titles == [
        "tag",
        "tag protection",
        "release",
        "assets",
        f"attestation of {WHEEL}",
        "signing workflow",
        "PyPI provenance of rfc8785 0.1.2",
    ]


SLSA_V1 = "https://slsa.dev/provenance/v1"
NPM_REPO = "127.0.0.1/ramonpetgrave64/gundam-visor"
NPM_PROVENANCE = "npm provenance of gundam-visor 1.0.1"


def npm(capsys: pytest.CaptureFixture[str], repository: str, *extra: str) -> Outcome:
    return release(capsys, repository, "--npm-package", NPM_PACKAGE, *extra)


def test_real_npm_provenance_verifies_and_its_job_has_no_environment(
    npm_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run(capsys, "release", "ramonpetgrave64/gundam-visor", "--npm-package", NPM_PACKAGE)
    assert outcome.code == 1
    assert outcome.out.splitlines() == [
        f"{NPM_REPO}: release v1.0.1",
        "  pass     tag: `v1.0.1` points at commit 599500821344, which is on `main`",
        "  pass     tag protection: release tags are immutable and their creation is gated",
        "  pass     release: the release is immutable",
        "  pass     assets: the release has no assets",
        f"  pass     {NPM_PROVENANCE}: the SLSA provenance of `pkg:npm/gundam-visor@1.0.1` (the "
        "sha512 of `dist.integrity`) is signed by `.github/workflows/npm-publish.yml` at "
        "`refs/tags/v1.0.1` of this repository, on a GitHub-hosted runner; signature, "
        "certificate and transparency-log entry verified",
        "  FAIL     npm publishing environment: `.github/workflows/npm-publish.yml: build` "
        "publish to npm from no environment: any run of the workflow can publish, without "
        "anyone's approval",
        "  the chain breaks at: npm publishing environment",
    ]
    assert outcome.err.endswith(", 2 registry requests\n")
    # As npm's CLI does: the version document, then the path its `dist.attestations` names.
    assert npm_release.registry.requests == [
        "/gundam-visor/1.0.1",
        "/-/npm/v1/attestations/gundam-visor@1.0.1",
    ]


def test_npm_chain_holds_from_a_protected_environment(
    npm_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real workflow with its job in the repository's protected `release` environment
    # (the workflow's content is not part of what was signed, only its path and ref).
    files, path = npm_release.repo.files, ".github/workflows/npm-publish.yml"
    files[path] = files[path].replace(
        b"    runs-on: ubuntu-latest\n", b"    runs-on: ubuntu-latest\n    environment: release\n"
    )
    outcome = run(capsys, "release", "ramonpetgrave64/gundam-visor", "--npm-package", NPM_PACKAGE)
    assert outcome.code == 0, outcome.out
    assert outcome.out.splitlines()[-2:] == [
        "  pass     environment `release`: used by npm job `.github/workflows/npm-publish.yml: "
        "build`: `release` needs another person's approval and deploys from `main` only",
        "  the chain holds",
    ]
    npm_release.repo.environments["release"]["prevent_self_review"] = False
    assert found(npm(capsys, "ramonpetgrave64/gundam-visor")) == {
        (
            "registry-environment",
            "fail",
            "release v1.0.1: environment `release`: used by npm job "
            "`.github/workflows/npm-publish.yml: build`: environment `release` lets the person "
            "who started the run approve it (no `prevent_self_review`)",
        )
    }


def _npm_fail(message: str) -> set[tuple[str, str, str]]:
    return {("registry-provenance", "fail", f"release v1.0.1: {NPM_PROVENANCE}: {message}")}


def test_npm_provenance_of_another_repository_fails(
    npm_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    server = npm_release.github
    repo = compliant_repo(server, npm_release.org, "visor-fork")
    repo.files = dict(npm_release.repo.files)
    repo.tags["v1.0.1"] = NPM_COMMIT
    repo.default_branch_commits.add(NPM_COMMIT)
    server.release(repo, "v1.0.1", {})
    assert found(npm(capsys, "ramonpetgrave64/visor-fork")) == _npm_fail(
        "no provenance verifies for this release: built in "
        "`https://github.com/ramonpetgrave64/gundam-visor`, not in "
        "`https://github.com/ramonpetgrave64/visor-fork`; signed by "
        "`https://github.com/ramonpetgrave64/gundam-visor/.github/workflows/npm-publish.yml"
        "@refs/tags/v1.0.1`, which is not a workflow of `ramonpetgrave64/visor-fork`"
    )


def test_npm_tarball_of_another_digest_fails(
    npm_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    # npm's integrity names a tampered tarball; the real provenance is served for it.
    npm_release.registry.publish_npm(
        NPM_PACKAGE, "1.0.1", npm_tarball() + b"\0", npm_attestations()
    )
    assert found(npm(capsys, "ramonpetgrave64/gundam-visor")) == _npm_fail(
        "no provenance verifies for this release: the signed statement is about other "
        "artifacts (no subject has this digest)"
    )


def test_npm_provenance_of_another_package_fails(
    npm_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real tarball and provenance, served as another package's.
    npm_release.registry.publish_npm("visor", "1.0.1", npm_tarball(), npm_attestations())
    assert found(release(capsys, "ramonpetgrave64/gundam-visor", "--npm-package", "visor")) == {
        (
            "registry-provenance",
            "fail",
            "release v1.0.1: npm provenance of visor 1.0.1: no provenance verifies for this "
            "release: the signed statement names `pkg:npm/gundam-visor@1.0.1`, not "
            "`pkg:npm/visor@1.0.1`",
        )
    }


def test_npm_provenance_with_a_tampered_statement_fails(
    npm_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    attestations = npm_attestations()
    [provenance] = [a for a in attestations["attestations"] if a["predicateType"] == SLSA_V1]
    envelope = provenance["bundle"]["dsseEnvelope"]
    statement = base64.b64decode(envelope["payload"])
    forged = statement.replace(b"refs/tags/v1.0.1", b"refs/tags/v1.0.2")
    envelope["payload"] = base64.b64encode(forged).decode()
    npm_release.registry.publish_npm(NPM_PACKAGE, "1.0.1", npm_tarball(), attestations)
    assert found(npm(capsys, "ramonpetgrave64/gundam-visor")) == _npm_fail(
        "no provenance verifies for this release: the signature does not verify: DSSE: "
        "invalid signature"
    )


def test_npm_version_without_attestations_fails(
    npm_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = npm_release.registry
    registry.npm_attestations.clear()
    registry.publish_npm(NPM_PACKAGE, "1.0.1", npm_tarball())  # without --provenance
    assert found(npm(capsys, "ramonpetgrave64/gundam-visor")) == _npm_fail(
        "the version has no provenance: its `dist` names no attestations (published without "
        "`--provenance` or trusted publishing)"
    )
    assert registry.requests == ["/gundam-visor/1.0.1"]


TAG_OBJECT = "a7f6" * 10
"""The SHA of an annotated tag's tag object (not a commit)."""


def test_annotated_tag_is_peeled_to_its_commit(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist_release.repo.annotated_tags["v0.0.19"] = TAG_OBJECT
    outcome = run(capsys, "release", "trailofbits/pypi-attestations")
    lines = outcome.out.splitlines()
    # The certificate's commit is compared with the commit the tag object tags.
    assert lines[1] == "  pass     tag: `v0.0.19` points at commit 08802efe1f8e, which is on `main`"
    assert lines[5].startswith(f"  pass     attestation of {SDIST}: signed ")
    paths = sdist_release.github.counters.by_path
    assert paths["GET /repos/O/R/git/ref/tags/v0.0.19"] == 1
    assert paths[f"GET /repos/O/R/git/tags/{TAG_OBJECT}"] == 1
    assert found(release(capsys, "trailofbits/pypi-attestations")) == {NO_ENVIRONMENT}


def test_annotated_tag_of_another_commit_fails(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = sdist_release.repo
    repo.annotated_tags["v0.0.19"] = TAG_OBJECT
    repo.tags["v0.0.19"] = "b" * 40  # the tag object now tags another commit
    repo.default_branch_commits.add("b" * 40)
    built = "built from commit 08802efe1f8e, but the tag points at bbbbbbbbbbbb"
    assert found(release(capsys, "trailofbits/pypi-attestations")) == {
        NO_ENVIRONMENT,
        (
            "release-attestation",
            "fail",
            f"release v0.0.19: attestation of {SDIST}: no attestation verifies for this release: "
            f"{built}",
        ),
        (
            "registry-provenance",
            "fail",
            f"release v0.0.19: PyPI provenance of pypi-attestations 0.0.19: `{SDIST}`: {built}",
        ),
    }


def test_unreadable_tag_object_leaves_the_tag_unknown(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist_release.repo.annotated_tags["v0.0.19"] = TAG_OBJECT
    sdist_release.github.fail(f"/git/tags/{TAG_OBJECT}", 500)
    assert (
        "release-tag",
        "unknown",
        f"release v0.0.19: tag: `v0.0.19` is an annotated tag; cannot read its tag object "
        f"{TAG_OBJECT[:12]}: GitHub answered 500 to /api/v3/repos/trailofbits/pypi-attestations/"
        f"git/tags/{TAG_OBJECT}",
    ) in found(release(capsys, "trailofbits/pypi-attestations"))


def test_link_ids_are_rules(capsys: pytest.CaptureFixture[str]) -> None:
    from bastion.rules import RULES_BY_ID
    from bastion.rules.release_links import RELEASE_LINK_RULES

    documented = (Path(__file__).parents[2] / "docs" / "release.md").read_text("utf-8")
    for rule in RELEASE_LINK_RULES:
        assert RULES_BY_ID[rule.id] is rule
        assert f"### `{rule.id}`" in documented
    outcome = run(capsys, "explain", "release-tag")
    assert outcome.code == 0
    assert outcome.out.startswith(
        "# release-tag\n\nrelease tag missing or not on the default branch. Default severity "
        "high, confidence high; playbook area release.\n"
    )


def test_ignore_and_select_apply_to_links(
    sdist_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    ignored = run(
        capsys, "release", "trailofbits/pypi-attestations", "--ignore", "registry-environment"
    )
    assert ignored.code == 0
    assert ignored.out.splitlines()[-1] == "  the chain holds"
    assert not any("publisher environment" in line for line in ignored.out.splitlines())
    assert ignored.err.startswith("bastion: 7 links: 7 pass, 0 fail, 0 unknown; ")
    sdist_release.repo.releases[0]["immutable"] = False
    selected = run(
        capsys,
        "release",
        "trailofbits/pypi-attestations",
        "--select",
        "release-tag,release-immutable",
    )
    assert selected.code == 1
    assert selected.out.splitlines()[1:] == [
        "  pass     tag: `v0.0.19` points at commit 08802efe1f8e, which is on `main`",
        "  FAIL     release: the release is not immutable: its assets can be replaced and its "
        "tag moved or deleted (only releases published after immutable releases were enabled "
        "are immutable)",
        "  the chain breaks at: release",
    ]
    as_json = release(capsys, "trailofbits/pypi-attestations", "--ignore", "release-immutable")
    assert found(as_json) == {NO_ENVIRONMENT}
    unknown = run(capsys, "release", "trailofbits/pypi-attestations", "--ignore", "release-tags")
    assert unknown.code == 2
    assert "release-tags" in unknown.err


def test_provenance_signed_on_staging_fails_with_that_reason(
    wheel_release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    from bastion.release.signatures import ON_STAGING

    wheel_release.registry.provenance[WHEEL] = {
        "version": 1,
        "attestation_bundles": [
            {
                "publisher": {
                    "kind": "GitHub",
                    "repository": "trailofbits/rfc8785.py",
                    "workflow": "release.yml",
                    "environment": "release",
                },
                "attestations": [corpus_json(f"{WHEEL}.publish.attestation")],
            }
        ],
    }
    assert (
        "registry-provenance",
        "fail",
        f"release v0.1.2: PyPI provenance of rfc8785 0.1.2: `{WHEEL}`: {ON_STAGING}",
    ) in found(release(capsys, "trailofbits/rfc8785.py"))
