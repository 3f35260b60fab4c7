"""Verification of the real bundles and attestations of ``shared/corpus/sigstore``, offline."""

from __future__ import annotations

import hashlib
import json

import pytest

from bastion.release.signatures import BundleError, Verifier, identity_problems
from tests.release.conftest import (
    SDIST,
    SDIST_COMMIT,
    WHEEL_COMMIT,
    corpus,
    corpus_json,
    dsse_bundle,
)

WHEEL_SHA256 = "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"
SDIST_SHA256 = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
GITLAB = "gitlab_oidc_project-0.0.3.tar.gz"
PUBLISH_V1 = pytest.importorskip("pypi_attestations").AttestationType.PYPI_PUBLISH_V1.value


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier()


def test_github_bundle_verifies_and_names_its_signer(verifier: Verifier) -> None:
    data = corpus("bundle_v3_github.whl")
    assert hashlib.sha256(data).hexdigest() == WHEEL_SHA256
    verified = verifier.bundle(corpus_json("bundle_v3_github.whl.sigstore"), WHEEL_SHA256)
    signer = verified.signer
    assert verified.predicate_type is None  # a plain signature, not an attestation
    assert signer.issuer == "https://token.actions.githubusercontent.com"
    assert signer.workflow == (
        "trailofbits/rfc8785.py",
        ".github/workflows/release.yml",
        "refs/tags/v0.1.2",
    )
    assert signer.runner_environment == "github-hosted"
    assert signer.source_repository_digest == WHEEL_COMMIT
    assert identity_problems(signer, "trailofbits/rfc8785.py", "v0.1.2", WHEEL_COMMIT) == []


def test_tampered_artifact_fails(verifier: Verifier) -> None:
    tampered = hashlib.sha256(corpus("bundle_v3_github.whl") + b"\0").hexdigest()
    with pytest.raises(BundleError, match=r"^the signature does not verify: Bundle message digest"):
        verifier.bundle(corpus_json("bundle_v3_github.whl.sigstore"), tampered)


def test_tampered_signature_fails(verifier: Verifier) -> None:
    bundle = corpus_json("bundle_v3_github.whl.sigstore")
    signature = bundle["messageSignature"]["signature"]
    bundle["messageSignature"]["signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(BundleError, match=r"^the signature does not verify"):
        verifier.bundle(bundle, WHEEL_SHA256)


def test_bundle_of_another_repository_is_judged(verifier: Verifier) -> None:
    signer = verifier.bundle(corpus_json("bundle_v3_github.whl.sigstore"), WHEEL_SHA256).signer
    assert identity_problems(signer, "acme/tool", "v0.1.2", None) == [
        "built in `https://github.com/trailofbits/rfc8785.py`, not in `https://github.com/acme/tool`",
        "signed by `https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml"
        "@refs/tags/v0.1.2`, which is not a workflow of `acme/tool`",
    ]
    assert identity_problems(signer, "trailofbits/rfc8785.py", "v9.9.9", "0" * 40) == [
        "signed by `.github/workflows/release.yml` at `refs/tags/v0.1.2`, "
        "not at `refs/tags/v9.9.9`",
        "built from commit d8b4a6445f38, but the tag points at 000000000000",
    ]


def test_pypi_provenance_verifies_with_a_publisher_without_environment(
    verifier: Verifier,
) -> None:
    provenance = corpus_json(f"{SDIST}.provenance")
    [bundle] = provenance["attestation_bundles"]
    assert bundle["publisher"] == {
        "kind": "GitHub",
        "repository": "trailofbits/pypi-attestations",
        "workflow": "release.yml",
        "environment": None,
    }
    [attestation] = bundle["attestations"]
    verified = verifier.pypi(attestation, SDIST, SDIST_SHA256)
    assert verified.predicate_type == PUBLISH_V1
    assert (
        identity_problems(verified.signer, "trailofbits/pypi-attestations", "v0.0.19", SDIST_COMMIT)
        == []
    )
    with pytest.raises(BundleError, match="subject does not match distribution digest"):
        verifier.pypi(attestation, SDIST, "0" * 64)


def test_pypi_attestation_as_dsse_bundle(verifier: Verifier) -> None:
    bundle = dsse_bundle(f"{SDIST}.publish.attestation")
    verified = verifier.bundle(bundle, SDIST_SHA256)
    assert verified.signer.workflow == (
        "trailofbits/pypi-attestations",
        ".github/workflows/release.yml",
        "refs/tags/v0.0.19",
    )
    with pytest.raises(BundleError, match=r"^the signed statement is about other artifacts"):
        verifier.bundle(bundle, "1" * 64)


def test_gitlab_identity_is_not_github(verifier: Verifier) -> None:
    sha256 = hashlib.sha256(corpus(GITLAB)).hexdigest()
    attestation = json.loads(corpus(f"{GITLAB}.publish.attestation"))
    verified = verifier.pypi(attestation, GITLAB, sha256)
    assert identity_problems(verified.signer, "facutuesca/gitlab-oidc-project", "v0.0.3", None) == [
        "signed by an identity of `https://gitlab.com` (https://gitlab.com/facutuesca/"
        "gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main), not by a GitHub Actions workflow"
    ]


def test_attestation_outside_the_public_good_instance_fails(verifier: Verifier) -> None:
    """The wheel's publish attestation in the corpus was not certified by the public-good
    Fulcio (its test assets come from Sigstore's staging instance): the chain is refused."""
    wheel = "rfc8785-0.1.2-py3-none-any.whl"
    attestation = json.loads(corpus(f"{wheel}.publish.attestation"))
    with pytest.raises(
        BundleError, match=r"^the attestation does not verify: .*timestamp certificate chain"
    ):
        verifier.pypi(attestation, wheel, WHEEL_SHA256)
