"""Benchmark `bastion org`: an organisation of 500 repositories on the local GitHub API.

Usage: python bench/settings.py [--repos N] [--latency SECONDS] [--concurrency N,N,...] [--json]

The server of the tests (tests/settings/server.py) holds an organisation whose repositories
mix compliant and non-compliant settings, each with a release workflow, a Dependabot and a
pre-commit configuration (read through git, three requests a repository); every answer is
delayed by the latency (50 ms by default, about a round trip to api.github.com). For each
concurrency, the audit runs twice with a fresh ETag cache: the first run fills it, the second
is answered with 304s. Reported: wall time, REST and git requests per repository, and the
requests of each run that count against the primary rate limit (GitHub counts neither a 304
nor a git request).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.settings.conftest import compliant_org  # noqa: E402
from tests.settings.server import ALL_PERMISSIONS, GitHub  # noqa: E402

from bastion.config import Config  # noqa: E402
from bastion.github.host import Host, Token  # noqa: E402
from bastion.github.rest import RestClient  # noqa: E402
from bastion.settings.audit import audit_organization  # noqa: E402

TOKEN = "bench-token"
DEPENDABOT = b"""version: 2
updates:
  - package-ecosystem: github-actions
    directory: /
    schedule:
      interval: weekly
    cooldown:
      default-days: 7
"""
PRE_COMMIT = b"""repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: 3e8a8703264a2f4a69428a0aa4dcb512790b2c8c  # v6.0.0
    hooks:
      - id: trailing-whitespace
"""


@dataclass(frozen=True, slots=True)
class Run:
    concurrency: int
    run: int
    """1: empty cache; 2: the cache of run 1."""
    seconds: float
    requests: int
    counted: int
    """Requests that count against the primary rate limit (not 304)."""
    findings: int
    git: int = 0
    """Git smart-HTTP requests (the files of the repositories)."""

    def per_repository(self, repos: int) -> float:
        return self.requests / repos


def build(github: GitHub, repos: int) -> None:
    org = compliant_org(github, repos=repos)
    for number, repo in enumerate(sorted(org.repos.values(), key=lambda r: r.name)):
        repo.files[".github/dependabot.yml"] = DEPENDABOT
        repo.files[".pre-commit-config.yaml"] = PRE_COMMIT
        # A third keep the defaults GitHub gives a new repository, a third have a publishing
        # secret, the rest comply.
        if number % 3 == 0:
            repo.environments.clear()
            repo.immutable_releases = False
        elif number % 3 == 1:
            repo.secrets.append("PYPI_TOKEN")
        else:
            repo.immutable_releases = True
    org.immutable_releases = "none"
    github.add_token(TOKEN, ALL_PERMISSIONS)


def measure(github: GitHub, concurrency: int, repos: int) -> list[Run]:
    runs = []
    with tempfile.TemporaryDirectory() as cache:
        for number in (1, 2):
            client = RestClient(
                Host.from_web_url(github.web_url),
                Token(TOKEN, "bench"),
                cache_dir=Path(cache),
                concurrency=concurrency,
            )
            before = github.counters.counted
            started = time.perf_counter()
            audit = audit_organization(client, Config(), "acme", concurrency=concurrency)
            seconds = time.perf_counter() - started
            assert audit.repositories == repos, audit.repositories
            assert not audit.report.errors, audit.report.errors
            runs.append(
                Run(
                    concurrency,
                    number,
                    seconds,
                    client.stats.requests,
                    github.counters.counted - before,
                    len(audit.report.findings),
                    client.git.counter.requests,
                )
            )
            print(f"  concurrency {concurrency}, run {number}: {seconds:.1f} s", file=sys.stderr)
    return runs


def table(runs: list[Run], repos: int, latency: float) -> str:
    lines = [
        f"Organisation of {repos} repositories, {latency * 1000:.0f} ms added to every answer.",
        "",
        "| Concurrency | Run | Wall time | REST requests | Per repository | Counted against "
        "the rate limit | Git requests | Findings |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        label = "first (empty cache)" if run.run == 1 else "second (ETag cache)"
        lines.append(
            f"| {run.concurrency} | {label} | {run.seconds:.1f} s | {run.requests} | "
            f"{run.per_repository(repos):.1f} | {run.counted} ({run.counted / run.requests:.0%}) | "
            f"{run.git} | {run.findings} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", default="8,32")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    levels = [int(part) for part in arguments.concurrency.split(",")]
    runs: list[Run] = []
    with GitHub() as github:
        build(github, arguments.repos)
        github.latency = arguments.latency
        # An App installation on Enterprise Cloud: a first audit of 500 repositories takes
        # more than the 5,000 requests an hour of a personal token.
        github.rate_limit = 15_000
        for level in levels:
            runs.extend(measure(github, level, arguments.repos))
    if arguments.json:
        print(json.dumps([asdict(run) for run in runs], indent=2))
    else:
        print(table(runs, arguments.repos, arguments.latency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
