"""Benchmark `bastion release`: the requests one release costs, and the time of a verification.

Usage: python bench/release.py [--rounds N] [--repositories N] [--json]

The release is the real one the tests rebuild (tests/release/conftest.py): pypi-attestations
v0.0.19 with its sdist, GitHub attestation and PyPI provenance from shared/corpus/sigstore,
on the loopback GitHub of the tests and a loopback PyPI. The chain runs twice with one ETag
cache (the second run is answered with 304s where GitHub would), and every verification of
the real bundles is timed over N rounds (sigstore-python, offline trust root). Then
`org --releases` over N repositories that each publish that release: the requests per
repository of the release chains, alone and after the organisation's settings audit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.release.conftest import (  # noqa: E402
    SDIST,
    SDIST_COMMIT,
    corpus,
    corpus_json,
    dsse_bundle,
    npm_attestations,
    npm_tarball,
)
from tests.release.registry import serving  # noqa: E402
from tests.settings.conftest import compliant_org, compliant_repo  # noqa: E402
from tests.settings.server import ALL_PERMISSIONS, GitHub  # noqa: E402

from bastion.config import Config  # noqa: E402
from bastion.github.host import Host, Token  # noqa: E402
from bastion.github.rest import RestClient  # noqa: E402
from bastion.release.audit import check_organization, check_repository  # noqa: E402
from bastion.release.chain import ReleaseOptions  # noqa: E402
from bastion.release.registries import RegistryClient  # noqa: E402
from bastion.release.signatures import Verifier  # noqa: E402
from bastion.settings.audit import audit_organization  # noqa: E402

TOKEN = "bench-token"
WHEEL_SHA256 = "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"
SDIST_SHA256 = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"


def requests(rounds: int) -> list[dict[str, Any]]:
    runs = []
    with GitHub() as github, serving() as registry, tempfile.TemporaryDirectory() as cache:
        github.add_token(TOKEN, ALL_PERMISSIONS)
        org = compliant_org(github, "trailofbits", repos=0)
        repo = compliant_repo(github, org, "pypi-attestations")
        repo.tags["v0.0.19"] = SDIST_COMMIT
        repo.default_branch_commits.add(SDIST_COMMIT)
        data = corpus(SDIST)
        github.release(repo, "v0.0.19", {SDIST: data})
        repo.attestations[SDIST_SHA256] = [dsse_bundle(f"{SDIST}.publish.attestation")]
        registry.files[("pypi-attestations", "0.0.19")] = [(SDIST, data)]
        registry.provenance[SDIST] = corpus_json(f"{SDIST}.provenance")
        for number in range(1, rounds + 1):
            client = RestClient(
                Host.from_web_url(github.web_url), Token(TOKEN, "bench"), cache_dir=Path(cache)
            )
            github.counters.by_path.clear()
            before = github.counters.counted
            registry_client = RegistryClient()
            started = time.perf_counter()
            check = check_repository(
                client,
                Config(),
                "trailofbits",
                "pypi-attestations",
                options=ReleaseOptions(pypi_url=registry.url),
                registry=registry_client,
            )
            seconds = time.perf_counter() - started
            runs.append(
                {
                    "run": number,
                    "seconds": seconds,
                    "github_requests": client.stats.requests,
                    "github_counted": github.counters.counted - before,
                    "registry_requests": registry_client.requests,
                    "links": len(check.links),
                    "by_endpoint": dict(sorted(github.counters.by_path.items())),
                }
            )
    return runs


def organization(repositories: int) -> dict[str, Any]:
    """`org --releases` over ``repositories`` repositories that each publish the real release:
    the requests of the release chains, per repository, alone and after the settings audit
    (one client, so the audit's answers are in its ETag cache)."""
    with GitHub() as github, serving() as registry, tempfile.TemporaryDirectory() as cache:
        github.add_token(TOKEN, ALL_PERMISSIONS)
        org = compliant_org(github, "trailofbits", repos=0)
        data = corpus(SDIST)
        for number in range(repositories):
            repo = compliant_repo(github, org, f"tool-{number}")
            repo.tags["v0.0.19"] = SDIST_COMMIT
            repo.default_branch_commits.add(SDIST_COMMIT)
            github.release(repo, "v0.0.19", {SDIST: data})
            repo.attestations[SDIST_SHA256] = [dsse_bundle(f"{SDIST}.publish.attestation")]
        registry.files[("pypi-attestations", "0.0.19")] = [(SDIST, data)]
        registry.provenance[SDIST] = corpus_json(f"{SDIST}.provenance")
        options = ReleaseOptions(pypi_url=registry.url)
        found: dict[str, Any] = {"repositories": repositories}
        for label, with_audit in (("releases", False), ("audit_then_releases", True)):
            client = RestClient(
                Host.from_web_url(github.web_url),
                Token(TOKEN, "bench"),
                cache_dir=Path(cache) / label,
            )
            if with_audit:
                audit_organization(client, Config(), "trailofbits")
            github.counters.by_path.clear()
            before_requests, before_304 = client.stats.requests, client.stats.not_modified
            before_counted = github.counters.counted
            check_organization(client, Config(), "trailofbits", options, RegistryClient())
            found[label] = {
                "github_requests_per_repository": (client.stats.requests - before_requests)
                / repositories,
                "counted_per_repository": (github.counters.counted - before_counted) / repositories,
                "answered_304": client.stats.not_modified - before_304,
                "by_endpoint": dict(sorted(github.counters.by_path.items())),
            }
    return found


def verifications(rounds: int) -> dict[str, float]:
    verifier = Verifier()
    bundle = corpus_json("bundle_v3_github.whl.sigstore")
    dsse = dsse_bundle(f"{SDIST}.publish.attestation")
    [attestation] = corpus_json(f"{SDIST}.provenance")["attestation_bundles"][0]["attestations"]
    [npm] = [
        item["bundle"]
        for item in npm_attestations()["attestations"]
        if item["predicateType"] == "https://slsa.dev/provenance/v1"
    ]
    npm_sha512 = hashlib.sha512(npm_tarball()).hexdigest()
    cases: dict[str, Callable[[], object]] = {
        "Sigstore bundle v0.3, plain signature (GitHub attestation)": lambda: verifier.bundle(
            bundle, WHEEL_SHA256
        ),
        "Sigstore bundle v0.3, DSSE in-toto statement": lambda: verifier.bundle(dsse, SDIST_SHA256),
        "PEP 740 attestation (pypi-attestations)": lambda: verifier.pypi(
            attestation, SDIST, SDIST_SHA256
        ),
        "npm SLSA provenance (DSSE, Rekor intoto 0.0.2)": lambda: verifier.bundle(
            npm, None, sha512=npm_sha512, name="pkg:npm/gundam-visor@1.0.1"
        ),
    }
    timings = {}
    for name, case in cases.items():
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            case()
            samples.append(time.perf_counter() - started)
        timings[name] = statistics.median(samples)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repositories", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        # sigstore-python keeps its trust root under the user's directories.
        os.environ["XDG_CACHE_HOME"] = str(Path(home) / "cache")
        os.environ["XDG_DATA_HOME"] = str(Path(home) / "data")
        runs = requests(2)
        org = organization(arguments.repositories)
        timings = verifications(arguments.rounds)
    if arguments.json:
        document = {"runs": runs, "organization": org, "verification_seconds": timings}
        print(json.dumps(document, indent=2))
        return 0
    print("| Run | Wall time | GitHub requests | counted against the limit | Registry requests |")
    print("|---|---:|---:|---:|---:|")
    for run in runs:
        label = "first (empty cache)" if run["run"] == 1 else "second (ETag cache)"
        print(
            f"| {label} | {run['seconds'] * 1000:.0f} ms | {run['github_requests']} | "
            f"{run['github_counted']} | {run['registry_requests']} |"
        )
    print()
    print("GitHub requests of the first run, by endpoint:")
    for endpoint, count in runs[0]["by_endpoint"].items():
        print(f"  {count:3d}  {endpoint}")
    print()
    print(f"`org --releases` over {org['repositories']} repositories, release chains only:")
    print("| Before the chains | GitHub requests per repository | counted | 304 answers |")
    print("|---|---:|---:|---:|")
    for label, title in (("releases", "nothing"), ("audit_then_releases", "the settings audit")):
        row = org[label]
        print(
            f"| {title} | {row['github_requests_per_repository']:.1f} | "
            f"{row['counted_per_repository']:.1f} | {row['answered_304']} |"
        )
    print()
    print("GitHub requests of the release chains (after nothing), by endpoint:")
    for endpoint, count in org["releases"]["by_endpoint"].items():
        print(f"  {count:3d}  {endpoint}")
    print()
    print(f"| Verification (median of {arguments.rounds}) | Time |")
    print("|---|---:|")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds * 1000:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
