"""The chain of a release, from the tag to the registries, each link pass, fail or unknown.

1. ``release-tag``: the tag exists and points at a commit on the default branch;
   ``release-tag-protection``: the settings audit's tag check (``mutable-release-tags``)
   for this very tag.
2. ``release-immutable``: the release is immutable; ``release-asset-digest``: every asset has
   the SHA-256 digest GitHub computes at upload.
3. ``release-attestation`` (one per asset): GitHub's attestations for the digest, each bundle
   verified with sigstore-python, and the signer judged: this repository's workflow at
   ``refs/tags/TAG``, GitHub Actions' issuer, a GitHub-hosted runner, the tag's commit.
   ``release-workflow``: the workflow that signed is one that releases in the files.
4. ``registry-provenance`` (one per registry the workflows publish to) and
   ``registry-environment``: PyPI's PEP 740 provenance of every file of the version, or npm's
   provenance attestation, verified the same way; the Trusted Publisher's repository,
   workflow and environment; the environment protected (the settings audit's
   ``unprotected-release-environment`` check). Other registries end unknown.

Nothing here passes for lack of an answer: what cannot be read ends unknown with the reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from bastion.config import Config
from bastion.github.rest import RestClient
from bastion.release import registries
from bastion.release.registries import RegistryClient
from bastion.release.signatures import BundleError, Verified, Verifier, identity_problems
from bastion.release.workflows import Publishing, read_checkout, releasing_workflows
from bastion.rules.release import NPM, PYPI
from bastion.settings.checks import release_environment, release_tags
from bastion.settings.collect import (
    Gather,
    RulesetCache,
    collect_release_settings,
    sequential,
    workflow_files,
)
from bastion.settings.state import RepoState, Unavailable, read, read_list

Status = Literal["pass", "fail", "unknown"]

SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
_SHA256 = re.compile(r"sha256:([0-9a-f]{64})")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_MAX_TAG_DEPTH = 4
"""Tag objects peeled before giving up (a tag may tag a tag)."""
SIGNATURE_SUFFIXES = (".sigstore", ".sigstore.json", ".intoto.jsonl", ".sig", ".asc", ".pem")
"""Assets that are signatures or attestations of other assets, not artifacts to attest."""
_VERIFIED_REGISTRIES = (PYPI, NPM)
_NOT_REGISTRIES = ("a GitHub release",)
"""Publishing targets that are the release itself, checked by the links above."""


@dataclass(frozen=True, slots=True)
class Link:
    rule: str
    """A link id: a rule of ``bastion.rules.release_links``."""
    title: str
    """What the link is about, for the human report: "tag", "attestation of x.whl"."""
    status: Status
    message: str
    route: str


@dataclass(slots=True)
class ReleaseCheck:
    subject: str
    """``github.com/OWNER/REPO``."""
    repository: str
    tag: str | None
    links: list[Link] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReleaseOptions:
    tag: str | None = None
    checkout: Path | None = None
    pypi_url: str = registries.DEFAULT_PYPI_URL
    npm_url: str = registries.DEFAULT_NPM_URL
    pypi_project: str | None = None
    npm_package: str | None = None
    no_release_passes: bool = False
    """For an organisation: a repository without releases passes (nothing to verify)."""


@dataclass(slots=True)
class _Run:
    """One release's facts as they are gathered."""

    client: RestClient
    config: Config
    options: ReleaseOptions
    verifier: Verifier
    registry: RegistryClient
    check: ReleaseCheck
    base: str
    meta: dict[str, Any]
    tag: str = ""
    commit: str | None = None
    assets: list[dict[str, Any]] = field(default_factory=list)
    workflows: list[Publishing] | Unavailable = field(default_factory=list)
    signer_workflows: set[str] = field(default_factory=set)
    environments: dict[str, list[str]] = field(default_factory=dict)
    """Environments to judge with the settings audit, with who uses them."""

    def add(self, rule: str, title: str, status: Status, message: str, route: str) -> None:
        self.check.links.append(Link(rule, title, status, message, route))

    @property
    def repository(self) -> str:
        return self.check.repository


def check_release(
    client: RestClient,
    config: Config,
    subject: str,
    meta: dict[str, Any],
    options: ReleaseOptions,
    *,
    verifier: Verifier,
    registry: RegistryClient,
    gather: Gather = sequential,
    rulesets: RulesetCache | None = None,
) -> ReleaseCheck:
    """Follow the chain of one repository's release (``options.tag``, else the latest).

    ``rulesets`` shared by the repositories of an organisation reads its rulesets once."""
    repository = str(meta["full_name"])
    owner, name = repository.split("/", 1)
    base = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
    run = _Run(
        client,
        config,
        options,
        verifier,
        registry,
        ReleaseCheck(subject, repository, options.tag),
        base,
        meta,
    )
    release = _release(run)
    if release is None:
        return run.check
    run.tag = str(release.get("tag_name") or options.tag or "")
    run.check.tag = run.tag
    _tag(run)
    _immutable(run, release)
    _workflows(run)
    _attestations(run)
    _signing_workflow(run)
    _registries(run)
    _settings(run, gather, rulesets or RulesetCache())
    return run.check


# Release ------------------------------------------------------------------------------------


def _release(run: _Run) -> dict[str, Any] | None:
    tag = run.options.tag
    route = f"releases/tags/{tag}" if tag else "releases/latest"
    found = read(run.client, f"{run.base}/{route}")
    if isinstance(found, dict):
        return found
    what = f"tag `{tag}`" if tag else "the repository"
    if isinstance(found, Unavailable) and found.status == 404:
        if run.options.no_release_passes and not tag:
            run.add("release-immutable", "release", "pass", "no published release", route)
            return None
        run.add("release-immutable", "release", "fail", f"no published release for {what}", route)
        return None
    why = found.reason if isinstance(found, Unavailable) else "GitHub's answer is not a release"
    run.add("release-immutable", "release", "unknown", f"cannot read the release: {why}", route)
    return None


def _tag(run: _Run) -> None:
    tag, route = run.tag, f"git/ref/tags/{run.tag}"
    found = read(run.client, f"{run.base}/git/ref/tags/{quote(tag)}")
    if isinstance(found, Unavailable):
        if found.status == 404:
            run.add(
                "release-tag",
                "tag",
                "fail",
                f"the release's tag `{tag}` does not exist: it was deleted after the release",
                route,
            )
        else:
            run.add(
                "release-tag", "tag", "unknown", f"cannot read tag `{tag}`: {found.reason}", route
            )
        return
    target = _object(found)
    for _ in range(_MAX_TAG_DEPTH):  # An annotated tag: peel it to what it tags.
        if target.get("type") != "tag":
            break
        sha = str(target.get("sha"))
        peeled = read(run.client, f"{run.base}/git/tags/{quote(sha, safe='')}")
        if isinstance(peeled, Unavailable):
            run.add(
                "release-tag",
                "tag",
                "unknown",
                f"`{tag}` is an annotated tag; cannot read its tag object {sha[:12]}: "
                f"{peeled.reason}",
                f"git/tags/{sha[:12]}",
            )
            return
        target = _object(peeled)
    if target.get("type") != "commit" or not _COMMIT.fullmatch(str(target.get("sha"))):
        run.add("release-tag", "tag", "unknown", f"cannot tell what `{tag}` points at", route)
        return
    run.commit = str(target.get("sha"))
    branch = str(run.meta.get("default_branch") or "main")
    compare_route = f"compare/{branch}...{run.commit[:12]}"
    compared = read(
        run.client, f"{run.base}/compare/{quote(branch, safe='')}...{run.commit}", {"per_page": 1}
    )
    if isinstance(compared, Unavailable):
        run.add(
            "release-tag",
            "tag",
            "unknown",
            f"`{tag}` points at commit {run.commit[:12]}; cannot tell whether `{branch}` "
            f"contains it: {compared.reason}",
            compare_route,
        )
        return
    status = compared.get("status") if isinstance(compared, dict) else None
    if status in ("behind", "identical"):
        run.add(
            "release-tag",
            "tag",
            "pass",
            f"`{tag}` points at commit {run.commit[:12]}, which is on `{branch}`",
            compare_route,
        )
    else:
        run.add(
            "release-tag",
            "tag",
            "fail",
            f"`{tag}` points at commit {run.commit[:12]}, which is not on `{branch}` "
            f"(compared with `{branch}`: {status}): the release was built from code that "
            "never went through the default branch's review",
            compare_route,
        )


def _object(answer: Any) -> dict[str, Any]:
    """The ``object`` ({type, sha}) of a ref or tag object."""
    found = answer.get("object") if isinstance(answer, dict) else None
    return found if isinstance(found, dict) else {}


def _immutable(run: _Run, release: dict[str, Any]) -> None:
    route = f"releases/tags/{run.tag}"
    immutable = release.get("immutable")
    if immutable is True:
        run.add("release-immutable", "release", "pass", "the release is immutable", route)
    elif immutable is False:
        run.add(
            "release-immutable",
            "release",
            "fail",
            "the release is not immutable: its assets can be replaced and its tag moved or "
            "deleted (only releases published after immutable releases were enabled are "
            "immutable)",
            route,
        )
    else:
        run.add(
            "release-immutable",
            "release",
            "unknown",
            "cannot tell whether the release is immutable: GitHub's answer has no `immutable`",
            route,
        )
    assets = [a for a in release.get("assets") or [] if isinstance(a, dict)]
    run.assets = assets
    missing = [str(a.get("name")) for a in assets if not _digest(a)]
    if not assets:
        run.add("release-asset-digest", "assets", "pass", "the release has no assets", route)
    elif missing:
        run.add(
            "release-asset-digest",
            "assets",
            "fail",
            f"{len(missing)} of {len(assets)} asset{'' if len(assets) == 1 else 's'} "
            f"{'has' if len(missing) == 1 else 'have'} no SHA-256 digest "
            f"({_names(missing)}): nothing ties them to what was signed",
            route,
        )
    else:
        run.add(
            "release-asset-digest",
            "assets",
            "pass",
            "the one asset carries its SHA-256 digest"
            if len(assets) == 1
            else f"all {len(assets)} assets carry their SHA-256 digest",
            route,
        )


def _digest(asset: dict[str, Any]) -> str | None:
    match = _SHA256.fullmatch(str(asset.get("digest") or ""))
    return match.group(1) if match else None


# Workflows and attestations -------------------------------------------------------------------


def _workflows(run: _Run) -> None:
    if run.options.checkout is not None:
        files: dict[str, bytes] | Unavailable | str = read_checkout(run.options.checkout)
    else:
        files = workflow_files(run.client, run.base, f"refs/tags/{run.tag}")
    if isinstance(files, str):
        run.workflows = Unavailable(files)
    elif isinstance(files, Unavailable):
        run.workflows = Unavailable(f"the workflows of `{run.tag}` cannot be read: {files.reason}")
    else:
        run.workflows = releasing_workflows(run.check.subject, files)


def _attestations(run: _Run) -> None:
    for asset in run.assets:
        digest = _digest(asset)
        if digest is None or str(asset.get("name", "")).endswith(SIGNATURE_SUFFIXES):
            continue
        title = f"attestation of {asset.get('name')}"
        route = f"attestations/sha256:{digest}"
        found = read_list(run.client, f"{run.base}/{route}", key="attestations")
        if isinstance(found, Unavailable):
            if found.status == 404:
                run.add(
                    "release-attestation",
                    title,
                    "fail",
                    "GitHub holds no attestation for this digest: nothing says which workflow "
                    "built it",
                    route,
                )
            else:
                run.add("release-attestation", title, "unknown", found.reason, route)
            continue
        bundles = [item.get("bundle") for item in found if isinstance(item, dict)]
        status, message = _judge_bundles(run, bundles, digest)
        run.add("release-attestation", title, status, message, route)


def _judge_bundles(run: _Run, bundles: list[Any], digest: str) -> tuple[Status, str]:
    if not bundles:
        return "fail", "GitHub holds no attestation for this digest"
    problems: list[str] = []
    for bundle in bundles:
        if not isinstance(bundle, dict):
            problems.append("GitHub's answer carries no bundle (only a `bundle_url`)")
            continue
        try:
            verified = run.verifier.bundle(bundle, digest)
        except BundleError as error:
            problems.append(str(error))
            continue
        wrong = identity_problems(verified.signer, run.repository, run.tag, run.commit)
        if wrong:
            problems.append("; ".join(wrong))
            continue
        workflow = verified.signer.workflow
        assert workflow is not None
        run.signer_workflows.add(workflow[1])
        what = f" ({verified.predicate_type})" if verified.predicate_type else ""
        return "pass", (
            f"signed{what} by `{workflow[1]}` at `{workflow[2]}` of this repository, on a "
            "GitHub-hosted runner; signature, certificate and transparency-log entry verified"
        )
    unique = list(dict.fromkeys(problems))
    return "fail", f"no attestation verifies for this release: {'; '.join(unique)}"


def _signing_workflow(run: _Run) -> None:
    if not run.signer_workflows:
        return
    signers = sorted(run.signer_workflows)
    route = ".github/workflows"
    if isinstance(run.workflows, Unavailable):
        run.add(
            "release-workflow",
            "signing workflow",
            "unknown",
            f"the assets were signed by {_names(signers)}; cannot tell whether that is the "
            f"workflow that releases: {run.workflows.reason} (give --path to a checkout of "
            "the tag)",
            route,
        )
        return
    releasing = [w.path for w in run.workflows]
    strangers = [s for s in signers if s not in releasing]
    if strangers:
        run.add(
            "release-workflow",
            "signing workflow",
            "fail",
            f"the assets were signed by {_names(strangers)}, but the workflows that release "
            f"are {_names(releasing) if releasing else 'none'}",
            route,
        )
    else:
        run.add(
            "release-workflow",
            "signing workflow",
            "pass",
            f"{_names(signers)} signed the assets and is the workflow that releases",
            route,
        )


# Registries ---------------------------------------------------------------------------------


def _registries(run: _Run) -> None:
    targets: dict[str, list[Publishing]] = {}
    if isinstance(run.workflows, list):
        for workflow in run.workflows:
            for registry in workflow.registries:
                if registry not in _NOT_REGISTRIES:
                    targets.setdefault(registry, []).append(workflow)
    if run.options.pypi_project:
        targets.setdefault(PYPI, [])
    if run.options.npm_package:
        targets.setdefault(NPM, [])
    if not targets and isinstance(run.workflows, Unavailable):
        run.add(
            "registry-provenance",
            "registries",
            "unknown",
            f"cannot tell where the release is published: {run.workflows.reason} (give --path, "
            "--pypi-project or --npm-package)",
            ".github/workflows",
        )
    for registry, publishers in sorted(targets.items()):
        if registry == PYPI:
            _pypi(run, publishers)
        elif registry == NPM:
            _npm(run, publishers)
        else:
            jobs = sorted({job for w in publishers for job in w.jobs.get(registry, [])})
            run.add(
                "registry-provenance",
                registry,
                "unknown",
                f"{_names(jobs)} publish to {registry}, whose provenance bastion does not "
                f"verify (it verifies {' and '.join(_VERIFIED_REGISTRIES)}): check it with "
                f"{registry}'s own tools",
                ".github/workflows",
            )


def _version(run: _Run) -> str:
    return run.tag[1:] if re.match(r"v\d", run.tag) else run.tag


def _pypi_project(run: _Run) -> tuple[str, str] | str:
    """(project, version) to look up; else why it cannot be told."""
    if run.options.pypi_project:
        return run.options.pypi_project, _version(run)
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    for asset in run.assets:
        name = str(asset.get("name", ""))
        try:
            if name.endswith(".whl"):
                project, version, *_ = parse_wheel_filename(name)
                return str(project), str(version)
            if name.endswith(".tar.gz"):
                project, version = parse_sdist_filename(name)
                return str(project), str(version)
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    if run.options.checkout is not None:
        try:
            data = tomllib.loads((run.options.checkout / "pyproject.toml").read_text("utf-8"))
            declared = data.get("project", {}).get("name")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            declared = None
        if isinstance(declared, str) and declared:
            return declared, _version(run)
    return (
        "cannot tell the PyPI project: no release asset is a wheel or sdist and no "
        "pyproject.toml was given (use --pypi-project)"
    )


def _publishing_workflows(publishers: list[Publishing], registry: str) -> list[str]:
    return sorted(w.path for w in publishers if registry in w.registries)


def _pypi(run: _Run, publishers: list[Publishing]) -> None:
    index = run.options.pypi_url
    found = _pypi_project(run)
    if isinstance(found, str):
        run.add("registry-provenance", PYPI, "unknown", found, "pypi")
        return
    project, version = found
    title, route = f"{PYPI} provenance of {project} {version}", f"pypi/{project}/{version}"
    answer = registries.pypi_files(run.registry, index, project, version)
    if answer.status == 404:
        run.add(
            "registry-provenance",
            title,
            "fail",
            f"{PYPI} has no version {version} of `{project}`, though the workflows publish there",
            route,
        )
        return
    urls = answer.data.get("urls") if isinstance(answer.data, dict) else None
    if answer.status != 200 or not isinstance(urls, list):
        run.add("registry-provenance", title, "unknown", answer.error or "no file list", route)
        return
    assets = {str(a.get("name")): _digest(a) for a in run.assets}
    problems: list[str] = []
    unknowns: list[str] = []
    signers: set[str] = set()
    publisher_environments: dict[str | None, set[str]] = {}
    workflows = _publishing_workflows(publishers, PYPI)
    for item in urls:
        if not isinstance(item, dict):
            continue
        filename = str(item.get("filename", ""))
        sha256 = str((item.get("digests") or {}).get("sha256", "")).lower()
        if filename in assets and assets[filename] and assets[filename] != sha256:
            problems.append(f"`{filename}` on {PYPI} differs from the release asset of that name")
        provenance = registries.pypi_provenance(run.registry, index, project, version, filename)
        if provenance.status == 404:
            problems.append(f"`{filename}` has no provenance (published without attestations)")
            continue
        if provenance.status != 200 or not isinstance(provenance.data, dict):
            unknowns.append(provenance.error or f"no provenance object for `{filename}`")
            continue
        file_problems = _pypi_file(
            run,
            provenance.data,
            filename,
            sha256=sha256,
            workflows=workflows,
            signers=signers,
            environments=publisher_environments,
        )
        problems.extend(f"`{filename}`: {text}" for text in file_problems)
    if not urls:
        problems.append(f"version {version} of `{project}` has no files")
    for environment, users in publisher_environments.items():
        for user in sorted(users):
            if environment is None:
                continue
            run.environments.setdefault(environment, []).append(f"{PYPI} publisher `{user}`")
    if problems:
        run.add("registry-provenance", title, "fail", "; ".join(problems), route)
    elif unknowns:
        run.add("registry-provenance", title, "unknown", "; ".join(unknowns), route)
    else:
        run.add(
            "registry-provenance",
            title,
            "pass",
            f"{len(urls)} file(s) carry PEP 740 provenance signed by {_names(sorted(signers))} "
            f"at `refs/tags/{run.tag}` and published by this repository's Trusted Publisher",
            route,
        )
    _environment_link(run, publisher_environments)


def _pypi_file(
    run: _Run,
    provenance: dict[str, Any],
    filename: str,
    *,
    sha256: str,
    workflows: list[str],
    signers: set[str],
    environments: dict[str | None, set[str]],
) -> list[str]:
    bundles = provenance.get("attestation_bundles")
    if not isinstance(bundles, list) or not bundles:
        return ["the provenance holds no attestation bundle"]
    problems: list[str] = []
    for bundle in bundles:
        publisher = bundle.get("publisher") if isinstance(bundle, dict) else None
        if not isinstance(publisher, dict):
            problems.append("an attestation bundle names no publisher")
            continue
        kind = publisher.get("kind")
        if kind != "GitHub":
            problems.append(f"published by a {kind} Trusted Publisher, not by GitHub Actions")
            continue
        repository = str(publisher.get("repository", ""))
        workflow = str(publisher.get("workflow", ""))
        if repository.casefold() != run.repository.casefold():
            problems.append(f"published by the Trusted Publisher of `{repository}`")
            continue
        names = [path.rsplit("/", 1)[-1] for path in workflows]
        if workflows and workflow not in names:
            problems.append(
                f"the Trusted Publisher is workflow `{workflow}`, but the workflows that publish "
                f"to {PYPI} are {_names(names)}"
            )
        environment = publisher.get("environment")
        environments.setdefault(environment if isinstance(environment, str) else None, set()).add(
            workflow
        )
        for attestation in bundle.get("attestations") or []:
            try:
                verified: Verified = run.verifier.pypi(attestation, filename, sha256)
            except BundleError as error:
                problems.append(str(error))
                continue
            wrong = identity_problems(verified.signer, run.repository, run.tag, run.commit)
            if wrong:
                problems.extend(wrong)
                continue
            signed = verified.signer.workflow
            if signed is not None:
                signers.add(signed[1])
                if signed[1].rsplit("/", 1)[-1] != workflow:
                    problems.append(
                        f"signed by `{signed[1]}`, not by the Trusted Publisher's `{workflow}`"
                    )
    return problems


def _environment_link(run: _Run, environments: dict[str | None, set[str]]) -> None:
    """Fail now for a Trusted Publisher without environment; others wait for the audit."""
    loose = sorted(environments.get(None, set()))
    if loose:
        run.add(
            "registry-environment",
            f"{PYPI} publisher environment",
            "fail",
            f"the Trusted Publisher ({_names(loose)}) names no environment: any run of the "
            "workflow can publish, without anyone's approval",
            "pypi/publisher/environment",
        )


def _npm(run: _Run, publishers: list[Publishing]) -> None:
    registry = run.options.npm_url
    package = run.options.npm_package or _package_json_name(run.options.checkout)
    if not package:
        run.add(
            "registry-provenance",
            NPM,
            "unknown",
            "cannot tell the npm package: give --npm-package, or --path to a checkout with "
            "package.json",
            "npm",
        )
        return
    version = _version(run)
    title, route = f"{NPM} provenance of {package} {version}", f"npm/{package}@{version}"
    document = registries.npm_version(run.registry, registry, package, version)
    if document.status == 404:
        run.add(
            "registry-provenance",
            title,
            "fail",
            f"{NPM} has no version {version} of `{package}`, though the workflows publish there",
            route,
        )
        return
    sha512 = _sha512(document.data)
    if document.status != 200 or sha512 is None:
        why = document.error or "the version has no `dist.integrity` (sha512)"
        run.add("registry-provenance", title, "unknown", why, route)
        return
    attestations = _attestations_path(document.data)
    if attestations is None:
        run.add(
            "registry-provenance",
            title,
            "fail",
            "the version has no provenance: its `dist` names no attestations (published "
            "without `--provenance` or trusted publishing)",
            route,
        )
        return
    answer = registries.npm_attestations(run.registry, registry, attestations)
    if answer.status == 404:
        run.add(
            "registry-provenance",
            title,
            "fail",
            f"the version's `dist.attestations` names `{attestations}`, which {NPM} does not "
            "serve: no provenance to verify",
            route,
        )
        return
    items = answer.data.get("attestations") if isinstance(answer.data, dict) else None
    if answer.status != 200 or not isinstance(items, list):
        run.add("registry-provenance", title, "unknown", answer.error or "no attestations", route)
        return
    provenance = [
        item.get("bundle")
        for item in items
        if isinstance(item, dict) and item.get("predicateType") == SLSA_PROVENANCE_V1
    ]
    if not provenance:
        run.add(
            "registry-provenance",
            title,
            "fail",
            "the version's attestations hold no SLSA provenance",
            route,
        )
        return
    problems: list[str] = []
    for bundle in provenance:
        try:
            verified = run.verifier.bundle(
                bundle, None, sha512=sha512, name=_purl(package, version)
            )
        except BundleError as error:
            problems.append(str(error))
            continue
        wrong = identity_problems(verified.signer, run.repository, run.tag, run.commit)
        signed = verified.signer.workflow
        workflows = _publishing_workflows(publishers, NPM)
        if not wrong and signed is not None and workflows and signed[1] not in workflows:
            wrong = [
                f"signed by `{signed[1]}`, but the workflows that publish are {_names(workflows)}"
            ]
        if wrong:
            problems.extend(wrong)
            continue
        assert signed is not None
        run.add(
            "registry-provenance",
            title,
            "pass",
            f"the SLSA provenance of `{_purl(package, version)}` (the sha512 of "
            f"`dist.integrity`) is signed by `{signed[1]}` at `refs/tags/{run.tag}` of this "
            "repository, on a GitHub-hosted runner; signature, certificate and "
            "transparency-log entry verified",
            route,
        )
        _npm_environments(run, publishers, signed[1])
        return
    unique = list(dict.fromkeys(problems))
    run.add(
        "registry-provenance",
        title,
        "fail",
        f"no provenance verifies for this release: {'; '.join(unique)}",
        route,
    )


def _npm_environments(run: _Run, publishers: list[Publishing], signer: str) -> None:
    """The environments of the signing workflow's npm jobs, for the settings audit to judge;
    a job in none fails now (npm's provenance names no environment: the files are the word)."""
    loose = []
    for publisher in publishers:
        if publisher.path != signer:
            continue
        for job, environment in publisher.jobs.get(NPM, {}).items():
            if environment:
                run.environments.setdefault(environment, []).append(f"{NPM} job `{job}`")
            else:
                loose.append(job)
    if loose:
        run.add(
            "registry-environment",
            f"{NPM} publishing environment",
            "fail",
            f"{_names(sorted(loose))} publish to {NPM} from no environment: any run of the "
            "workflow can publish, without anyone's approval",
            ".github/workflows",
        )


def _package_json_name(checkout: Path | None) -> str | None:
    if checkout is None:
        return None
    try:
        data = json.loads((checkout / "package.json").read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else None


def _attestations_path(document: Any) -> str | None:
    """The path of the version's attestations, as its ``dist.attestations.url`` names them.

    npm reads that field to find them and asks its own registry for the path (pacote,
    ``lib/registry.js``); a version without it has no attestations."""
    dist = document.get("dist") if isinstance(document, dict) else None
    attestations = dist.get("attestations") if isinstance(dist, dict) else None
    url = attestations.get("url") if isinstance(attestations, dict) else None
    if not isinstance(url, str):
        return None
    path = urlsplit(url).path
    return path if path.startswith("/-/npm/v1/attestations/") else None


def _purl(package: str, version: str) -> str:
    """The package URL npm signs as the subject's name (a scope's ``@`` escaped)."""
    escaped = "%40" + package[1:] if package.startswith("@") else package
    return f"pkg:npm/{escaped}@{version}"


def _sha512(document: Any) -> str | None:
    dist = document.get("dist") if isinstance(document, dict) else None
    integrity = dist.get("integrity") if isinstance(dist, dict) else None
    if not isinstance(integrity, str) or not integrity.startswith("sha512-"):
        return None
    try:
        return base64.b64decode(integrity.removeprefix("sha512-"), validate=True).hex()
    except (binascii.Error, ValueError):
        return None


# The settings audit -------------------------------------------------------------------------


def _settings(run: _Run, gather: Gather, rulesets: RulesetCache) -> None:
    configured = run.config.rule_settings.get("mutable-release-tags", {}).get(
        "environments", ("release",)
    )
    wanted = set(configured if isinstance(configured, tuple) else (str(configured),))
    wanted |= set(run.environments)
    state = collect_release_settings(
        run.client,
        run.check.subject,
        run.meta,
        tuple(sorted(wanted)),
        cache=rulesets,
        gather=gather,
    )
    settings = {rule: dict(values) for rule, values in run.config.rule_settings.items()}
    settings.setdefault("mutable-release-tags", {})["tag-examples"] = (run.tag,)
    tags = release_tags(state, settings)
    position = next(
        (i + 1 for i, link in enumerate(run.check.links) if link.rule == "release-tag"),
        len(run.check.links),
    )
    run.check.links.insert(
        position,
        Link("release-tag-protection", "tag protection", tags.status, tags.message, tags.route),
    )
    for environment, users in sorted(run.environments.items()):
        _judge_environment(run, state, environment, users)


def _judge_environment(run: _Run, state: RepoState, environment: str, users: list[str]) -> None:
    judged = release_environment(
        replace(state, release_environments={environment: users}),
        {"unprotected-release-environment": {"environments": ()}},
    )
    run.add(
        "registry-environment",
        f"environment `{environment}`",
        judged.status,
        f"used by {', '.join(sorted(set(users)))}: {judged.message}",
        judged.route,
    )


def _names(items: list[str]) -> str:
    shown = ", ".join(f"`{item}`" for item in items[:5])
    return shown + (f" and {len(items) - 5} more" if len(items) > 5 else "")
