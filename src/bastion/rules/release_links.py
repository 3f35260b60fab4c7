"""The links of a release's chain, as `bastion release` and `bastion org --releases` judge them.

They check no file: ``bastion.release.chain`` follows a release from its tag to the registries
and ends each link pass, fail or unknown. These classes give the links their ids (for
``--select``, ``--ignore`` and the configuration), documentation (`bastion explain`) and
default severities. docs/release.md describes the whole chain.
"""

from __future__ import annotations

from bastion.findings import Area, Confidence, Severity
from bastion.rules.base import Rule


class ReleaseLink(Rule):
    """A link of a release's chain; it yields nothing for workflow or action files."""

    area = Area.RELEASE
    confidence = Confidence.HIGH
    checks_files = False


class ReleaseTag(ReleaseLink):
    """Flags a release whose tag no longer exists, or points at a commit that the default
    branch does not contain.

    Read from `GET /repos/{owner}/{repo}/git/ref/tags/{tag}`; an annotated tag is peeled
    through `GET /repos/{owner}/{repo}/git/tags/{sha}` to the commit it tags, and that commit
    is compared with the default branch (`GET /repos/{owner}/{repo}/compare/{branch}...{sha}`:
    `behind` or `identical` pass). The same commit is the one the signing certificates must
    name.

    ## Why it matters
    A tag on a commit that never reached the default branch was built from code that skipped
    its review: a pushed side branch, or a fork's commit reachable through the repository.

    ## Example
    ```text
      FAIL     tag: `v1.2.0` points at commit 4f1c0e2a9b7d, which is not on `main`
               (compared with `main`: diverged)
    ```

    ## How to fix
    Release only from commits merged into the default branch; delete and recreate the tag
    (and the release) if it was made elsewhere. Protect release tags (`release-tag-protection`)
    so that nobody can move them afterwards.
    """

    id = "release-tag"
    summary = "release tag missing or not on the default branch"
    severity = Severity.HIGH


class ReleaseTagProtection(ReleaseLink):
    """Flags a release whose tag no active tag ruleset protects: the settings audit's
    `mutable-release-tags` check, run for this release's very tag.

    ## Why it matters
    Whoever can push can move or delete an unprotected tag, and so change what a downstream
    consumer who pins the tag receives, without a new release.

    ## Example
    ```text
      FAIL     tag protection: no active tag ruleset covers release tags such as `v1.2.0`
    ```

    ## How to fix
    An organisation tag ruleset over the release tags with `update`, `deletion` and a gated
    `creation`; `bastion apply --org ORG` creates it. See `bastion explain mutable-release-tags`.
    """

    id = "release-tag-protection"
    summary = "release tag can be moved or deleted"
    severity = Severity.HIGH


class ReleaseImmutable(ReleaseLink):
    """Flags a release that is not immutable (`immutable: false` in
    `GET /repos/{owner}/{repo}/releases/tags/{tag}`), or a repository without a published
    release (for `bastion release`; `org --releases` lets it pass).

    ## Why it matters
    The assets of a mutable release can be replaced, and its tag moved or deleted. Only
    releases published after immutable releases were enabled are immutable: enabling the
    setting protects the next release, not this one.

    ## Example
    ```json
    {"tag_name": "v1.2.0", "immutable": false, "assets": [...]}
    ```

    ## How to fix
    Enable immutable releases for the organisation or repository (`bastion apply`), then
    publish the next release.
    """

    id = "release-immutable"
    summary = "release is not immutable"
    severity = Severity.MEDIUM


class ReleaseAssetDigest(ReleaseLink):
    """Flags release assets without the `sha256:` digest that GitHub computes at upload.

    ## Why it matters
    Without a digest nothing ties an asset to what was signed: its attestations cannot be
    looked up, and a replaced file cannot be told from the original.

    ## Example
    ```json
    {"name": "tool-1.2.0.tar.gz", "digest": null}
    ```

    ## How to fix
    Assets uploaded before GitHub recorded digests have none: upload them again in a new
    release.
    """

    id = "release-asset-digest"
    summary = "release asset without a SHA-256 digest"
    severity = Severity.MEDIUM


class ReleaseAttestation(ReleaseLink):
    """Flags a release asset without an attestation that verifies and names this release's
    signer.

    GitHub's attestations for the asset's digest (`GET /repos/{owner}/{repo}/attestations/
    sha256:{digest}`) are verified with sigstore-python, offline, against Sigstore's public-good
    trust root: signature, certificate chain, signed certificate timestamp and transparency-log
    entry. The certificate must then say: issuer GitHub Actions, this repository, one of its
    workflows at `refs/tags/TAG`, the tag's commit, a GitHub-hosted runner. Assets that are
    themselves signatures (`.sigstore.json`, `.intoto.jsonl`, `.sig`...) need none.

    ## Why it matters
    The attestation is what proves that the repository's own release workflow built the file,
    from the tagged commit, on a runner that nobody else controls.

    ## Example
    ```text
      FAIL     attestation of tool-1.2.0.whl: no attestation verifies for this release: built in
               `https://github.com/someone/fork`, not in `https://github.com/acme/tool`
    ```

    ## How to fix
    Attest the assets in the release workflow (`actions/attest-build-provenance` with
    `id-token: write` and `attestations: write`), on a GitHub-hosted runner, for the tag.
    """

    id = "release-attestation"
    summary = "release asset without a verified attestation from this release"
    severity = Severity.HIGH


class ReleaseWorkflow(ReleaseLink):
    """Flags attestations signed by a workflow that bastion's file rules do not see releasing
    (read at the tag, or from `--path`).

    ## Why it matters
    A workflow of the repository that is not its release path (a test or a manually run
    workflow) can still hold an OIDC token and sign; its attestations say less than the
    release workflow's, whose environment and triggers the other checks judge.

    ## Example
    ```text
      FAIL     signing workflow: the assets were signed by `.github/workflows/ci.yml`, but the
               workflows that release are `.github/workflows/release.yml`
    ```

    ## How to fix
    Build, attest and publish in the release workflow only.
    """

    id = "release-workflow"
    summary = "assets signed by a workflow that does not release"
    severity = Severity.MEDIUM


class RegistryProvenance(ReleaseLink):
    """Flags a version on a registry whose provenance is missing, does not verify, or names
    another signer.

    * PyPI: every file of the version (JSON API) needs PEP 740 provenance (Integrity API),
      verified with pypi-attestations; its Trusted Publisher must be this repository and the
      workflow that publishes to PyPI in the files, and the signer as for
      `release-attestation`.
    * npm: the version document's `dist.attestations` names the attestations, as npm's CLI
      reads them; the SLSA provenance is verified with sigstore-python (its Rekor `intoto`
      entry included), its subject must be `pkg:npm/NAME@VERSION` with the sha512 of
      `dist.integrity`, and its signer as for `release-attestation`.
    * Other registries end unknown: bastion does not verify their provenance.

    ## Why it matters
    What users install comes from the registry, not from the GitHub release: only the
    registry's provenance says that the repository's release workflow published it.

    ## Example
    ```text
      FAIL     PyPI provenance of tool 1.2.0: `tool-1.2.0.tar.gz` has no provenance (published
               without attestations)
    ```

    ## How to fix
    Publish with Trusted Publishing from the release workflow (`pypa/gh-action-pypi-publish`
    attests by default; `npm publish --provenance`, or npm's trusted publishing).
    """

    id = "registry-provenance"
    summary = "registry version without verified provenance from this release"
    severity = Severity.HIGH


class RegistryEnvironment(ReleaseLink):
    """Flags publishing to a registry from no deployment environment, or from one that needs
    nobody's approval: the PyPI Trusted Publisher's `environment`, and the environments of the
    jobs that publish, judged by the settings audit's `unprotected-release-environment` check
    (required reviewers, self-review prevented, deployments from protected refs).

    ## Why it matters
    Without a protected environment any run of the workflow, on any branch a writer pushes,
    can publish; with one, a second person approves each release.

    ## Example
    ```text
      FAIL     PyPI publisher environment: the Trusted Publisher (`release.yml`) names no
               environment: any run of the workflow can publish, without anyone's approval
    ```

    ## How to fix
    Create a `release` environment with required reviewers and self-review prevented, run the
    publishing job in it, and name it in the Trusted Publisher's settings on PyPI.
    """

    id = "registry-environment"
    summary = "registry publishing without a protected environment"
    severity = Severity.HIGH


RELEASE_LINK_RULES: tuple[type[ReleaseLink], ...] = (
    ReleaseTag,
    ReleaseTagProtection,
    ReleaseImmutable,
    ReleaseAssetDigest,
    ReleaseAttestation,
    ReleaseWorkflow,
    RegistryProvenance,
    RegistryEnvironment,
)
