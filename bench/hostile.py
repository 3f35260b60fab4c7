"""What hostile sizes cost: `bastion check` and `bastion pin --offline` on a 50 MB file.

Usage: python bench/hostile.py [--megabytes 50] [--rounds 3] [--json]

Writes a repository whose one workflow is ``--megabytes`` large (a real workflow followed by
a comment that long), then runs each case in a child process and reports the median wall
time and the largest peak resident memory of the child (``ru_maxrss`` from ``wait4``):

- `check .` and `pin --offline .` on that repository (the file is refused by its size);
- `check -` with the same file on standard input, and with endless input (/dev/zero), which
  is read in chunks only up to the bound;
- `check .` on the small workflow alone, for the cost of starting bastion at all.

The script imports nothing heavy, so that a child's ``ru_maxrss`` (which on Linux starts
from the memory image of the process that forked it) is the child's own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = (
    "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: actions/checkout@v4\n"
)


@dataclass(frozen=True, slots=True)
class Figure:
    case: str
    seconds: float
    peak_mb: float
    exit_code: int
    said: str
    """The line of the output that says the input is too large (else the first line)."""


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    arguments: list[str]
    directory: str
    """"big" or "small": which repository it runs in."""
    stdin: str | None = None


CASES = [
    Case("check . (50 MB workflow)", ["check", "--no-config", "."], "big"),
    Case("pin --offline . (50 MB workflow)", ["pin", "--offline", "."], "big"),
    Case("check - < 50 MB file", ["check", "--no-config", "-"], "big", "file"),
    Case("check - < /dev/zero", ["check", "--no-config", "-"], "big", "/dev/zero"),
    Case("check . (small workflow)", ["check", "--no-config", "."], "small"),
]


def run_once(arguments: list[str], cwd: Path, stdin: Path | None, env: dict[str, str]) -> Figure:
    source = open(stdin, "rb") if stdin is not None else None  # noqa: SIM115
    try:
        start = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "bastion", *arguments],
            cwd=cwd,
            stdin=source if source is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
    finally:
        if source is not None:
            source.close()
    lines = output.decode("utf-8", "replace").strip().splitlines()
    telling = [line for line in lines if "too large" in line]
    said = (telling or lines or [""])[0]
    return Figure(" ".join(arguments), seconds, usage.ru_maxrss / 1024, child.returncode, said)


def measure(case: Case, roots: dict[str, Path], rounds: int, env: dict[str, str]) -> Figure:
    root = roots[case.directory]
    stdin = None
    if case.stdin == "file":
        stdin = root / ".github" / "workflows" / "huge.yml"
    elif case.stdin is not None:
        stdin = Path(case.stdin)
    runs = [run_once(case.arguments, root, stdin, env) for _ in range(rounds)]
    return Figure(
        case.name,
        statistics.median(run.seconds for run in runs),
        max(run.peak_mb for run in runs),
        runs[-1].exit_code,
        runs[-1].said,
    )


def build(directory: Path, megabytes: int) -> dict[str, Path]:
    big = directory / "big"
    (big / ".git").mkdir(parents=True)
    (big / ".github" / "workflows").mkdir(parents=True)
    with open(big / ".github" / "workflows" / "huge.yml", "wb") as out:
        out.write(WORKFLOW.encode())
        line = b"# " + b"x" * 1021 + b"\n"
        for _ in range(megabytes * 1024):
            out.write(line)
    small = directory / "small"
    (small / ".git").mkdir(parents=True)
    (small / ".github" / "workflows").mkdir(parents=True)
    (small / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    return {"big": big, "small": small}


def table(figures: list[Figure], megabytes: int) -> str:
    rows = [("case", "wall s", "peak MB", "exit", "said")]
    for figure in figures:
        said = figure.said if len(figure.said) <= 70 else figure.said[:67] + "..."
        rows.append(
            (
                figure.case.replace("50 MB", f"{megabytes} MB"),
                f"{figure.seconds:.2f}",
                f"{figure.peak_mb:.0f}",
                str(figure.exit_code),
                said,
            )
        )
    widths = [max(len(row[index]) for row in rows) for index in range(5)]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if index in (1, 2, 3) else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=50, help="size of the big workflow")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each case (median)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bastion-hostile-") as work:
        roots = build(Path(work), arguments.megabytes)
        env = {
            **os.environ,
            "NO_COLOR": "1",
            "PYTHONPATH": str(REPO / "src"),
            "BASTION_CACHE_DIR": str(Path(work) / "cache"),
        }
        figures = [measure(case, roots, arguments.rounds, env) for case in CASES]
    if arguments.json:
        print(json.dumps([asdict(figure) for figure in figures], indent=2))
    else:
        print(table(figures, arguments.megabytes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
