"""`bastion release`: verify what a release published, from the tag to the registries, with
Sigstore (docs/release.md). `bastion org --releases` uses ``add_releases``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from bastion.cli.common import Commands, exit_code, load_config, write_report
from bastion.cli.settings import add_api_arguments, client_from, split_repository
from bastion.config import Config
from bastion.engine import Report
from bastion.errors import UsageError
from bastion.github.rest import RestClient
from bastion.release.audit import (
    check_organization,
    check_repository,
    findings,
    outcomes,
    render_chains,
)
from bastion.release.chain import ReleaseCheck, ReleaseOptions
from bastion.release.registries import RegistryClient, npm_url, pypi_url
from bastion.settings.audit import Audit, Shard


def register(commands: Commands) -> None:
    parser = commands.add_parser(
        "release",
        help="verify a release from its tag to the registries, with Sigstore",
        description=(
            "Follow the chain of a release of OWNER/REPO (the latest, or --tag): the tag and "
            "its protection, the immutable release and its asset digests, GitHub's "
            "attestations verified with Sigstore (signer: this repository's workflow at the "
            "tag, on a GitHub-hosted runner), and the provenance on PyPI or npm with its "
            "Trusted Publisher and protected environment. Each link passes, fails or is "
            "unknown, with the reason. Needs `pip install 'bastion[release]'`."
        ),
    )
    parser.add_argument("repository", metavar="OWNER/REPO")
    parser.add_argument("--tag", metavar="TAG", help="the release's tag (default: the latest)")
    parser.add_argument(
        "--path",
        metavar="DIR",
        help="a checkout of the tag, whose workflows say what publishes (default: the "
        "workflows of the tag, read through the contents API)",
    )
    add_registry_arguments(parser)
    parser.add_argument(
        "--pypi-project", metavar="NAME", help="the PyPI project (default: from the assets)"
    )
    parser.add_argument(
        "--npm-package", metavar="NAME", help="the npm package (default: package.json of --path)"
    )
    add_api_arguments(parser)
    parser.set_defaults(run=_run)


def add_registry_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pypi-url",
        metavar="URL",
        help="the PyPI to ask, for mirrors and tests (default: $BASTION_PYPI_URL, else PyPI)",
    )
    parser.add_argument(
        "--npm-url",
        metavar="URL",
        help="the npm registry to ask (default: $BASTION_NPM_URL, else npm's public registry)",
    )


def _run(arguments: argparse.Namespace) -> int:
    arguments.paths = [arguments.path] if arguments.path else []
    config = load_config(arguments)
    owner, name = split_repository(arguments.repository)
    checkout = Path(arguments.path) if arguments.path else None
    if checkout is not None and not checkout.is_dir():
        raise UsageError(f"--path {checkout} is not a directory")
    options = ReleaseOptions(
        tag=arguments.tag,
        checkout=checkout,
        pypi_url=pypi_url(arguments.pypi_url),
        npm_url=npm_url(arguments.npm_url),
        pypi_project=arguments.pypi_project,
        npm_package=arguments.npm_package,
    )
    client = client_from(arguments)
    registry = RegistryClient()
    check = check_repository(client, config, owner, name, options=options, registry=registry)
    report = Report(findings([check], config), 0, [])
    if arguments.format == "human" and not arguments.output:
        render_chains([check], sys.stdout, config)
    else:
        write_report(report, arguments)
    _summary([check], config, client, registry)
    return exit_code(report)


def add_releases(
    audit: Audit,
    client: RestClient,
    config: Config,
    login: str,
    arguments: argparse.Namespace,
) -> None:
    """`bastion org --releases`: every repository's latest release, as findings of the audit."""
    shard = Shard.parse(arguments.shard) if arguments.shard else None
    registry = RegistryClient()
    options = ReleaseOptions(pypi_url=pypi_url(None), npm_url=npm_url(None))
    checks = check_organization(
        client,
        config,
        login,
        options,
        registry,
        shard=shard,
        include_archived=arguments.include_archived,
        concurrency=arguments.concurrency,
    )
    audit.outcomes.extend(outcomes(checks, config))
    audit.report.findings.extend(findings(checks, config))
    audit.report.findings.sort(key=lambda f: f.sort_key)


def _summary(
    checks: list[ReleaseCheck], config: Config, client: RestClient, registry: RegistryClient
) -> None:
    counts = Counter(
        link.status for check in checks for link in check.links if config.enabled(link.rule)
    )
    links = sum(counts.values())
    print(
        f"bastion: {links} link{'' if links == 1 else 's'}: {counts['pass']} pass, "
        f"{counts['fail']} fail, "
        f"{counts['unknown']} unknown; {client.stats.requests} GitHub requests "
        f"({client.stats.not_modified} answered from the cache), {registry.requests} "
        "registry requests",
        file=sys.stderr,
    )
