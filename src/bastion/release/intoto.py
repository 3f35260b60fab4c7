"""npm's provenance bundles: DSSE envelopes that Rekor logged as ``intoto`` 0.0.2 entries.

sigstore-python 4 verifies a DSSE bundle whose log entry is ``dsse`` 0.0.1 or ``hashedrekord``
0.0.2, and refuses the ``intoto`` 0.0.2 entries that npm's CLI writes for every provenance
statement (sigstore-python issue 1384, open). All the cryptography stays sigstore-python's:
the certificate chain at the entry's integrated time, the SCT, the Merkle inclusion proof and
signed checkpoint, the signed entry timestamp that binds the integrated time, and the
envelope's signature. This module adds only the two steps that depend on the entry's kind:

* the integrated time of an ``intoto`` 0.0.2 entry counts as a verified time when an inclusion
  promise comes with it (sigstore-python verifies that promise with the log entry);
* the entry's body must record this envelope: the SHA-256 of its payload, its payload type,
  its one signature (stored base64-encoded twice) and the signing certificate (base64 of the
  PEM). The body's hash of the whole envelope cannot be recomputed (the envelope's JSON was
  never canonical), as sigstore-python says of ``dsse`` 0.0.1 entries.

This module imports sigstore at load: ``signatures.Verifier`` imports it when it is made.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore import dsse
from sigstore._internal.timestamp import TimestampSource, TimestampVerificationResult
from sigstore.errors import VerificationError
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier
from sigstore.verify.policy import VerificationPolicy

INTOTO_V002 = ("intoto", "0.0.2")
_HOOKS = ("_establish_time", "_verify_timestamp_authority", "_verify_common_signing_cert")
"""The steps of sigstore-python's verifier (4.x) that this module reuses or replaces."""


def supported() -> bool:
    """Whether the installed sigstore-python has the steps this module builds on."""
    return all(hasattr(Verifier, hook) for hook in _HOOKS) and hasattr(dsse, "_verify")


def log_entry_kind(bundle: Bundle) -> tuple[str, str]:
    kind = bundle.log_entry._inner.kind_version
    return str(kind.kind), str(kind.version)


class IntotoVerifier(Verifier):
    """sigstore-python's verifier, also for DSSE bundles logged as ``intoto`` 0.0.2."""

    @classmethod
    def public_good(cls) -> IntotoVerifier:
        """Against Sigstore's public-good instance, from the locally kept trust root."""
        return cls(trusted_root=ClientTrustConfig.production(offline=True).trusted_root)

    @classmethod
    def staging_instance(cls) -> IntotoVerifier:
        """Against Sigstore's staging instance (for telling why a bundle does not verify)."""
        return cls(trusted_root=ClientTrustConfig.staging(offline=True).trusted_root)

    def _establish_time(self, bundle: Bundle) -> list[TimestampVerificationResult]:
        if log_entry_kind(bundle) != INTOTO_V002:
            return super()._establish_time(bundle)
        times: list[TimestampVerificationResult] = []
        if bundle.verification_material.timestamp_verification_data:
            if not self._trusted_root.get_timestamp_authorities():
                raise VerificationError(
                    "the bundle has a signed timestamp but the trust root has no timestamp "
                    "authority"
                )
            times.extend(self._verify_timestamp_authority(bundle))
        entry = bundle.log_entry._inner
        if entry.integrated_time and entry.inclusion_promise:
            times.append(
                TimestampVerificationResult(
                    source=TimestampSource.TRANSPARENCY_SERVICE,
                    time=datetime.fromtimestamp(entry.integrated_time, tz=UTC),
                )
            )
        return times

    def verify_intoto(self, bundle: Bundle, policy: VerificationPolicy) -> tuple[str, bytes]:
        """``verify_dsse`` for an ``intoto`` 0.0.2 entry: (payload type, payload)."""
        if log_entry_kind(bundle) != INTOTO_V002:
            raise VerificationError("the log entry is not an intoto 0.0.2 entry")
        if not supported():
            raise VerificationError(
                "the log entry is an intoto 0.0.2 entry, which bastion verifies with "
                "sigstore-python 4's verifier steps, absent from the installed version"
            )
        envelope = bundle._dsse_envelope
        if envelope is None:
            raise VerificationError("the bundle holds no DSSE envelope")
        self._verify_common_signing_cert(bundle, policy)
        key = cast(ec.EllipticCurvePublicKey, bundle.signing_certificate.public_key())
        dsse._verify(key, envelope)
        _check_entry_body(bundle)
        return envelope._inner.payload_type, envelope._inner.payload


def _check_entry_body(bundle: Bundle) -> None:
    """The logged entry records this envelope and this certificate; else VerificationError."""
    envelope = bundle._dsse_envelope
    assert envelope is not None
    raw = bundle.log_entry._inner.canonicalized_body
    try:
        body = json.loads(raw)
        content = body["spec"]["content"]
        logged = content["envelope"]
        payload_hash = content["payloadHash"]
    except (ValueError, TypeError, KeyError):
        raise VerificationError("the intoto log entry has no envelope and payload hash") from None
    if (body.get("kind"), body.get("apiVersion")) != INTOTO_V002:
        raise VerificationError("the log entry's body is not an intoto 0.0.2 entry")
    payload = envelope._inner.payload
    if payload_hash != {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}:
        raise VerificationError("the log entry's payload hash does not match the envelope")
    if logged.get("payloadType") != envelope._inner.payload_type:
        raise VerificationError("the log entry's payload type does not match the envelope")
    certificate = bundle.signing_certificate.public_bytes(serialization.Encoding.DER)
    expected = [(signature.sig, certificate) for signature in envelope._inner.signatures]
    if _logged_signatures(logged.get("signatures")) != expected:
        raise VerificationError(
            "the log entry's signature or certificate does not match the envelope's"
        )


def _logged_signatures(signatures: Any) -> list[tuple[bytes, bytes]]:
    """(signature, DER certificate) of each logged signature; unreadable ones as empty."""
    found: list[tuple[bytes, bytes]] = []
    for signature in signatures if isinstance(signatures, list) else []:
        try:
            sig = base64.b64decode(base64.b64decode(signature["sig"], validate=True), validate=True)
            pem = base64.b64decode(signature["publicKey"], validate=True)
            certificate = x509.load_pem_x509_certificate(pem).public_bytes(
                serialization.Encoding.DER
            )
        except (binascii.Error, ValueError, TypeError, KeyError):
            sig = certificate = b""
        found.append((sig, certificate))
    return found
