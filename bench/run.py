"""Benchmark bastion against zizmor on the real-world corpus: wall time and memory.

Usage: python bench/run.py [--rounds N] [--corpus DIR] [--zizmor PATH] [--json]

The corpus is copied to bench/.work/corpus without the files zizmor cannot load at all
(one such file makes zizmor abort the whole run); both tools then check the same repository
directories, alternating, N rounds each, after one untimed warm-up run of each.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "current"
WORK = REPO / "bench" / ".work"
MIB = 1024 * 1024
SAMPLE_SECONDS = 0.1

# zizmor exits 0 when clean and 10-14 when it reports findings (by highest severity).
ZIZMOR_OK = frozenset({0, 10, 11, 12, 13, 14})
# bastion exits 0 when clean and 1 with findings; 2 means a rule crashed on some file.
BASTION_OK = frozenset({0, 1})
ZIZMOR_LOAD_ERROR = re.compile(r"failed to load file://(.+?) as ")
ZIZMOR_COMPLETED = re.compile(r"\bcompleted (\S.*)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Measurement:
    tool: str
    round: int
    wall_seconds: float
    cpu_seconds: float
    """User plus system time of the child and its waited-for descendants."""
    max_rss_mib: float
    """ru_maxrss from wait4: the peak of the largest single process of the run."""
    tree_pss_mib: float | None
    """Peak of the summed PSS of the whole process tree, sampled every SAMPLE_SECONDS."""
    exit_code: int
    files: int | None
    findings: int | None


@dataclass(frozen=True, slots=True)
class Summary:
    tool: str
    median_wall: float
    min_wall: float
    median_cpu: float
    peak_rss_mib: float
    peak_tree_pss_mib: float | None
    files: int | None
    findings: int | None


@dataclass(slots=True)
class Preparation:
    repositories: list[str]
    excluded_files: list[str] = field(default_factory=list)
    excluded_repositories: list[str] = field(default_factory=list)


class BenchError(Exception):
    pass


# --- running a child and measuring it -------------------------------------------------------


def _parent_map() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry.name)] = int(fields[1])
    return parents


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _tree_pss_kib(root: int) -> int:
    parents = _parent_map()
    tree = {root}
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grew = bool(children)
    return sum(_pss_kib(pid) for pid in tree)


class _TreeSampler(threading.Thread):
    """Samples the summed PSS of a process and its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak_kib = max(self.peak_kib, _tree_pss_kib(self.pid))
            self.stopped.wait(SAMPLE_SECONDS)


@dataclass(frozen=True, slots=True)
class ChildResult:
    wall_seconds: float
    cpu_seconds: float
    max_rss_mib: float
    tree_pss_mib: float | None
    exit_code: int
    stdout: Path
    stderr: Path

    def stderr_tail(self, limit: int = 4000) -> str:
        with self.stderr.open("rb") as err:
            err.seek(max(0, self.stderr.stat().st_size - limit))
            return err.read().decode("utf-8", errors="replace")


def run_child(
    command: Sequence[str], cwd: Path, *, sample: bool, name: str = "child"
) -> ChildResult:
    """Run one command with its output in files, timing it and reading its rusage via wait4.

    On Linux a child's ru_maxrss also counts the memory image it was started from, that is
    this process: so this process never loads the children's (large) reports itself.
    """
    out_path, err_path = WORK / f"{name}.stdout", WORK / f"{name}.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        sampler = (
            _TreeSampler(process.pid)
            if sample and Path("/proc/self/smaps_rollup").exists()
            else None
        )
        if sampler:
            sampler.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            if sampler:
                sampler.stopped.set()
        wall = time.perf_counter() - start
        # Popen must not wait for the pid that wait4 already reaped.
        process.returncode = os.waitstatus_to_exitcode(status)
    if sampler:
        sampler.join()
    return ChildResult(
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_mib=usage.ru_maxrss * 1024 / MIB,  # Linux reports KiB
        tree_pss_mib=sampler.peak_kib / 1024 if sampler and sampler.peak_kib else None,
        exit_code=process.returncode,
        stdout=out_path,
        stderr=err_path,
    )


# --- the two tools ---------------------------------------------------------------------------


def zizmor_command(zizmor: str, paths: Sequence[str]) -> list[str]:
    # Same kinds of files as bastion: workflows and actions (not dependabot or pre-commit).
    return [
        zizmor,
        "--offline",
        "--no-config",
        "--no-progress",
        "--color=never",
        "--collect=workflows,actions",
        "--format=json",
        *paths,
    ]


def bastion_command(paths: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "bastion", "check", "--no-config", "--format", "json", *paths]


def count_report(tool: str, stdout: Path, stderr: Path) -> tuple[int | None, int | None]:
    """How many files a tool says it checked, and how many findings it reported."""
    files: int | None = None
    findings: int | None = None
    try:
        document = json.loads(stdout.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = None
    if tool == "bastion" and isinstance(document, dict):
        files = document.get("files_checked")
        findings = len(document.get("findings", []))
    elif tool == "zizmor":
        with stderr.open(encoding="utf-8", errors="replace") as lines:
            completed = {m.group(1) for line in lines if (m := ZIZMOR_COMPLETED.search(line))}
        files = len(completed) or None
        findings = len(document) if isinstance(document, list) else None
    return files, findings


def count_in_child(tool: str, result: ChildResult) -> tuple[int | None, int | None]:
    """count_report, run in a separate process to keep this one small (see run_child)."""
    command = [sys.executable, __file__, "--count-report", tool, str(result.stdout)]
    counted = subprocess.run(
        [*command, str(result.stderr)], capture_output=True, text=True, check=False
    )
    try:
        files, findings = json.loads(counted.stdout)
        return files, findings
    except ValueError:
        return None, None


# --- preparing the working copy --------------------------------------------------------------


def _repository_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))


def _zizmor_fails(zizmor: str, cwd: Path, paths: Sequence[str]) -> ChildResult | None:
    result = run_child(zizmor_command(zizmor, paths), cwd, sample=False, name="prepare")
    return None if result.exit_code in ZIZMOR_OK else result


def prepare(corpus: Path, zizmor: str, log: Callable[[str], None]) -> Preparation:
    """Copy the corpus, then remove what zizmor cannot load, repository by repository."""
    target = WORK / "corpus"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(corpus, target, symlinks=True)
    preparation = Preparation(sorted(p.name for p in target.iterdir() if p.is_dir()))
    for name in list(preparation.repositories):
        for _ in range(50):  # each pass removes at least one file, or gives up
            failure = _zizmor_fails(zizmor, target, [name])
            if failure is None:
                break
            named = [
                target / m for m in sorted(set(ZIZMOR_LOAD_ERROR.findall(failure.stderr_tail())))
            ]
            culprits = [p for p in named if p.is_file()]
            if not culprits:  # no usable message: try each file of the repository alone
                culprits = [
                    p
                    for p in _repository_files(target / name)
                    if _zizmor_fails(zizmor, target, [str(p.relative_to(target))])
                ]
            if not culprits:
                log(f"zizmor fails on {name} for an unknown reason; leaving the repository out")
                shutil.rmtree(target / name)
                preparation.repositories.remove(name)
                preparation.excluded_repositories.append(name)
                break
            for path in culprits:
                preparation.excluded_files.append(str(path.relative_to(target)))
                path.unlink()
    return preparation


# --- reporting -------------------------------------------------------------------------------


def summarize(tool: str, runs: Sequence[Measurement]) -> Summary:
    walls = [m.wall_seconds for m in runs]
    pss = [m.tree_pss_mib for m in runs if m.tree_pss_mib is not None]
    return Summary(
        tool=tool,
        median_wall=statistics.median(walls),
        min_wall=min(walls),
        median_cpu=statistics.median(m.cpu_seconds for m in runs),
        peak_rss_mib=max(m.max_rss_mib for m in runs),
        peak_tree_pss_mib=max(pss) if pss else None,
        files=runs[-1].files,
        findings=runs[-1].findings,
    )


def _number(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def table(summaries: Sequence[Summary]) -> str:
    header = (
        "tool",
        "median wall s",
        "min wall s",
        "median CPU s",
        "peak RSS MiB",
        "tree PSS MiB",
        "files",
        "findings",
    )
    rows = [header] + [
        (
            s.tool,
            _number(s.median_wall),
            _number(s.min_wall),
            _number(s.median_cpu),
            _number(s.peak_rss_mib, 1),
            _number(s.peak_tree_pss_mib, 1),
            _number(s.files),
            _number(s.findings),
        )
        for s in summaries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    return "\n".join(lines)


def ratios(bastion: Summary, zizmor: Summary) -> dict[str, float | None]:
    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    return {
        "time (median wall)": ratio(zizmor.median_wall, bastion.median_wall),
        "CPU time (median)": ratio(zizmor.median_cpu, bastion.median_cpu),
        "memory (peak RSS)": ratio(zizmor.peak_rss_mib, bastion.peak_rss_mib),
        "memory (tree PSS)": ratio(zizmor.peak_tree_pss_mib, bastion.peak_tree_pss_mib),
    }


def environment(zizmor: str) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run([zizmor, "--version"], capture_output=True, text=True, check=False)
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu,
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "zizmor": version.stdout.strip(),
        "bastion": importlib.metadata.version("bastion"),
        "load": " ".join(f"{load:.2f}" for load in os.getloadavg()),
    }


# --- main ------------------------------------------------------------------------------------


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each tool (default 5)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory")
    parser.add_argument("--zizmor", help="zizmor executable (default: zizmor on PATH)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument(
        "--no-sample", action="store_true", help="do not sample the process tree's PSS"
    )
    # Internal: count a report in a separate process (see count_in_child).
    parser.add_argument("--count-report", nargs=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    if arguments.count_report:
        tool, stdout, stderr = arguments.count_report
        print(json.dumps(count_report(tool, Path(stdout), Path(stderr))))
        return 0

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        return _bench(arguments, log)
    except BenchError as error:
        log(f"bench: {error}")
        return 2


def _own_max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MIB


def _measure(
    tool: str, command: Sequence[str], cwd: Path, round_number: int, *, sample: bool
) -> Measurement:
    result = run_child(command, cwd, sample=sample, name=tool)
    files, findings = count_in_child(tool, result)
    accepted = BASTION_OK if tool == "bastion" else ZIZMOR_OK
    if result.exit_code not in accepted:
        tail = "\n".join(result.stderr_tail().strip().splitlines()[-8:])
        print(f"warning: {tool} exited with {result.exit_code}:\n{tail}", file=sys.stderr)
    if files is None:
        raise BenchError(
            f"could not read {tool}'s report (exit code {result.exit_code}); "
            f"stderr ends with:\n{result.stderr_tail(2000)}"
        )
    return Measurement(
        tool=tool,
        round=round_number,
        wall_seconds=result.wall_seconds,
        cpu_seconds=result.cpu_seconds,
        max_rss_mib=result.max_rss_mib,
        tree_pss_mib=result.tree_pss_mib,
        exit_code=result.exit_code,
        files=files,
        findings=findings,
    )


def _bench(arguments: argparse.Namespace, log: Callable[[str], None]) -> int:
    corpus: Path = arguments.corpus.resolve()
    if not corpus.is_dir():
        raise BenchError(f"corpus {corpus} not found (use --corpus)")
    zizmor = arguments.zizmor or shutil.which("zizmor")
    if not zizmor or not Path(zizmor).exists():
        raise BenchError("zizmor not found on PATH (use --zizmor or install requirements/dev.txt)")
    if importlib.util.find_spec("bastion") is None:
        raise BenchError(f"bastion is not importable by {sys.executable} (pip install -e .)")
    WORK.mkdir(parents=True, exist_ok=True)

    log(f"preparing a copy of {corpus} in {WORK / 'corpus'} ...")
    preparation = prepare(corpus, zizmor, log)
    for path in preparation.excluded_files:
        log(f"left out (zizmor cannot load it): {path}")
    repositories = preparation.repositories
    if not repositories:
        raise BenchError(f"no repository directory left in {WORK / 'corpus'}")
    commands = {
        "bastion": bastion_command(repositories),
        "zizmor": zizmor_command(zizmor, repositories),
    }

    measurements: dict[str, list[Measurement]] = {"bastion": [], "zizmor": []}
    for round_number in range(arguments.rounds + 1):  # round 0 is the warm-up
        order = ["bastion", "zizmor"] if round_number % 2 == 0 else ["zizmor", "bastion"]
        for tool in order:
            measured = _measure(
                tool, commands[tool], WORK / "corpus", round_number, sample=not arguments.no_sample
            )
            label = "warm-up" if round_number == 0 else f"round {round_number}"
            log(
                f"{label}: {tool} {measured.wall_seconds:.2f} s, "
                f"{measured.max_rss_mib:.0f} MiB, {measured.files} files"
            )
            if round_number:
                measurements[tool].append(measured)

    summaries = [summarize(tool, runs) for tool, runs in measurements.items()]
    ratio = ratios(summaries[0], summaries[1])
    env = environment(zizmor)
    floor = _own_max_rss_mib()
    if any(s.peak_rss_mib < floor * 1.2 for s in summaries):
        log(f"warning: a peak RSS is close to this script's own ({floor:.0f} MiB), which it counts")
    if arguments.json:
        document = {
            "environment": env,
            "corpus": str(corpus),
            "repositories": len(repositories),
            "excluded_files": preparation.excluded_files,
            "excluded_repositories": preparation.excluded_repositories,
            "commands": {
                "bastion": bastion_command(["<repositories>"]),
                "zizmor": zizmor_command(zizmor, ["<repositories>"]),
            },
            "bench_own_max_rss_mib": floor,
            "summaries": [asdict(summary) for summary in summaries],
            "zizmor_over_bastion": ratio,
            "runs": [asdict(m) for runs in measurements.values() for m in runs],
        }
        json.dump(document, sys.stdout, indent=2)
        print()
        return 0

    print(f"{env['date']}  {env['cpu']} ({env['cpus']} CPUs, load {env['load']})")
    print(f"Python {env['python']}, bastion {env['bastion']}, {env['zizmor']}")
    print(f"{len(repositories)} repositories, {arguments.rounds} rounds after one warm-up")
    if preparation.excluded_files or preparation.excluded_repositories:
        left_out = preparation.excluded_files + [
            f"{name}/ (whole)" for name in preparation.excluded_repositories
        ]
        print(f"left out (zizmor cannot load): {', '.join(left_out)}")
    print()
    print(table(summaries))
    print()
    print("zizmor / bastion: " + ", ".join(f"{k} {_number(v)}x" for k, v in ratio.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
