"""`bastion graph`: the transitive action graph of a repository, its pins, gaps and problems."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from bastion.cli.common import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    Commands,
    add_github_arguments,
    write_output,
)
from bastion.errors import UsageError
from bastion.graph import audit
from bastion.graph.render import RENDERERS
from bastion.graph.resolve import Progress, load_roots, resolve_graph
from bastion.model.graph import Graph
from bastion.pinning.resolver import default_resolver


def register(commands: Commands) -> None:
    graph = commands.add_parser(
        "graph",
        help="show what every workflow really runs: the actions it calls, transitively",
        description=(
            "Resolve every `uses:` under PATH (steps, reusable workflows, the actions that "
            "composite actions and reusable workflows call in turn) to the commit it runs, "
            "fetching the called files through git, and print the graph with the status of "
            "each use: pinned, mutable, local or problem, and the gaps and findings of the "
            "graph audits. Exit 1 when something could not be resolved or an audit found "
            "something."
        ),
    )
    graph.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="a repository, or a file in one"
    )
    graph.add_argument(
        "--format",
        choices=sorted(RENDERERS),
        default="tree",
        help="tree (default), json (schema in docs/graph.md), dot (Graphviz) or mermaid",
    )
    graph.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    graph.add_argument(
        "--no-audit", action="store_true", help="only the graph: skip the gap and file rules"
    )
    graph.add_argument(
        "--offline", action="store_true", help="answer from the cache only, send no request"
    )
    graph.add_argument(
        "--refresh", action="store_true", help="list every repository again, ignoring the cache"
    )
    add_github_arguments(graph)
    graph.set_defaults(run=_graph)


def _graph(arguments: argparse.Namespace) -> int:
    target = Path(arguments.path)
    if not target.exists():
        raise UsageError(f"{arguments.path} does not exist")
    roots, checkout, errors = load_roots(target)
    for error in errors:
        print(f"bastion: {error}", file=sys.stderr)
    if not roots:
        print(f"bastion: no workflows or actions found under {arguments.path}", file=sys.stderr)
        return EXIT_FINDINGS if errors else EXIT_CLEAN
    resolver = default_resolver(
        arguments.github_url, offline=arguments.offline, refresh=arguments.refresh
    )
    progress = _Progress(sys.stderr)
    try:
        graph = resolve_graph(roots, resolver, checkout=checkout, progress=progress)
    finally:
        progress.clear()
    if not arguments.no_audit:
        graph.marks = audit.marks(graph)  # the audits' hook: gaps and findings on the nodes
    _write(RENDERERS[arguments.format](graph), arguments.output)
    return EXIT_FINDINGS if _has_findings(graph) or errors else EXIT_CLEAN


def _has_findings(graph: Graph) -> bool:
    return bool(graph.problems) or bool(graph.marks)


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        write_output(text, output)


class _Progress:
    """One self-erasing status line on a terminal; nothing when stderr is not one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.shown = False

    def __call__(self, progress: Progress) -> None:
        if not self.active:
            return
        line = (
            f"level {progress.level}: {progress.done}/{progress.total} repositories "
            f"({progress.repository})"
        )
        self.stream.write("\r\x1b[2K" + line[:100])
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.shown = False
