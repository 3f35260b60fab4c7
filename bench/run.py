"""Benchmark bastion against zizmor on the real-world corpus: time, CPU and memory.

Usage: python bench/run.py [--rounds N] [--large-rounds N] [--scales 1,4,16] [--corpus DIR]
                           [--zizmor PATH] [--json]

The corpus is copied to bench/.work/corpus without the files zizmor cannot load at all
(one such file makes zizmor abort the whole run); both tools then check the same repository
directories, alternating, N rounds each, after one untimed warm-up run of each; so does the
floor (PyYAML's C composer reading every YAML file, nothing else). The same runs are made on
4 and 16 copies of the corpus. Then, in the same run: bastion's time by phase, its start-up,
one job of 20,000 steps against the same steps over 40 jobs, and single repositories.
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
import tempfile
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
SINGLE_REPOSITORIES = ("python__mypy", "npm__cli")
"""Typical single repositories of the corpus (the run a pre-commit hook or CI step makes)."""
STEPS = 20_000
STEP_JOBS = 40
STARTUP_ROUNDS = 21
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


def child_env() -> dict[str, str]:
    """The environment of every measured child: this one, with Python's bytecode cached
    (in bench/.work) as an installed package has it, even where this shell turns the cache
    off (PYTHONDONTWRITEBYTECODE): without it each start compiles bastion's source again."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    return env


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
            command, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=child_env()
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


SERIAL = "bastion --jobs 1"
"""The label of bastion's run in this process alone (at 1x)."""


def bastion_command(paths: Sequence[str], *, jobs: int | None = None) -> list[str]:
    options = ["--jobs", str(jobs)] if jobs is not None else []
    command = [sys.executable, "-m", "bastion", "check", "--no-config", "--format", "json"]
    return [*command, *options, *paths]


def floor_command(paths: Sequence[str]) -> list[str]:
    return [sys.executable, __file__, "--compose", *paths]


def breakdown_command(paths: Sequence[str]) -> list[str]:
    return [sys.executable, __file__, "--breakdown", *paths]


def _yaml_files(paths: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        found.extend(_repository_files(path) if path.is_dir() else [path])
    return found


def compose_floor(paths: Sequence[str]) -> dict[str, int]:
    """The floor: read every YAML file and compose it with PyYAML's C composer, no more."""
    import yaml

    composed = 0
    for path in _yaml_files(paths):
        try:
            yaml.compose(path.read_bytes().decode("utf-8"), Loader=yaml.CSafeLoader)
        except (UnicodeDecodeError, yaml.YAMLError):
            continue
        composed += 1
    return {"files": composed}


def breakdown(paths: Sequence[str]) -> dict[str, float]:
    """CPU seconds of each phase of one `bastion check --jobs 1` in this process (start-up
    is measured on its own): each phase's functions are wrapped in a timer."""
    import io

    from bastion import engine
    from bastion.config import Config
    from bastion.inputs import collect
    from bastion.model import triggers
    from bastion.render import json as json_render
    from bastion.source import json5

    spent: dict[str, float] = {}
    nested: list[float] = []  # time spent in timed calls inside the one running

    def timed(phase: str, function: Callable[..., object]) -> Callable[..., object]:
        def measured(*arguments: object, **keywords: object) -> object:
            start = time.process_time()
            nested.append(0.0)
            try:
                return function(*arguments, **keywords)
            finally:
                elapsed = time.process_time() - start
                spent[phase] = spent.get(phase, 0.0) + elapsed - nested.pop()
                if nested:
                    nested[-1] += elapsed

        return measured

    wrapped = (
        (engine, "read_file", "read"),
        (engine, "_decode", "read"),
        (engine, "parse", "parse"),
        (json5, "parse", "parse"),  # Renovate files (imported where used)
        (engine, "build_model", "model"),
        (triggers, "sibling_workflows", "model"),  # the workflows a workflow_run names
        (engine, "_repository", "model"),  # the repository view, its updater files read
        (engine.Checker, "_run_rules", "rules"),
        (engine.Checker, "check_repository", "rules"),
    )
    for owner, name, phase in wrapped:
        setattr(owner, name, timed(phase, getattr(owner, name)))
    start = time.process_time()
    inputs = collect(list(paths))
    spent["read"] = spent.get("read", 0.0) + time.process_time() - start
    report = engine.run(inputs, Config(), jobs=1, lines=False)  # as --format json runs
    rendered = time.process_time()
    json_render.render(report, io.StringIO())
    spent["render"] = time.process_time() - rendered
    total = time.process_time() - start
    spent["other"] = total - sum(spent.values())
    spent["total"] = total
    return spent


def count_report(tool: str, stdout: Path, stderr: Path) -> tuple[int | None, int | None]:
    """How many files a tool says it checked, and how many findings it reported."""
    files: int | None = None
    findings: int | None = None
    try:
        document = json.loads(stdout.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = None
    if tool == "floor" and isinstance(document, dict):
        files = document.get("files")
    elif tool != "zizmor" and isinstance(document, dict):  # bastion, under any label
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
        "unbuffered": os.environ.get("PYTHONUNBUFFERED", ""),
    }


# --- main ------------------------------------------------------------------------------------


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each tool (default 5)")
    parser.add_argument(
        "--large-rounds",
        type=int,
        default=3,
        help="timed runs on the copies of the corpus (default 3)",
    )
    parser.add_argument(
        "--scales",
        default="1,4,16",
        help="copies of the corpus to check, comma-separated (default 1,4,16)",
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory")
    parser.add_argument("--zizmor", help="zizmor executable (default: zizmor on PATH)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument(
        "--no-sample", action="store_true", help="do not sample the process tree's PSS"
    )
    # Internal: count a report in a separate process (see count_in_child), the floor, and
    # the breakdown, each in a child of its own.
    parser.add_argument("--count-report", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--compose", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--breakdown", nargs="+", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1 or arguments.large_rounds < 1:
        parser.error("--rounds and --large-rounds must be at least 1")
    try:
        arguments.scales = sorted({int(part) for part in arguments.scales.split(",")})
    except ValueError:
        parser.error("--scales takes whole numbers, comma-separated")
    if arguments.scales[0] < 1:
        parser.error("--scales must be at least 1")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    if arguments.count_report:
        tool, stdout, stderr = arguments.count_report
        print(json.dumps(count_report(tool, Path(stdout), Path(stderr))))
        return 0
    if arguments.compose:
        print(json.dumps(compose_floor(arguments.compose)))
        return 0
    if arguments.breakdown:
        print(json.dumps(breakdown(arguments.breakdown)))
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
    accepted = ZIZMOR_OK if tool == "zizmor" else BASTION_OK
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


def _copies(source: Path, repositories: Sequence[str], scale: int, target: Path) -> list[str]:
    """``scale`` copies of each repository directory under ``target``, as relative names."""
    names: list[str] = []
    for copy in range(scale):
        for name in repositories:
            shutil.copytree(source / name, target / f"{name}__{copy}", symlinks=True)
            names.append(f"{name}__{copy}")
    return names


def _compare(
    commands: dict[str, list[str]],
    cwd: Path,
    rounds: int,
    log: Callable[[str], None],
    *,
    label: str,
    sample: bool,
    warm_up: bool,
) -> dict[str, list[Measurement]]:
    """N rounds of each tool, alternating which goes first; round 0 is an untimed warm-up."""
    measurements: dict[str, list[Measurement]] = {tool: [] for tool in commands}
    tools = list(commands)
    for round_number in range(0 if warm_up else 1, rounds + 1):
        order = tools if round_number % 2 == 0 else tools[::-1]
        for tool in order:
            measured = _measure(tool, commands[tool], cwd, round_number, sample=sample)
            name = "warm-up" if round_number == 0 else f"round {round_number}"
            log(
                f"{label} {name}: {tool} {measured.wall_seconds:.2f} s wall, "
                f"{measured.cpu_seconds:.2f} s CPU, {measured.max_rss_mib:.0f} MiB, "
                f"{measured.files} files"
            )
            if round_number:
                measurements[tool].append(measured)
    return measurements


def _steps_workflow(jobs: int, steps: int) -> str:
    """A release workflow of ``steps`` steps over ``jobs`` jobs, cycling through steps every
    rule reads (checkout, scripts with downloads and expressions, publishing, caches)."""
    kinds = [
        "      - uses: actions/checkout@v4\n",
        "      - run: npm ci && npm test\n",
        "      - run: |\n          curl -sSL https://example.com/i.sh | sh\n"
        '          echo "${{ github.event.head_commit.message }}"\n',
        "      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n",
        "      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM }}\n",
        "      - uses: pypa/gh-action-pypi-publish@release/v1\n        with:\n"
        "          password: ${{ secrets.PYPI }}\n",
        "      - if: github.event_name == 'push'\n        run: python -m build\n",
        "      - uses: actions/cache@v4\n        with:\n          path: ~/.npm\n          key: k\n",
        "      - run: echo ${{ secrets.TOKEN }} | docker login -u x --password-stdin\n",
        "      - uses: docker/build-push-action@v5\n        with:\n          push: true\n",
    ]
    parts = ["on:\n  push:\n    tags: ['v*']\njobs:\n"]
    for job in range(jobs):
        parts.append(f"  job{job}:\n    runs-on: ubuntu-latest\n    steps:\n")
        parts.extend(kinds[(job * (steps // jobs) + n) % len(kinds)] for n in range(steps // jobs))
    return "".join(parts)


def _write_repository(root: Path, workflow: str) -> Path:
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    (workflows / "release.yml").write_text(workflow, encoding="utf-8")
    return root


SMALL_WORKFLOW = """\
name: ci
on: [push, pull_request]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install -r requirements.txt && pytest
"""


@dataclass(slots=True)
class Figures:
    """Everything one run measured."""

    scales: dict[int, dict[str, Summary]] = field(default_factory=dict)
    runs: list[Measurement] = field(default_factory=list)
    breakdown: dict[str, float] = field(default_factory=dict)
    startup_cpu: float = 0.0
    startup_wall: float = 0.0
    steps: dict[str, Summary] = field(default_factory=dict)
    single: dict[str, dict[str, Summary]] = field(default_factory=dict)


def _median_breakdown(
    paths: Sequence[str], cwd: Path, rounds: int, log: Callable[[str], None]
) -> dict[str, float]:
    phases: dict[str, list[float]] = {}
    for _ in range(rounds):
        result = run_child(breakdown_command(paths), cwd, sample=False, name="breakdown")
        try:
            measured = json.loads(result.stdout.read_text(encoding="utf-8"))
        except ValueError:
            raise BenchError(f"the breakdown failed:\n{result.stderr_tail(2000)}") from None
        for phase, seconds in measured.items():
            phases.setdefault(phase, []).append(seconds)
    log("breakdown: " + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in phases.items()))
    return {phase: statistics.median(seconds) for phase, seconds in phases.items()}


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
    sample = not arguments.no_sample
    figures = Figures()
    prepared = WORK / "corpus"

    for scale in arguments.scales:
        with tempfile.TemporaryDirectory(prefix=f"bench-{scale}x-", dir=WORK) as temporary:
            cwd = prepared if scale == 1 else Path(temporary)
            names = repositories if scale == 1 else _copies(prepared, repositories, scale, cwd)
            commands = {
                "bastion": bastion_command(names),
                "zizmor": zizmor_command(zizmor, names),
                "floor": floor_command(names),
            }
            if scale == 1:  # what the worker processes cost and save
                commands[SERIAL] = bastion_command(names, jobs=1)
            rounds = arguments.rounds if scale == 1 else arguments.large_rounds
            measured = _compare(
                commands, cwd, rounds, log, label=f"{scale}x", sample=sample, warm_up=scale == 1
            )
            figures.scales[scale] = {tool: summarize(tool, runs) for tool, runs in measured.items()}
            figures.runs.extend(m for runs in measured.values() for m in runs)
            if scale == 1:
                figures.breakdown = _median_breakdown(names, cwd, arguments.rounds, log)

    small = _write_repository(WORK / "small", SMALL_WORKFLOW)
    startup = [
        run_child(bastion_command([str(small)]), WORK, sample=False, name="startup")
        for _ in range(STARTUP_ROUNDS)
    ]
    figures.startup_cpu = statistics.median(r.cpu_seconds for r in startup)
    figures.startup_wall = statistics.median(r.wall_seconds for r in startup)
    log(f"start-up: {figures.startup_cpu * 1000:.0f} ms CPU")

    one = _write_repository(WORK / "steps-one-job", _steps_workflow(1, STEPS))
    spread = _write_repository(WORK / "steps-40-jobs", _steps_workflow(STEP_JOBS, STEPS))
    steps = _compare(
        {"one job": bastion_command([str(one)]), "40 jobs": bastion_command([str(spread)])},
        WORK,
        arguments.large_rounds,
        log,
        label="steps",
        sample=False,
        warm_up=False,
    )
    figures.steps = {name: summarize(name, runs) for name, runs in steps.items()}

    for name in SINGLE_REPOSITORIES:
        if name not in repositories:
            log(f"{name} is not in the corpus; skipped")
            continue
        single = _compare(
            {"bastion": bastion_command([name]), "zizmor": zizmor_command(zizmor, [name])},
            prepared,
            arguments.rounds,
            log,
            label=name,
            sample=False,
            warm_up=False,
        )
        figures.single[name] = {tool: summarize(tool, runs) for tool, runs in single.items()}

    env = environment(zizmor)
    own = _own_max_rss_mib()
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
                "floor": floor_command(["<repositories>"]),
            },
            "bench_own_max_rss_mib": own,
            "scales": {
                str(scale): [asdict(summary) for summary in summaries.values()]
                for scale, summaries in figures.scales.items()
            },
            "breakdown_cpu_seconds": figures.breakdown,
            "startup": {"cpu_seconds": figures.startup_cpu, "wall_seconds": figures.startup_wall},
            "steps": [asdict(summary) for summary in figures.steps.values()],
            "single_repositories": {
                name: [asdict(summary) for summary in summaries.values()]
                for name, summaries in figures.single.items()
            },
            "targets": targets(figures),
            "runs": [asdict(m) for m in figures.runs],
        }
        json.dump(document, sys.stdout, indent=2)
        print()
        return 0
    print(report_text(figures, env, preparation, arguments))
    return 0


def targets(figures: Figures) -> list[tuple[str, str, bool]]:
    """Issue 14's targets: what each is, the figure measured, and whether it is met."""
    found: list[tuple[str, str, bool]] = []
    for scale, summaries in figures.scales.items():
        bastion, zizmor, floor = summaries["bastion"], summaries["zizmor"], summaries["floor"]
        cpu = zizmor.median_cpu / bastion.median_cpu
        wall = zizmor.median_wall / bastion.median_wall
        over_floor = bastion.median_cpu / floor.median_cpu
        found.append((f"{scale}x: CPU >= 3x lower than zizmor", f"{cpu:.2f}x", cpu >= 3))
        found.append((f"{scale}x: wall >= 3x lower than zizmor", f"{wall:.2f}x", wall >= 3))
        found.append((f"{scale}x: CPU <= 2x the floor", f"{over_floor:.2f}x", over_floor <= 2))
    serial = figures.scales.get(1, {}).get(SERIAL)
    if serial is not None:
        parallel = figures.scales[1]["bastion"]
        extra = parallel.median_cpu - serial.median_cpu
        found.append(
            (
                "1x: default jobs no slower than --jobs 1 (wall; CPU added)",
                f"{parallel.median_wall:.2f} s vs {serial.median_wall:.2f} s; {extra:+.2f} CPU-s",
                parallel.median_wall <= serial.median_wall,
            )
        )
    if 16 in figures.scales:
        rss = figures.scales[16]["bastion"].peak_rss_mib
        found.append(("16x: peak RSS <= 100 MB", f"{rss * MIB / 1e6:.0f} MB", rss * MIB <= 100e6))
    found.append(
        (
            "start-up <= 100 ms CPU",
            f"{figures.startup_cpu * 1000:.0f} ms",
            figures.startup_cpu <= 0.1,
        )
    )
    if figures.steps:
        one, spread = figures.steps["one job"], figures.steps["40 jobs"]
        ratio = one.median_cpu / spread.median_cpu
        found.append((f"{STEPS} steps: one job <= 2x 40 jobs", f"{ratio:.2f}x", ratio <= 2))
    for name, summaries in figures.single.items():
        bastion, zizmor = summaries["bastion"], summaries["zizmor"]
        found.append(
            (
                f"{name}: faster than zizmor (wall)",
                f"{bastion.median_wall:.2f} s vs {zizmor.median_wall:.2f} s",
                bastion.median_wall < zizmor.median_wall,
            )
        )
    return found


def report_text(
    figures: Figures, env: dict[str, str], preparation: Preparation, arguments: argparse.Namespace
) -> str:
    lines = [
        f"{env['date']}  {env['cpu']} ({env['cpus']} CPUs, load {env['load']} at the end)",
        f"Python {env['python']}, bastion {env['bastion']}, {env['zizmor']}, "
        f"PYTHONUNBUFFERED={env['unbuffered'] or '(unset)'}",
        f"{len(preparation.repositories)} repositories; {arguments.rounds} rounds at 1x "
        f"(after a warm-up), {arguments.large_rounds} on the copies",
    ]
    if preparation.excluded_files or preparation.excluded_repositories:
        left_out = preparation.excluded_files + [
            f"{name}/ (whole)" for name in preparation.excluded_repositories
        ]
        lines.append(f"left out (zizmor cannot load): {', '.join(left_out)}")
    for scale, summaries in figures.scales.items():
        lines += ["", f"corpus x{scale}:", table(list(summaries.values()))]
        ratio = ratios(summaries["bastion"], summaries["zizmor"])
        lines.append(
            "zizmor / bastion: " + ", ".join(f"{k} {_number(v)}x" for k, v in ratio.items())
        )
    if figures.breakdown:
        lines += ["", "bastion check --jobs 1 on the corpus, CPU s by phase (start-up apart):"]
        lines.append(", ".join(f"{k} {v:.2f}" for k, v in figures.breakdown.items()))
    lines += [
        "",
        f"start-up (check of one small workflow): {figures.startup_cpu * 1000:.0f} ms CPU, "
        f"{figures.startup_wall * 1000:.0f} ms wall (median of {STARTUP_ROUNDS})",
    ]
    if figures.steps:
        lines += ["", f"{STEPS} steps:", table(list(figures.steps.values()))]
    for name, summaries in figures.single.items():
        lines += ["", f"{name}:", table(list(summaries.values()))]
    lines += ["", "targets:"]
    lines += [
        f"  {'met    ' if met else 'NOT met'}  {what}: {value}"
        for what, value, met in targets(figures)
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
