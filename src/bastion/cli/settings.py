"""`bastion repo`, `bastion org` and `bastion apply`: settings audited and enforced through the
GitHub API (docs/settings.md)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TextIO

from bastion.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    Commands,
    add_config_arguments,
    add_github_arguments,
    exit_code,
    load_config,
    write_report,
)
from bastion.errors import UsageError
from bastion.github.host import find_token, resolve_host
from bastion.github.rest import DEFAULT_CONCURRENCY, RestClient
from bastion.render import FORMATS
from bastion.settings.apply import (
    ApplyOptions,
    Change,
    execute,
    plan_organization,
    plan_repository,
)
from bastion.settings.audit import (
    Audit,
    Shard,
    audit_organization,
    audit_repository,
    merge_reports,
)


def register(commands: Commands) -> None:
    repo = commands.add_parser(
        "repo",
        help="audit a repository's settings through the GitHub API",
        description=(
            "Audit the settings of OWNER/REPO (rulesets, Actions policy, token defaults, "
            "release environment, secrets, immutable releases, admins) and its workflows, "
            "read through the GitHub API without a clone."
        ),
    )
    repo.add_argument("repository", metavar="OWNER/REPO")
    add_api_arguments(repo)
    repo.set_defaults(run=_run_repo)

    org = commands.add_parser(
        "org",
        help="audit an organisation's settings and all its repositories",
        description="Audit the settings of organisation ORG and of each of its repositories.",
    )
    org.add_argument("organization", metavar="ORG")
    add_api_arguments(org)
    org.add_argument(
        "--shard",
        metavar="I/N",
        help="audit only the I-th of N slices of the repositories (for parallel CI jobs)",
    )
    org.add_argument(
        "--include-archived", action="store_true", help="audit archived repositories too"
    )
    org.add_argument(
        "--no-progress", action="store_true", help="no progress bar, even on a terminal"
    )
    org.add_argument(
        "--releases",
        action="store_true",
        help="also verify every repository's latest release (`bastion release`)",
    )
    org.set_defaults(run=_run_org)

    apply = commands.add_parser(
        "apply",
        help="bring repository or organisation settings to the playbook's baseline",
        description=(
            "Show the changes that bring the settings of a repository (--repo) or an "
            "organisation (--org) to the playbook's baseline: rulesets for the default "
            "branch, forbidden branches and release tags, Actions policy, default token, "
            "release environment, immutable releases. Nothing changes without --yes."
        ),
    )
    target = apply.add_mutually_exclusive_group(required=True)
    target.add_argument("--repo", metavar="OWNER/REPO", help="the repository to change")
    target.add_argument("--org", metavar="ORG", help="the organisation to change")
    apply.add_argument("--yes", action="store_true", help="apply the changes (default: dry run)")
    apply.add_argument(
        "--release-environment",
        default="release",
        metavar="NAME",
        help="the environment whose deployment gates release tags (default: release)",
    )
    apply.add_argument(
        "--release-reviewer",
        action="append",
        default=[],
        metavar="team:SLUG|user:LOGIN",
        help="who approves releases, for release environments that have no reviewers (repeatable)",
    )
    apply.add_argument(
        "--release-app-id",
        type=int,
        metavar="ID",
        help="GitHub App allowed to create release tags (organisation tag ruleset)",
    )
    apply.add_argument(
        "--templates",
        metavar="DIR",
        help="directory of ruleset templates (default-branch.json, forbidden-branches.json, "
        "release-tags.json) that replace the shipped ones",
    )
    add_config_arguments(apply)
    add_client_arguments(apply)
    apply.set_defaults(run=_run_apply)

    merge = commands.add_parser(
        "merge",
        help="merge JSON reports (of `bastion org --shard` jobs) into one report",
        description=(
            "Read JSON reports written with --format json (by `bastion org --shard I/N`, "
            "`bastion repo` or `bastion check`) and write them as one report in any format."
        ),
    )
    merge.add_argument("reports", nargs="+", metavar="REPORT.json")
    merge.add_argument("--format", choices=FORMATS, default="human", help="output format")
    merge.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    merge.set_defaults(run=_run_merge)


def add_api_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="human", help="output format")
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    add_config_arguments(parser)
    add_client_arguments(parser)


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    add_github_arguments(parser)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests in flight at most (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument("--no-cache", action="store_true", help="do not use or fill the ETag cache")


def client_from(arguments: argparse.Namespace) -> RestClient:
    if arguments.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    host = resolve_host(arguments.github_url)
    token = find_token(host)
    if token is None:
        print(
            f"bastion: no token for {host.hostname} (set GH_TOKEN or log in with gh): only "
            "public data can be read, and most checks will be unknown",
            file=sys.stderr,
        )
    return RestClient(
        host, token, use_cache=not arguments.no_cache, concurrency=arguments.concurrency
    )


def split_repository(text: str) -> tuple[str, str]:
    owner, _, name = text.strip().partition("/")
    if not owner or not name or "/" in name:
        raise UsageError(f"{text!r} is not OWNER/REPO")
    return owner, name.removesuffix(".git")


def _run_repo(arguments: argparse.Namespace) -> int:
    arguments.paths = []
    config = load_config(arguments)
    owner, name = split_repository(arguments.repository)
    client = client_from(arguments)
    audit = audit_repository(client, config, owner, name)
    return _report(audit, arguments, client)


def _run_org(arguments: argparse.Namespace) -> int:
    arguments.paths = []
    config = load_config(arguments)
    shard = Shard.parse(arguments.shard) if arguments.shard else None
    login = arguments.organization.strip().strip("/")
    if not login or "/" in login:
        raise UsageError(f"{arguments.organization!r} is not an organisation name")
    client = client_from(arguments)
    bar = None
    if not arguments.no_progress and sys.stderr.isatty():
        bar = ProgressBar(sys.stderr, "repositories")
    try:
        audit = audit_organization(
            client,
            config,
            login,
            shard=shard,
            include_archived=arguments.include_archived,
            concurrency=arguments.concurrency,
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    if arguments.releases:
        from bastion.cli.release import add_releases  # cli.release builds on this module

        add_releases(audit, client, config, login, arguments)
    return _report(audit, arguments, client)


def _run_merge(arguments: argparse.Namespace) -> int:
    report = merge_reports([Path(name) for name in arguments.reports])
    write_report(report, arguments)
    for message in report.errors:
        print(f"bastion: {message}", file=sys.stderr)
    return exit_code(report)


def _report(audit: Audit, arguments: argparse.Namespace, client: RestClient) -> int:
    report = audit.report
    write_report(report, arguments)
    for message in (*audit.notes, *report.errors):
        print(f"bastion: {message}", file=sys.stderr)
    counts = audit.counts()
    stats = client.stats
    print(
        f"bastion: {audit.repositories} repositor{'y' if audit.repositories == 1 else 'ies'}, "
        f"{len(audit.outcomes)} checks: {counts['pass']} pass, {counts['fail']} fail, "
        f"{counts['unknown']} unknown; {report.files} file(s) checked; "
        f"{stats.requests} requests ({stats.not_modified} answered from the cache), "
        f"{client.git.counter.requests} git",
        file=sys.stderr,
    )
    return exit_code(report)


def _run_apply(arguments: argparse.Namespace) -> int:
    arguments.paths = []
    config = load_config(arguments)
    templates = Path(arguments.templates) if arguments.templates else None
    if templates is not None and not templates.is_dir():
        raise UsageError(f"--templates {templates} is not a directory")
    options = ApplyOptions(
        release_environment=arguments.release_environment,
        reviewers=tuple(arguments.release_reviewer),
        release_app_id=arguments.release_app_id,
        template_dir=templates,
    )
    client = client_from(arguments)
    if arguments.repo:
        owner, name = split_repository(arguments.repo)
        changes = plan_repository(client, config, owner, name, options)
    else:
        changes = plan_organization(client, config, arguments.org.strip("/"), options)
    out = sys.stdout
    ready = sum(1 for change in changes if not change.blocked)
    if not ready:
        for change in changes:
            _show(change, out)
        out.write("Nothing to change: the settings match the baseline")
        out.write(f", except {len(changes)} blocked change(s).\n" if changes else ".\n")
        return EXIT_CLEAN
    if not arguments.yes:
        for change in changes:
            _show(change, out)
        out.write(
            f"{ready} change(s) to make, {len(changes) - ready} blocked; dry run: "
            "nothing was changed (add --yes to apply)\n"
        )
        return EXIT_FINDINGS
    succeeded = execute(client, changes, report=lambda change: _show(change, out))
    counts = Counter[str](change.state for change in changes)
    out.write(", ".join(f"{counts[state]} {state}" for state in _STATES if counts[state]) + "\n")
    return EXIT_CLEAN if succeeded else EXIT_ERROR


_STATES = ("applied", "failed", "not attempted", "blocked")


def _show(change: Change, out: TextIO) -> None:
    label = {
        "planned": "would change",
        "applied": "applied",
        "failed": "FAILED",
        "not attempted": "not attempted",
        "blocked": "blocked",
    }[change.state]
    if change.state == "planned" and change.blocked:
        label = "blocked"
    out.write(f"{change.subject}: {change.what}: {label}\n")
    out.write(f"  current: {_compact(change.current)}\n")
    out.write(f"  desired: {_compact(change.desired)}\n")
    for step in change.steps:
        out.write(f"  {step.method} {step.path}\n")
    if change.blocked:
        out.write(f"  blocked: {change.blocked}\n")
    if change.error:
        done = (
            f" after {change.completed} of {len(change.steps)} step(s)" if change.completed else ""
        )
        out.write(f"  error{done}: {change.error}\n")


def _compact(value: object) -> str:
    if value is None:
        return "(none)"
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


class ProgressBar:
    """``[#####.....] 120/500 repositories`` on one line of a terminal, redrawn in place."""

    WIDTH = 30

    def __init__(self, stream: TextIO, noun: str) -> None:
        self.stream = stream
        self.noun = noun
        self.started = time.monotonic()
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        filled = self.WIDTH * done // total if total else self.WIDTH
        elapsed = time.monotonic() - self.started
        line = (
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} {self.noun} "
            f"{elapsed:.0f}s"
        )
        self.stream.write(line)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
