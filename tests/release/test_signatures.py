"""Verification of the real bundles and attestations of ``shared/corpus/sigstore``, offline."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from bastion.release.signatures import ON_STAGING, BundleError, Verifier, identity_problems
from tests.release.conftest import (
    NPM_COMMIT,
    SDIST,
    SDIST_COMMIT,
    WHEEL_COMMIT,
    corpus,
    corpus_json,
    dsse_bundle,
    npm_attestations,
    npm_tarball,
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


STAGING_REKOR_LOG_ID = "0y8wo8MtY5wrdiIFohx7sHeI5oKDpK5vQhGHI6G+pJY="
"""The log id of Sigstore's staging Rekor (sigstore-python's staging trust root)."""


def test_attestation_signed_on_staging_says_so(verifier: Verifier) -> None:
    """The wheel's publish attestation in the corpus was signed on Sigstore's staging
    instance: its Rekor entry is in the staging log and its certificate verifies against the
    staging trust root only (an OAuth login identity, a test signature)."""
    wheel = "rfc8785-0.1.2-py3-none-any.whl"
    attestation = json.loads(corpus(f"{wheel}.publish.attestation"))
    [entry] = attestation["verification_material"]["transparency_entries"]
    assert entry["logId"]["keyId"] == STAGING_REKOR_LOG_ID
    with pytest.raises(BundleError) as refused:
        verifier.pypi(attestation, wheel, WHEEL_SHA256)
    assert str(refused.value) == ON_STAGING
    # The same attestation as a Sigstore bundle (GitHub's attestations API) is told the same.
    from pypi_attestations import Attestation

    bundle = json.loads(Attestation.model_validate(attestation).to_bundle().to_json())
    with pytest.raises(BundleError) as refused:
        verifier.bundle(bundle, WHEEL_SHA256)
    assert str(refused.value) == ON_STAGING
    # A staging attestation of other bytes is no more than a signature that does not verify.
    with pytest.raises(BundleError, match=r"^the attestation does not verify: "):
        verifier.pypi(attestation, wheel, "0" * 64)


NPM_SHA512 = (
    "8d9d7972f676516c75014aa074e11ae604d98f0b64ec6725a61e2838ff3dab162118fa71433fb31e1550d30bd0de"
    "c9d086ce032b94457b583900c507acf39c40"
)
NPM_PURL = "pkg:npm/gundam-visor@1.0.1"


def npm_bundle(predicate_type: str = "https://slsa.dev/provenance/v1") -> Any:
    [found] = [
        a["bundle"]
        for a in npm_attestations()["attestations"]
        if a["predicateType"] == predicate_type
    ]
    return found


def test_npm_provenance_logged_as_intoto_verifies(verifier: Verifier) -> None:
    assert hashlib.sha512(npm_tarball()).hexdigest() == NPM_SHA512
    bundle = npm_bundle()
    assert bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"] == {
        "kind": "intoto",
        "version": "0.0.2",
    }
    verified = verifier.bundle(bundle, None, sha512=NPM_SHA512, name=NPM_PURL)
    assert verified.predicate_type == "https://slsa.dev/provenance/v1"
    assert verified.signer.workflow == (
        "ramonpetgrave64/gundam-visor",
        ".github/workflows/npm-publish.yml",
        "refs/tags/v1.0.1",
    )
    assert (
        identity_problems(verified.signer, "ramonpetgrave64/gundam-visor", "v1.0.1", NPM_COMMIT)
        == []
    )


def test_npm_publish_attestation_is_not_a_sigstore_certificate_bundle(verifier: Verifier) -> None:
    # npm's own attestation is signed with the registry's key, not a Fulcio certificate.
    publish = npm_bundle("https://github.com/npm/attestation/tree/main/specs/publish/v0.1")
    with pytest.raises(BundleError, match=r"^not a Sigstore bundle: expected certificate chain"):
        verifier.bundle(publish, None, sha512=NPM_SHA512)


def test_npm_provenance_with_an_edited_log_entry_fails(verifier: Verifier) -> None:
    bundle = npm_bundle()
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    body = json.loads(base64.b64decode(entry["canonicalizedBody"]))
    body["spec"]["content"]["payloadHash"]["value"] = "0" * 64
    entry["canonicalizedBody"] = base64.b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(BundleError, match=r"^the signature does not verify: invalid log entry"):
        verifier.bundle(bundle, None, sha512=NPM_SHA512)


def _entry_body_problem(bundle: Any) -> str:
    from sigstore.errors import VerificationError
    from sigstore.models import Bundle

    from bastion.release.intoto import _check_entry_body

    with pytest.raises(VerificationError) as raised:
        _check_entry_body(Bundle.from_json(json.dumps(bundle)))
    return str(raised.value)


def test_log_entry_must_record_the_envelope_and_certificate() -> None:
    """The checks after sigstore-python's: each one alone, on the real bundle."""
    bundle = npm_bundle()
    envelope = bundle["dsseEnvelope"]
    payload = envelope["payload"]
    envelope["payload"] = base64.b64encode(base64.b64decode(payload) + b" ").decode()
    assert _entry_body_problem(bundle) == (
        "the log entry's payload hash does not match the envelope"
    )
    envelope["payload"] = payload
    envelope["payloadType"] = "application/json"
    assert _entry_body_problem(bundle) == (
        "the log entry's payload type does not match the envelope"
    )
    envelope["payloadType"] = "application/vnd.in-toto+json"
    # Another real Fulcio certificate (rfc8785's release) in place of the signing one.
    other = corpus_json("bundle_v3_github.whl.sigstore")["verificationMaterial"]
    bundle["verificationMaterial"]["x509CertificateChain"] = other["x509CertificateChain"]
    assert _entry_body_problem(bundle) == (
        "the log entry's signature or certificate does not match the envelope's"
    )


def test_intoto_entries_need_sigstore_pythons_steps(
    verifier: Verifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sigstore.verify import Verifier as SigstoreVerifier

    from bastion.release import intoto

    assert intoto.supported()
    monkeypatch.delattr(SigstoreVerifier, "_verify_common_signing_cert")
    with pytest.raises(BundleError) as refused:
        verifier.bundle(npm_bundle(), None, sha512=NPM_SHA512)
    assert str(refused.value) == (
        "the signature does not verify: the log entry is an intoto 0.0.2 entry, which bastion "
        "verifies with sigstore-python 4's verifier steps, absent from the installed version"
    )
