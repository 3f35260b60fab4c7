"""The command line: one module per command, each adding its parser and the function it runs.

A command module has ``register(commands)``, which adds a sub-parser and sets its ``run``
default to a function taking the parsed arguments and returning the exit code. Only the
module of the command being run is imported (start-up is most of a small run); ``--help``,
``--version`` and a mistyped command register every command.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
from collections.abc import Sequence

from bastion import __version__
from bastion.cli.common import EXIT_ERROR, Parser
from bastion.errors import BastionError, UsageError
from bastion.findings import ESCAPE_ERRORS, escape_text

MODULES = ("check", "docs", "fix", "pin", "lock", "graph", "settings", "release")
"""The command modules, in the order ``--help`` lists their commands."""
COMMAND_MODULES = {
    "check": "check",
    "rules": "docs",
    "explain": "docs",
    "fix": "fix",
    "pin": "pin",
    "update": "pin",
    "lock": "lock",
    "graph": "graph",
    "repo": "settings",
    "org": "settings",
    "apply": "settings",
    "merge": "settings",
    "release": "release",
}
"""The module that registers each command (tests/test_cli.py checks it against them)."""


def _parser(command: str | None = None) -> Parser:
    """The parser, with only ``command``'s module registered when it names one."""
    parser = Parser(
        prog="bastion",
        description="Audit, fix and enforce a supply-chain security playbook for GitHub.",
    )
    parser.add_argument("--version", action="version", version=f"bastion {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    module = COMMAND_MODULES.get(command or "")
    for name in (module,) if module else MODULES:
        importlib.import_module(f"bastion.cli.{name}").register(commands)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first word that is not an option (the top level
    has no option taking a value)."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    _escape_streams()
    try:
        words = sys.argv[1:] if argv is None else argv
        arguments, unknown = _parser(_command(words)).parse_known_args(words)
        if unknown:  # argparse would blame the top-level parser and point at `bastion --help`
            raise UsageError(
                f"unrecognized arguments: {' '.join(unknown)} "
                f"(see `bastion {arguments.command} --help`)"
            )
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
        import traceback

        frame = traceback.extract_tb(error.__traceback__)[-1]
        print(
            f"bastion: internal error: {type(error).__name__}: {escape_text(str(error))} "
            f"({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}); please report this",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _escape_streams() -> None:
    """Whatever a command prints, standard output and error stay valid UTF-8: a lone
    surrogate (a file name that is not UTF-8) is written as ``escape_text`` writes it."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=ESCAPE_ERRORS)
