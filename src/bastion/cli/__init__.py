"""The command line: one module per command, each adding its parser and the function it runs.

A command module has ``register(commands)``, which adds a sub-parser and sets its ``run``
default to a function taking the parsed arguments and returning the exit code.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from bastion import __version__
from bastion.cli import check, docs, fix, graph, lock, pin, release, settings
from bastion.cli.common import EXIT_ERROR, Parser
from bastion.errors import BastionError, UsageError
from bastion.findings import escape_text

COMMANDS = (check, docs, fix, pin, lock, graph, settings, release)


def _parser() -> Parser:
    parser = Parser(
        prog="bastion",
        description="Audit, fix and enforce a supply-chain security playbook for GitHub.",
    )
    parser.add_argument("--version", action="version", version=f"bastion {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments = _parser().parse_args(argv)
        status: int = arguments.run(arguments)
        return status
    except UsageError as error:
        print(f"bastion: error: {escape_text(str(error))}", file=sys.stderr)
        return EXIT_ERROR
    except BastionError as error:
        print(f"bastion: {escape_text(str(error))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("bastion: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`bastion explain x | head`): stop quietly, and keep Python
        # from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as error:  # a bug: one line saying where, and 2, never 1 (findings)
        frame = traceback.extract_tb(error.__traceback__)[-1]
        print(
            f"bastion: internal error: {type(error).__name__}: {escape_text(str(error))} "
            f"({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}); please report this",
            file=sys.stderr,
        )
        return EXIT_ERROR
