"""How `bastion fix` grows with the size of a file.

Usage: python bench/fix_scale.py [--steps 1000,2000,4000,8000] [--json]

For each size, writes one workflow with that many `actions/checkout` steps (each one a
persisted-credentials finding, all fixed in the same run, and an excessive-permissions
finding), then runs `bastion fix --unsafe` on it in a child process and reports the wall
time and the child's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Figure:
    steps: int
    kilobytes: int
    seconds: float
    peak_mb: float
    exit_code: int


def workflow(steps: int) -> str:
    lines = ["on: push", "jobs:", "  build:", "    runs-on: ubuntu-latest", "    steps:"]
    for number in range(steps):
        lines.append(f"      - name: checkout {number}")
        lines.append("        uses: actions/checkout@v4")
    return "\n".join(lines) + "\n"


def measure(steps: int, directory: Path) -> Figure:
    path = directory / f"w{steps}.yml"
    text = workflow(steps)
    path.write_text(text, encoding="utf-8")
    command = [sys.executable, "-m", "bastion", "fix", "--unsafe", "--no-config", str(path)]
    start = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return Figure(steps, len(text.encode()) // 1024, round(seconds, 2), round(peak, 1), code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="1000,2000,4000,8000")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.steps.split(",")]
    with tempfile.TemporaryDirectory() as temporary:
        figures = [measure(size, Path(temporary)) for size in sizes]
    if arguments.json:
        print(json.dumps([asdict(figure) for figure in figures], indent=2))
        return
    print("| steps | file (KB) | time (s) | peak memory (MB) | exit |")
    print("|---:|---:|---:|---:|---:|")
    for figure in figures:
        print(
            f"| {figure.steps:,} | {figure.kilobytes:,} | {figure.seconds:.2f} "
            f"| {figure.peak_mb:.0f} | {figure.exit_code} |"
        )


if __name__ == "__main__":
    main()
