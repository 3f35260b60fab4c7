"""Fixtures: the loopback GitHub of the settings tests with releases and attestations made of
the real signed artifacts of ``shared/corpus/sigstore``, and a loopback package registry.

Two real releases are rebuilt, each as its project published it:

* ``trailofbits/rfc8785.py`` at ``v0.1.2``: the wheel and the Sigstore bundle (v0.3, a plain
  signature) that its release workflow made on a GitHub-hosted runner;
* ``trailofbits/pypi-attestations`` at ``v0.0.19``: the sdist, its PyPI provenance (Trusted
  Publisher without an environment) and its publish attestation; GitHub's attestations API
  answers with that attestation as the Sigstore bundle it was made from (a DSSE envelope),
  converted back by pypi-attestations.

And one npm release, from ``data/`` (see its README): ``ramonpetgrave64/gundam-visor`` at
``v1.0.1``, its real tarball and npm attestations, its workflow read from the tarball.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.release.registry import Registry, serving
from tests.settings.conftest import RELEASE_WORKFLOW, compliant_org, compliant_repo, github, run
from tests.settings.server import GitHub, Org, Repo
from tests.shared import SHARED, require

__all__ = ["github", "run"]

SIGSTORE = SHARED / "corpus" / "sigstore"
WHEEL = "rfc8785-0.1.2-py3-none-any.whl"
WHEEL_COMMIT = "d8b4a6445f38c48b9137a8099706d9b8073146e4"
SDIST = "pypi_attestations-0.0.19.tar.gz"
SDIST_COMMIT = "08802efe1f8e5fec4ad842d6b8ce97656092ee72"
GITLAB_SDIST = "gitlab_oidc_project-0.0.3.tar.gz"
DATA = Path(__file__).parent / "data"
NPM_PACKAGE = "gundam-visor"
NPM_COMMIT = "599500821344b070902a7a5666064bfdaba715df"
NPM_WORKFLOW = ".github/workflows/npm-publish.yml"


def corpus(name: str) -> bytes:
    return require(SIGSTORE / name).read_bytes()


def corpus_json(name: str) -> Any:
    return json.loads(corpus(name))


def dsse_bundle(attestation_file: str) -> Any:
    """A PEP 740 attestation as the Sigstore bundle it was made from."""
    from pypi_attestations import Attestation

    attestation = Attestation.model_validate_json(corpus(attestation_file))
    return json.loads(attestation.to_bundle().to_json())


@pytest.fixture(autouse=True)
def _sigstore_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """sigstore-python keeps its trust root under the user's directories: use the test's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    pytest.importorskip("sigstore")
    pytest.importorskip("pypi_attestations")


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    with serving() as found:
        monkeypatch.setenv("BASTION_PYPI_URL", found.url)
        monkeypatch.setenv("BASTION_NPM_URL", found.url)
        yield found


@dataclass
class Release:
    github: GitHub
    registry: Registry
    org: Org
    repo: Repo


def _repository(github: GitHub, login: str, name: str, tag: str, commit: str) -> Release:
    org = github.orgs.get(login) or compliant_org(github, login, repos=0)
    repo = compliant_repo(github, org, name)
    repo.immutable_releases = True
    repo.tags[tag] = commit
    repo.default_branch_commits.add(commit)
    return Release(github, Registry(), org, repo)


@pytest.fixture
def wheel_release(github: GitHub, registry: Registry) -> Release:
    """rfc8785.py v0.1.2: the wheel on the release, with its real GitHub-workflow bundle."""
    release = _repository(github, "trailofbits", "rfc8785.py", "v0.1.2", WHEEL_COMMIT)
    release.registry = registry
    data = corpus("bundle_v3_github.whl")
    github.release(release.repo, "v0.1.2", {WHEEL: data})
    release.repo.attestations[_sha256(data)] = [corpus_json("bundle_v3_github.whl.sigstore")]
    # Published with a token, so PyPI has no provenance for it: another test adds one.
    registry.files[("rfc8785", "0.1.2")] = [(WHEEL, data)]
    return release


@pytest.fixture
def sdist_release(github: GitHub, registry: Registry) -> Release:
    """pypi-attestations v0.0.19: the sdist on the release and on PyPI, with its provenance."""
    release = _repository(github, "trailofbits", "pypi-attestations", "v0.0.19", SDIST_COMMIT)
    release.registry = registry
    data = corpus(SDIST)
    github.release(release.repo, "v0.0.19", {SDIST: data})
    release.repo.attestations[_sha256(data)] = [dsse_bundle(f"{SDIST}.publish.attestation")]
    registry.files[("pypi-attestations", "0.0.19")] = [(SDIST, data)]
    registry.provenance[SDIST] = corpus_json(f"{SDIST}.provenance")
    return release


def npm_tarball() -> bytes:
    return (DATA / "gundam-visor-1.0.1.tgz").read_bytes()


def npm_attestations() -> Any:
    return json.loads((DATA / "gundam-visor-1.0.1.attestations.json").read_bytes())


def _packed(tarball: bytes, member: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        found = archive.extractfile(member)
        assert found is not None
        return found.read()


@pytest.fixture
def npm_release(github: GitHub, registry: Registry) -> Release:
    """gundam-visor v1.0.1: a release without assets, published to npm with provenance by the
    workflow the tarball carries."""
    release = _repository(github, "ramonpetgrave64", NPM_PACKAGE, "v1.0.1", NPM_COMMIT)
    release.registry = registry
    tarball = npm_tarball()
    release.repo.files = {NPM_WORKFLOW: _packed(tarball, f"package/{NPM_WORKFLOW}")}
    github.release(release.repo, "v1.0.1", {})
    registry.publish_npm(NPM_PACKAGE, "1.0.1", tarball, npm_attestations())
    return release


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


__all__ += ["RELEASE_WORKFLOW"]
