"""Sigstore verification, done by sigstore-python and pypi-attestations, never by hand.

Bundles are verified offline against Sigstore's public-good trust root as sigstore-python
keeps it (its local TUF cache, seeded from the root it ships): the certificate chain to
Fulcio, the signed certificate timestamp, the transparency-log inclusion proof carried by
the bundle, and the signature over the artifact's digest (or over the DSSE envelope, whose
in-toto subjects must then name the digest). Only then is the signer's identity read from
the certificate's Fulcio extensions and judged (``identity_problems``).

Both libraries are the optional extra ``bastion[release]``: they are imported when a
``Verifier`` is made, so that the other commands neither need nor load them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bastion.errors import BastionError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.models import Bundle

    from bastion.release.intoto import IntotoVerifier

INSTALL_HINT = (
    "`bastion release` verifies signatures with sigstore and pypi-attestations, which are "
    "not installed: install them with `pip install 'bastion[release]'` (from a clone: "
    "`pip install '.[release]'`)"
)
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_WEB = "https://github.com"
"""Whose identities the public-good Sigstore certifies: github.com's workflows."""
GITHUB_HOSTED = "github-hosted"
IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
ON_STAGING = (
    "signed on Sigstore's staging instance, not the public-good one: it verifies against the "
    "staging trust root only, whose certificates are handed out for tests, so it says nothing "
    "about this release"
)

# Fulcio's certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md).
_ISSUER = "1.3.6.1.4.1.57264.1.8"
_BUILD_SIGNER_URI = "1.3.6.1.4.1.57264.1.9"
_RUNNER_ENVIRONMENT = "1.3.6.1.4.1.57264.1.11"
_SOURCE_REPOSITORY_URI = "1.3.6.1.4.1.57264.1.12"
_SOURCE_REPOSITORY_DIGEST = "1.3.6.1.4.1.57264.1.13"
_SOURCE_REPOSITORY_REF = "1.3.6.1.4.1.57264.1.14"
_BUILD_CONFIG_URI = "1.3.6.1.4.1.57264.1.18"


class MissingExtra(BastionError):
    """sigstore or pypi-attestations is not installed."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


class BundleError(Exception):
    """A bundle or attestation that does not verify; the message says why."""


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signed, as the (verified) certificate says."""

    issuer: str | None
    build_signer_uri: str | None
    """The workflow that signed: ``https://github.com/O/R/.github/workflows/F@REF``."""
    runner_environment: str | None
    source_repository_uri: str | None
    source_repository_digest: str | None
    source_repository_ref: str | None
    build_config_uri: str | None

    @property
    def workflow(self) -> tuple[str, str, str] | None:
        """(``OWNER/REPO``, ``.github/workflows/F``, ``REF``) of the signing workflow."""
        uri = self.build_signer_uri or ""
        prefix = GITHUB_WEB + "/"
        if not uri.startswith(prefix) or "@" not in uri:
            return None
        where, _, ref = uri[len(prefix) :].partition("@")
        parts = where.split("/", 2)
        if len(parts) != 3 or not parts[2].startswith(".github/workflows/"):
            return None
        return f"{parts[0]}/{parts[1]}", parts[2], ref

    def describe(self) -> str:
        return self.build_signer_uri or self.source_repository_uri or "an unknown identity"


@dataclass(frozen=True, slots=True)
class Verified:
    signer: Signer
    predicate_type: str | None
    """The in-toto predicate type of a DSSE attestation; None for a plain signature."""


def _quiet() -> None:
    # sigstore-python warns through logging that the trust root is used offline; without a
    # handler Python would print that on standard error.
    logging.getLogger("sigstore").addHandler(logging.NullHandler())
    logging.getLogger("sigstore").propagate = False


class Verifier:
    """One sigstore-python verifier for a whole run (the trust root is read once)."""

    def __init__(self) -> None:
        try:
            import pypi_attestations  # noqa: F401
            import sigstore.verify  # noqa: F401
        except ImportError:
            raise MissingExtra from None
        from bastion.release.intoto import IntotoVerifier

        _quiet()
        try:
            self._verifier = IntotoVerifier.public_good()
        except Exception as error:  # sigstore's TUF errors have no common base we can name
            raise BastionError(f"cannot load Sigstore's trust root: {error}") from None
        self._staging_verifier: IntotoVerifier | None = None
        self.verified = 0
        """Bundles verified, for the bench."""
        self._lock = threading.Lock()
        """One verification at a time: pypi-attestations reads (and on first use writes)
        sigstore-python's trust-root cache, which threads must not race on."""

    def bundle(
        self,
        document: Any,
        sha256: str | None,
        *,
        sha512: str | None = None,
        name: str | None = None,
    ) -> Verified:
        """Verify a Sigstore bundle (JSON) for an artifact of that SHA-256 (or SHA-512); with
        ``name``, the in-toto subject of that digest must also bear that name."""
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import Bundle

        try:
            raw = document if isinstance(document, bytes) else json.dumps(document)
            bundle = Bundle.from_json(raw)
        except (SigstoreError, ValueError, TypeError) as error:
            raise BundleError(f"not a Sigstore bundle: {_first_line(error)}") from None
        with self._lock:
            return self._verify_bundle(bundle, sha256, sha512, name)

    def _verify_bundle(
        self, bundle: Bundle, sha256: str | None, sha512: str | None, name: str | None
    ) -> Verified:
        from sigstore.errors import Error as SigstoreError

        try:
            predicate = _verify_with(self._verifier, bundle, sha256, sha512, name)
        except (SigstoreError, ValueError) as error:
            if self._on_staging(
                lambda: _verify_with(self._staging(), bundle, sha256, sha512, name)
            ):
                raise BundleError(ON_STAGING) from None
            raise BundleError(f"the signature does not verify: {_first_line(error)}") from None
        self.verified += 1
        return Verified(signer_of(bundle.signing_certificate), predicate)

    def pypi(self, attestation: Any, filename: str, sha256: str) -> Verified:
        """Verify a PEP 740 attestation for the distribution ``filename``."""
        from cryptography import x509
        from pydantic import ValidationError
        from pypi_attestations import Attestation, AttestationError, Distribution

        try:
            parsed = Attestation.model_validate(attestation)
            distribution = Distribution(name=filename, digest=sha256)
        except (ValidationError, ValueError) as error:
            raise BundleError(f"not a PEP 740 attestation: {_first_line(error)}") from None
        with self._lock:
            try:
                predicate, _ = parsed.verify(_ACCEPT, distribution, offline=True)
            except (AttestationError, ValueError) as error:
                if self._on_staging(
                    lambda: parsed.verify(_ACCEPT, distribution, staging=True, offline=True)
                ):
                    raise BundleError(ON_STAGING) from None
                raise BundleError(
                    f"the attestation does not verify: {_first_line(error)}"
                ) from None
        self.verified += 1
        certificate = x509.load_der_x509_certificate(parsed.verification_material.certificate)
        return Verified(signer_of(certificate), predicate)

    def _staging(self) -> IntotoVerifier:
        from bastion.release.intoto import IntotoVerifier

        if self._staging_verifier is None:
            self._staging_verifier = IntotoVerifier.staging_instance()
        return self._staging_verifier

    def _on_staging(self, verify: Callable[[], object]) -> bool:
        """Whether what failed against the public-good root verifies against the staging one
        (sigstore-python ships both): then the failure has that exact reason."""
        try:
            verify()
        except Exception:  # any refusal, including TUF errors, which have no common base
            return False
        return True


def _verify_with(
    verifier: IntotoVerifier,
    bundle: Bundle,
    sha256: str | None,
    sha512: str | None,
    name: str | None,
) -> str | None:
    """Verify with ``verifier``: the statement's predicate type (None for a plain signature)."""
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    from bastion.release.intoto import INTOTO_V002, log_entry_kind

    if bundle._dsse_envelope is not None:  # no public accessor
        if log_entry_kind(bundle) == INTOTO_V002:  # npm's provenance
            kind, payload = verifier.verify_intoto(bundle, _ACCEPT)
        else:
            kind, payload = verifier.verify_dsse(bundle, _ACCEPT)
        return _statement_names(kind, payload, sha256, sha512, name)
    if sha256 is None:
        raise BundleError("a plain signature needs the artifact's SHA-256")
    digest = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(sha256))
    verifier.verify_artifact(digest, bundle, _ACCEPT)
    return None


class _AcceptAnyIdentity:
    """sigstore's policy hook, left open: the identity is judged after verification, claim by
    claim, so that a report can say which claim is wrong."""

    def verify(self, cert: Certificate) -> None:
        return None


_ACCEPT = _AcceptAnyIdentity()


def _statement_names(
    kind: str, payload: bytes, sha256: str | None, sha512: str | None, name: str | None
) -> str:
    """The predicate type of an in-toto statement that names the digest (and ``name``, when
    given); else BundleError."""
    if kind != IN_TOTO_PAYLOAD:
        raise BundleError(f"the envelope holds `{kind}`, not an in-toto statement")
    try:
        statement = json.loads(payload)
    except ValueError:
        raise BundleError("the signed statement is not JSON") from None
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    wanted = {("sha256", (sha256 or "").lower()), ("sha512", (sha512 or "").lower())}
    matching = [
        str(subject.get("name"))
        for subject in subjects or []
        if isinstance(subject, dict)
        and isinstance(subject.get("digest"), dict)
        and wanted
        & {(str(algorithm), str(value).lower()) for algorithm, value in subject["digest"].items()}
    ]
    if not matching:
        raise BundleError(
            "the signed statement is about other artifacts (no subject has this digest)"
        )
    if name is not None and name not in matching:
        raise BundleError(f"the signed statement names `{matching[0]}`, not `{name}`")
    return str(statement.get("predicateType", ""))


def signer_of(certificate: Certificate) -> Signer:
    """The Fulcio claims of a certificate, decoded by cryptography's DER reader."""
    from cryptography.hazmat import asn1

    claims: dict[str, str] = {}
    wanted = {
        _ISSUER,
        _BUILD_SIGNER_URI,
        _RUNNER_ENVIRONMENT,
        _SOURCE_REPOSITORY_URI,
        _SOURCE_REPOSITORY_DIGEST,
        _SOURCE_REPOSITORY_REF,
        _BUILD_CONFIG_URI,
    }
    for extension in certificate.extensions:
        oid = extension.oid.dotted_string
        if oid not in wanted:
            continue
        try:
            claims[oid] = asn1.decode_der(str, extension.value.value)
        except (ValueError, AttributeError):
            continue
    return Signer(
        claims.get(_ISSUER),
        claims.get(_BUILD_SIGNER_URI),
        claims.get(_RUNNER_ENVIRONMENT),
        claims.get(_SOURCE_REPOSITORY_URI),
        claims.get(_SOURCE_REPOSITORY_DIGEST),
        claims.get(_SOURCE_REPOSITORY_REF),
        claims.get(_BUILD_CONFIG_URI),
    )


def identity_problems(signer: Signer, repository: str, tag: str, commit: str | None) -> list[str]:
    """What is wrong with a verified signer for a release of ``repository`` at ``tag``."""
    if signer.issuer != GITHUB_ACTIONS_ISSUER:
        return [
            f"signed by an identity of `{signer.issuer or 'an unknown issuer'}` "
            f"({signer.describe()}), not by a GitHub Actions workflow"
        ]
    problems = []
    expected_source = f"{GITHUB_WEB}/{repository}"
    if (signer.source_repository_uri or "").casefold() != expected_source.casefold():
        problems.append(f"built in `{signer.source_repository_uri}`, not in `{expected_source}`")
    workflow = signer.workflow
    if workflow is None or workflow[0].casefold() != repository.casefold():
        problems.append(
            f"signed by `{signer.build_signer_uri}`, which is not a workflow of `{repository}`"
        )
    elif workflow[2] != f"refs/tags/{tag}":
        problems.append(f"signed by `{workflow[1]}` at `{workflow[2]}`, not at `refs/tags/{tag}`")
    if commit and signer.source_repository_digest and signer.source_repository_digest != commit:
        problems.append(
            f"built from commit {signer.source_repository_digest[:12]}, but the tag points at "
            f"{commit[:12]}"
        )
    if signer.runner_environment != GITHUB_HOSTED:
        problems.append(
            f"ran on a `{signer.runner_environment or 'unknown'}` runner, not a GitHub-hosted one"
        )
    return problems


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
