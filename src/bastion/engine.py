"""Run the rules over inputs: read, parse, build the model, check, then filter."""

from __future__ import annotations

import gc
import itertools
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeAlias, TypeVar

from bastion import knowledge
from bastion.config import Config
from bastion.findings import Finding, Point, Span
from bastion.inputs import PACKAGE_JSON, Input, Kind, lockfile_beside
from bastion.model import triggers
from bastion.model.repository import Repository
from bastion.model.workflow import (
    Action,
    Problem,
    Workflow,
    build_action,
    build_workflow,
    looks_like_action,
)
from bastion.rules import RULES
from bastion.rules.base import Hit, RepositoryHit, Rule
from bastion.rules.syntax_error import SyntaxError_
from bastion.source.files import FileAccessError, TooLarge, read_file
from bastion.source.text import LineIndex
from bastion.source.yaml import Document, Node, YamlError, node_span, parse

if TYPE_CHECKING:  # imported where used: a run loads the models of the files it meets
    from bastion.model import lockfile as lockfiles
    from bastion.model.updaters import ConfigProblem, Dependabot, PreCommit, Renovate

MAX_FILE_BYTES = 10 * 1024 * 1024
PARALLEL_THRESHOLD = 64
"""Below this many files, starting worker processes costs more than it saves (measured on
2 cores, 2026-12: at 53 files two workers took the wall time of one and 40% more CPU; at
65 files, 15% less wall time)."""

T = TypeVar("T")

_IGNORE_COMMENT = re.compile(r"#\s*bastion:\s*ignore\[([^\]]*)\]")


class FileResult:
    """What checking one file made."""

    __slots__ = ("errors", "findings", "source_lines")

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.errors: list[str] = []
        """Internal errors (a rule that crashed); the run reports them and exits with 2."""
        self.source_lines: dict[int, str] = {}
        """The text of the line each finding starts on, by line number (the human report
        shows it); only those, so that a report's memory grows with its findings alone."""


class FileFindings:
    """The findings of one path, in report order, and the text of the lines they start on
    (when the run kept them)."""

    __slots__ = ("findings", "lines", "path")

    def __init__(self, path: str, findings: list[Finding], lines: dict[int, str]) -> None:
        self.path = path
        self.findings = findings
        self.lines = lines


class Findings(Protocol):
    """What a report is written from: a :class:`Report` held whole, or a :class:`Check`
    whose findings come as they are made."""

    files: int
    errors: list[str]
    """Complete once :meth:`groups` is exhausted."""

    def groups(self) -> Iterator[FileFindings]:
        """The findings, a path at a time, in report order."""
        ...


class Report:
    """A run's findings held whole."""

    __slots__ = ("errors", "files", "findings", "source_lines")

    def __init__(
        self,
        findings: list[Finding],
        files: int,
        errors: list[str],
        source_lines: dict[str, dict[int, str]] | None = None,
    ) -> None:
        self.findings = findings
        self.files = files
        self.errors = errors
        self.source_lines: dict[str, dict[int, str]] = {} if source_lines is None else source_lines
        """For each path, the text of the lines its findings cover."""

    def groups(self) -> Iterator[FileFindings]:
        """The findings, a run of one path at a time, in their order."""
        for path, found in itertools.groupby(self.findings, key=attrgetter("path")):
            yield FileFindings(path, list(found), self.source_lines.get(path, {}))


YamlModel: TypeAlias = "Workflow | Action | Dependabot | PreCommit"
"""The typed view of a YAML file bastion reads."""


def build_model(path: str, kind: Kind | None, document: Document, lines: LineIndex) -> YamlModel:
    """The view of a parsed YAML file of ``kind`` (None: a workflow or an action, whichever
    its content says)."""
    if kind is Kind.DEPENDABOT:
        from bastion.model.updaters import build_dependabot

        return build_dependabot(path, document)
    if kind is Kind.PRE_COMMIT:
        from bastion.model.updaters import build_pre_commit

        return build_pre_commit(path, document)
    if kind is None:
        kind = Kind.ACTION if looks_like_action(document) else Kind.WORKFLOW
    if kind is Kind.WORKFLOW:
        return build_workflow(path, document, lines)
    return build_action(path, document, lines)


class Checker:
    """The rules a configuration enables, ready to check one file after another."""

    def __init__(self, config: Config, *, lines: bool = True) -> None:
        """``lines``: keep the text of the line each finding starts on."""
        self.config = config
        self.lines = lines
        knowledge.extend(config.actions, str(config.source or "configuration"))
        self.rules: list[Rule] = [
            rule(config.rule_settings.get(rule.id))
            for rule in RULES
            if config.enabled(rule.id) and rule.checks_files and rule is not SyntaxError_
        ]
        self.syntax_errors = config.enabled(SyntaxError_.id)
        self._locks: dict[Path, lockfiles.Lockfile | None] = {}
        self._lockfiles_above: dict[Path, Path | None] = {}
        self.shared: dict[str, SharedConfig] = {}
        """Updater configurations the repository pass read, by display path, until the check
        of the file itself takes them (when the same process does both)."""

    def check(self, item: Input) -> FileResult:
        result = FileResult()
        data = item.data
        if item.problem is not None:
            self._syntax(result, item.display, Span.at(1, 1), item.problem)
            return self._filter(result, item.display, None)
        if data is None:
            assert item.path is not None
            try:
                data = read_file(item.path, item.boundary, MAX_FILE_BYTES, item.resolved)
            except FileAccessError as error:
                self._syntax(result, item.display, Span.at(1, 1), error.reason)
                return self._filter(result, item.display, None)
        if len(data) > MAX_FILE_BYTES:
            self._syntax(result, item.display, Span.at(1, 1), _too_large(len(data)))
            return self._filter(result, item.display, None)
        text = _decode(data, item.display, result, self)
        if text is None:
            return self._filter(result, item.display, None)
        lines = LineIndex(text)
        if item.kind is Kind.RENOVATE:
            self._check_renovate(result, item, text)
            return self._filter(result, item.display, lines)
        if item.kind is Kind.LOCKFILE:
            self._check_lockfile(result, item, text)
            return self._filter(result, item.display, lines)
        shared = self._shared_config(item, text) if item.kind is Kind.DEPENDABOT else None
        try:
            document = shared.document if shared is not None else None
            if document is None:
                document = parse(text)
        except YamlError as error:
            self._syntax(result, item.display, Span(error.point, error.point), error.message)
            return self._filter(result, item.display, lines)
        for duplicate in document.duplicates:
            first = node_span(duplicate.first).start.line
            message = f"duplicate key {duplicate.key!r} (first defined on line {first})"
            self._syntax(result, item.display, node_span(duplicate.second), message)
        self._check_document(result, item, document, lines, shared)
        return self._filter(result, item.display, lines)

    def _shared_config(self, item: Input, text: str) -> SharedConfig | None:
        """What the repository pass built from this file, if it read this very text."""
        shared = self.shared.pop(item.display, None)
        return shared if shared is not None and shared.text == text else None

    def _check_document(
        self,
        result: FileResult,
        item: Input,
        document: Document,
        lines: LineIndex,
        shared: SharedConfig | None = None,
    ) -> None:
        path = item.display
        try:
            if shared is not None and shared.dependabot is not None:
                model: YamlModel = shared.dependabot
            else:
                model = build_model(path, item.kind, document, lines)
        except Exception:  # a bug in the model: lose this file, not the run
            result.errors.append(internal_error(None, path))
            return
        if not isinstance(model, Workflow | Action):
            from bastion.model.updaters import Dependabot  # built with the model

            config = model
            self._config_problems(result, path, config.problems)
            if isinstance(config, Dependabot):
                self._run_rules(result, path, lambda rule: rule.check_dependabot(config))
            else:
                self._run_rules(result, path, lambda rule: rule.check_pre_commit(config))
        else:
            for problem in model.problems:
                self._problem(result, path, problem)
            if isinstance(model, Workflow):
                workflow = model
                workflow.lock = self._lock_for(item)
                if workflow.has_trigger("workflow_run"):
                    workflow.siblings = _siblings_of(item)
                self._run_rules(result, path, lambda rule: rule.check_workflow(workflow))
            else:
                action = model
                action.locks = self._locks_for_action(item)
                self._run_rules(result, path, lambda rule: rule.check_action(action))

    def _check_renovate(self, result: FileResult, item: Input, text: str) -> None:
        from bastion.source.json5 import Json5Error

        path = item.display
        try:
            shared = self._shared_config(item, text)
            renovate = shared.renovate if shared is not None else _renovate_view(item, text)
        except Json5Error as error:
            self._syntax(result, path, Span(error.point, error.point), error.message)
            return
        if renovate is None:
            return
        self._config_problems(result, path, renovate.problems)
        self._run_rules(result, path, lambda rule: rule.check_renovate(renovate))

    def _check_lockfile(self, result: FileResult, item: Input, text: str) -> None:
        from bastion.model import lockfile as lockfiles

        path = item.display
        ignored = "GitHub ignores a lockfile it cannot parse, so its workflows run unlocked"
        if len(text.encode("utf-8")) > lockfiles.MAX_BYTES:
            self._syntax(result, path, Span.at(1, 1), f"the lockfile is over 1 MiB; {ignored}")
            return
        try:
            document = parse(text)
        except YamlError as error:
            point = Span(error.point, error.point)
            self._syntax(result, path, point, f"{error.message}; {ignored}")
            return
        lock = lockfiles.build_lockfile(path, document)
        for problem in lock.problems:
            message = f"{problem.message}; {ignored}" if problem.fatal else problem.message
            self._syntax(result, path, problem.span, message, problem.route)
        if lock.rejected:
            return
        if item.path is not None:
            lockfiles.note_needs(lock, item.path)
        self._run_rules(result, path, lambda rule: rule.check_lockfile(lock))

    def _lock_for(self, item: Input) -> lockfiles.WorkflowLock | None:
        """The lock of a workflow of ``.github/workflows`` (its sibling actions.lock); a text
        given with its display path (the fix engine's re-checks) is placed by that path."""
        where = item.path if item.path is not None else Path(item.display)
        lock_path = lockfile_beside(where)
        if lock_path is None:
            return None
        if lock_path not in self._locks:
            self._locks[lock_path] = _load_lockfile(lock_path)
        lock = self._locks[lock_path]
        if lock is None:
            return None
        return lock.for_workflow(f".github/workflows/{where.name}")

    def _locks_for_action(self, item: Input) -> tuple[lockfiles.WorkflowLock, ...]:
        """The locks under which the repository's workflows run this action through ``$/``
        (the lockfile of the ``.github/workflows`` above it)."""
        where = Path(os.path.abspath(item.path if item.path is not None else item.display))
        lock_path = self._lockfile_above(where)
        if lock_path is None:
            return ()
        from bastion.model import lockfile as lockfiles

        if lock_path not in self._locks:
            self._locks[lock_path] = lockfiles.load(lock_path)
        lock = self._locks[lock_path]
        return lockfiles.own_action_locks(lock, lock_path, where) if lock else ()

    def _lockfile_above(self, where: Path) -> Path | None:
        """The ``.github/workflows/actions.lock`` nearest above ``where`` in its repository
        (each folder is looked at once a run: a repository's actions share the answer)."""
        visited: list[Path] = []
        found: Path | None = None
        for folder in where.parents:
            if folder in self._lockfiles_above:
                found = self._lockfiles_above[folder]
                break
            visited.append(folder)
            lock_path = folder / ".github" / "workflows" / "actions.lock"
            if lock_path.is_file():
                found = lock_path
                break
            if os.path.lexists(folder / ".git"):
                break  # the repository's root: no lockfile
        for folder in visited:
            self._lockfiles_above[folder] = found
        return found

    def _run_rules(
        self, result: FileResult, path: str, check: Callable[[Rule], Iterable[Hit]]
    ) -> None:
        for rule in self.rules:
            try:
                found = [_finding(rule, hit, path) for hit in check(rule)]
            except Exception:
                result.errors.append(internal_error(rule, path))
                continue
            # A YAML anchor's alias shows a rule the same node twice: one finding per place.
            unique = {(f.rule, f.span, f.message): f for f in reversed(found)}
            result.findings.extend(reversed(unique.values()))

    def check_repository(
        self, repository: Repository, read: Callable[[str], str | None]
    ) -> dict[str, FileResult]:
        """Every rule's repository-level findings, by the path they point at, filtered like
        a file's (``read`` gives a path's text, for inline ignores and snippets)."""
        results: dict[str, FileResult] = {}
        errors: list[str] = []
        for rule in self.rules:
            try:
                for hit in rule.check_repository(repository):
                    result = results.setdefault(hit.path, FileResult())
                    result.findings.append(_finding(rule, hit, hit.path))
            except Exception:
                errors.append(internal_error(rule, repository.root))
        for path, result in results.items():
            text = read(path)
            self._filter(result, path, LineIndex(text) if text is not None else None)
        if errors:
            results.setdefault(repository.root, FileResult()).errors.extend(errors)
        return results

    def _config_problems(
        self, result: FileResult, path: str, problems: Iterable[ConfigProblem]
    ) -> None:
        for problem in problems:
            self._syntax(result, path, problem.span, problem.message, problem.route)

    def _problem(self, result: FileResult, path: str, problem: Problem) -> None:
        span = problem.span or node_span(problem.node)
        self._syntax(result, path, span, problem.message, route="")

    def _syntax(
        self, result: FileResult, path: str, span: Span, message: str, route: str = ""
    ) -> None:
        if self.syntax_errors:
            result.findings.append(
                Finding(
                    SyntaxError_.id,
                    SyntaxError_.severity,
                    SyntaxError_.confidence,
                    message,
                    path,
                    span,
                    route,
                )
            )

    def _filter(self, result: FileResult, path: str, lines: LineIndex | None) -> FileResult:
        off = self.config.ignored_for_path(path)
        suppressed = inline_ignores(lines) if lines is not None else {}
        kept = []
        for finding in result.findings:
            if finding.severity < self.config.min_severity or finding.rule in off:
                continue
            if finding.confidence < self.config.min_confidence:
                continue
            if suppressed and is_suppressed(finding, suppressed):
                continue
            kept.append(finding)
        kept.sort(key=lambda f: f.sort_key)
        result.findings = kept
        if lines is not None and self.lines:
            for finding in kept:  # the line a report shows: its first (and only that)
                number = finding.span.start.line
                result.source_lines[number] = lines.line_text(number)
        return result


def _finding(rule: Rule, hit: Hit | RepositoryHit, path: str) -> Finding:
    span = hit.span
    if span is None:
        assert isinstance(hit, Hit)
        node = hit.node
        span = node_span(node) if isinstance(node, Node) else node.span
    return Finding(
        rule.id,
        hit.severity if hit.severity is not None else rule.severity,
        hit.confidence if hit.confidence is not None else rule.confidence,
        hit.message,
        path,
        span,
        hit.route,
    )


def internal_error(rule: Rule | None, where: str) -> str:
    """The message of an exception being handled (rule None: while reading the file)."""
    import traceback  # a bug's report only

    frame = traceback.extract_tb(sys.exc_info()[2])[-1]
    what = f"in rule {rule.id} on" if rule is not None else "while reading"
    return (
        f"internal error {what} {where} "
        f"({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}): please report this; "
        "the other rules and files were checked"
    )


def _too_large(size: int) -> str:
    return TooLarge("", MAX_FILE_BYTES, size, "the file").reason


def _decode(data: bytes, path: str, result: FileResult, checker: Checker) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        checker._syntax(result, path, Span.at(1, 1), "the file is UTF-16; GitHub reads UTF-8")
        return None
    nul = data.find(b"\x00", 0, 8192)
    if nul >= 0:
        checker._syntax(
            result, path, _byte_point(data, nul), "the file is binary (it holds NUL bytes)"
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        checker._syntax(
            result,
            path,
            _byte_point(data, error.start),
            f"the file is not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})",
        )
        return None
    return text.removeprefix("\ufeff")


def _byte_point(data: bytes, offset: int) -> Span:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    point = Point(data.count(b"\n", 0, offset) + 1, column)
    return Span(point, point)


def inline_ignores(lines: LineIndex) -> dict[int, set[str]]:
    if "bastion:" not in lines.text:
        return {}
    found: dict[int, set[str]] = {}
    for number in range(1, lines.line_count + 1):
        text = lines.line_text(number)
        for match in _IGNORE_COMMENT.finditer(text):
            rules = {part.strip() for part in match.group(1).split(",") if part.strip()}
            found.setdefault(number, set()).update(rules)
    return found


def is_suppressed(finding: Finding, suppressed: dict[int, set[str]]) -> bool:
    for line in range(finding.span.start.line, finding.span.end.line + 1):
        if finding.rule in suppressed.get(line, ()):
            return True
    return False


Task = tuple[Sequence[Input], Sequence[Sequence[Input]]]
"""Work for one call: files to check, and repositories (the files of each) for the
repository-level checks."""
TaskResult = tuple[list[FileResult], list[dict[str, FileResult]]]
"""What a task found: each file's result, then each repository's, by the path it points at;
a file's result is reduced to its findings (and the lines they start on) as soon as it is
checked."""

CHUNKS_PER_WORKER = 16
"""File tasks per worker: enough to balance uneven files and keep each result small, few
enough that a round trip (pickling, waking a worker) costs little next to the work. On the
corpus (2 cores, 2026-12) 1, 4, 16 and 32 were within the noise (2.1-2.7 s), 16 the
fastest in two runs of three."""
MAX_TASK_FILES = 64
"""At most this many files a task, so that what a task sends back stays small however
many files a run has."""
TASKS_AHEAD = 4
"""Tasks handed to each worker before the first result is read: enough to keep it busy,
few enough that results waiting to be read stay few."""

# The checker a worker process uses: built before the fork, so that the workers share it.
_worker: Checker | None = None


def _collect_less() -> None:
    """Make the cycle collector run rarely.

    Node trees and models hold no reference cycles, so reference counting frees them; left
    at its defaults, the collector would rescan hundreds of thousands of live nodes for
    nothing (about a fifth of a run's time on a large corpus).
    """
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def _run_task(checker: Checker, task: Task) -> TaskResult:
    files, repositories = task
    found = []
    for items in repositories:
        texts = {item.display: item for item in items}
        repository = _repository(items, checker.shared)
        found.append(checker.check_repository(repository, partial(_text_of, texts)))
    return [checker.check(item) for item in files], found


def _text_of(items: dict[str, Input], path: str) -> str | None:
    return _read_text(items.get(path))


def _task_in_worker(task: Task) -> TaskResult:
    assert _worker is not None
    return _run_task(_worker, task)


def default_jobs() -> int:
    """One worker per CPU this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _chunks(items: Sequence[T], workers: int) -> list[Sequence[T]]:
    size = min(MAX_TASK_FILES, max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER))))
    return [items[at : at + size] for at in range(0, len(items), size)]


def _results(
    tasks: list[Task], config: Config, workers: int, parallel: bool, lines: bool
) -> Iterator[TaskResult]:
    """Each task's result, in the order of the tasks, from worker processes when
    ``parallel`` (else in this one)."""
    global _worker  # noqa: PLW0603 - the checker the forked workers inherit
    checker = Checker(config, lines=lines)
    if not parallel:
        for task in tasks:
            yield _run_task(checker, task)
        return
    import multiprocessing  # only a parallel run needs it
    from concurrent.futures import Future, ProcessPoolExecutor

    _warm(tasks)
    _worker = checker
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, context) as pool:
            ahead: deque[Future[TaskResult]] = deque()
            for task in tasks:
                ahead.append(pool.submit(_task_in_worker, task))
                if len(ahead) > workers * TASKS_AHEAD:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()
    finally:
        _worker = None


def _warm(tasks: list[Task]) -> None:
    """Load, once before the fork, what each worker would otherwise load for itself: the
    models of the kinds of file the tasks hold, and the index of the knowledge base."""
    kinds = {item.kind for files, repositories in tasks for item in files}
    if kinds & {Kind.DEPENDABOT, Kind.PRE_COMMIT, Kind.RENOVATE}:
        import bastion.model.updaters
    if Kind.RENOVATE in kinds:
        import bastion.source.json5
    if Kind.LOCKFILE in kinds:
        import bastion.model.lockfile  # noqa: F401
    knowledge.named("")  # no such entry: reads the index only


class Check:
    """A run of the rules over inputs that hands its findings on as they are made: one
    group per path, in the order of the report (path, then line, column and rule).

    Files are checked in the order of their paths and the repository-level checks first
    (their few findings are held until their path comes), so this process holds one
    file's findings at a time; a format that needs them all (SARIF) gathers them itself.
    Below ``PARALLEL_THRESHOLD`` files, or with one CPU, everything runs in this process;
    else worker processes check the files and the repositories.
    """

    def __init__(
        self, inputs: Sequence[Input], config: Config, *, jobs: int | None = None, lines: bool
    ) -> None:
        """``lines``: keep the text of the line each finding starts on (the human report
        shows it)."""
        self.inputs = inputs
        self.config = config
        self.jobs = jobs
        self.lines = lines
        self.files = len(inputs)
        self.errors: list[str] = []
        """Internal errors, in the order of the inputs; complete once :meth:`groups` ends."""

    def groups(self) -> Iterator[FileFindings]:
        """The findings of each path that has some, in report order (once)."""
        inputs = self.inputs
        workers = self.jobs if self.jobs is not None else default_jobs()
        parallel = workers > 1 and len(inputs) >= PARALLEL_THRESHOLD and _can_fork()
        workers = workers if parallel else 1
        order = sorted(range(len(inputs)), key=lambda at: inputs[at].display)
        repository_tasks: list[Task] = [
            ((), chunk) for chunk in _chunks(_repository_groups(inputs), workers)
        ]
        file_chunks = _chunks(order, workers)
        tasks = repository_tasks + [([inputs[at] for at in chunk], ()) for chunk in file_chunks]
        errors: list[tuple[int, list[str]]] = []
        """Each input's errors by its index, the repositories' after them."""
        held: dict[str, list[FileResult]] = {}
        """The repository-level results, by path, until their path comes."""
        threshold = gc.get_threshold()
        _collect_less()
        try:
            results = _results(tasks, self.config, workers, parallel, self.lines)
            number = len(inputs)
            for _ in repository_tasks:
                for found in next(results)[1]:
                    for pointed, result in found.items():
                        if result.errors:
                            errors.append((number, result.errors))
                        held.setdefault(pointed, []).append(result)
                    number += 1
            waiting = sorted(held, reverse=True)
            path: str | None = None
            same: list[FileResult] = []
            for chunk in file_chunks:
                for at, result in zip(chunk, next(results)[0], strict=True):
                    if result.errors:
                        errors.append((at, result.errors))
                    display = inputs[at].display
                    if display != path:
                        if path is not None:
                            yield from self._group(path, same, held)
                        while waiting and waiting[-1] < display:
                            yield from self._group(waiting.pop(), [], held)
                        path, same = display, []
                    same.append(result)
            if path is not None:
                yield from self._group(path, same, held)
            while waiting:
                yield from self._group(waiting.pop(), [], held)
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()
        errors.sort(key=lambda pair: pair[0])
        self.errors.extend(message for _, messages in errors for message in messages)

    def _group(
        self, path: str, results: list[FileResult], held: dict[str, list[FileResult]]
    ) -> Iterator[FileFindings]:
        """The findings of ``path``: its files', then the repository-level ones (in the
        order a stable sort of them all gives)."""
        results = [*results, *held.pop(path, ())]
        if not results:
            return
        if len(results) == 1:
            findings = results[0].findings
        else:
            findings = [finding for result in results for finding in result.findings]
            findings.sort(key=lambda f: f.sort_key)
        if not findings:
            return
        lines = results[0].source_lines
        for result in results[1:]:
            lines.update(result.source_lines)
        yield FileFindings(path, findings, lines)

    def report(self) -> Report:
        """Every finding, held (for what needs them all: ``--online``, ``--graph``)."""
        report = Report([], self.files, self.errors)
        for group in self.groups():
            report.findings.extend(group.findings)
            if group.lines:
                report.source_lines[group.path] = group.lines
        return report


def run(
    inputs: Sequence[Input], config: Config, *, jobs: int | None = None, lines: bool = True
) -> Report:
    """Check every input; findings come back sorted by path, line, column and rule."""
    return Check(inputs, config, jobs=jobs, lines=lines).report()


def repositories(inputs: Sequence[Input]) -> list[Repository]:
    """What the repository-level checks look at.

    One repository per directory walked, with the files collection found in it; and one per
    updater configuration named on its own (holding just that file, so that
    ``actions-not-updated`` works on a named file while ``no-dependency-updater``, which
    needs workflows, does not fire).
    """
    return [_repository(items) for items in _repository_groups(inputs)]


def _repository_groups(inputs: Sequence[Input]) -> list[list[Input]]:
    """The inputs of each repository (see :func:`repositories`), in order of appearance."""
    grouped: dict[tuple[bool, str], list[Input]] = {}
    for item in inputs:
        if item.root is not None:
            grouped.setdefault((True, item.root), []).append(item)
        elif item.kind in (Kind.DEPENDABOT, Kind.RENOVATE):
            grouped.setdefault((False, item.display), []).append(item)
    return list(grouped.values())


def _repository(
    items: Sequence[Input], shared: dict[str, SharedConfig] | None = None
) -> Repository:
    """The repository of one group of inputs, its updater configurations read (and kept in
    ``shared``, for the check of each file, while it holds fewer than ``MAX_SHARED``)."""
    first = items[0]
    root = first.root if first.root is not None else first.display

    def displays(kind: Kind) -> tuple[str, ...]:
        return tuple(item.display for item in items if item.kind is kind)

    configs = tuple(
        config
        for item in items
        if item.kind in (Kind.DEPENDABOT, Kind.RENOVATE)
        and (config := _updater_view(item, shared)) is not None
    )
    return Repository(
        root,
        workflows=displays(Kind.WORKFLOW),
        dependabot=displays(Kind.DEPENDABOT),
        renovate=displays(Kind.RENOVATE),
        pre_commit=displays(Kind.PRE_COMMIT),
        configs=configs,
    )


class SharedConfig(NamedTuple):
    """An updater configuration as the repository pass read it, for the check of the file."""

    text: str
    document: Document | None
    """The parsed Dependabot file; None for a Renovate one."""
    dependabot: Dependabot | None
    renovate: Renovate | None
    """None also for a package.json without a ``renovate`` key."""


MAX_SHARED = 128
"""At most this many configurations are kept for their file's check (the rest are parsed
again), so that a run's memory does not grow with its repositories: about 30 KB each on
the corpus (2026-12), so at most 4 MB a process; the corpus has 123."""


def _updater_view(
    item: Input, shared: dict[str, SharedConfig] | None = None
) -> Dependabot | Renovate | None:
    """The view of an updater configuration for the repository pass; None when it cannot be
    read (its syntax-error was reported when the file itself was checked). What was read
    and built is kept in ``shared`` while it holds fewer than ``MAX_SHARED``."""
    from bastion.model.updaters import build_dependabot
    from bastion.source.json5 import Json5Error

    text = _read_text(item)
    if text is None:
        return None
    try:
        if item.kind is Kind.DEPENDABOT:
            document = parse(text)
            dependabot = build_dependabot(item.display, document)
            if shared is not None and len(shared) < MAX_SHARED:
                shared[item.display] = SharedConfig(text, document, dependabot, None)
            return dependabot
        renovate = _renovate_view(item, text)
    except (YamlError, Json5Error):
        return None
    if shared is not None and len(shared) < MAX_SHARED:
        shared[item.display] = SharedConfig(text, None, None, renovate)
    return renovate


def _renovate_view(item: Input, text: str) -> Renovate | None:
    """The Renovate view of a file; None for a package.json without a ``renovate`` key."""
    from bastion.model.updaters import build_renovate
    from bastion.source.json5 import JsonObject
    from bastion.source.json5 import parse as parse_json5

    root = parse_json5(text)
    if item.path is not None and item.path.name == PACKAGE_JSON:
        config = root.get("renovate") if isinstance(root, JsonObject) else None
        return build_renovate(item.display, config, "renovate/") if config is not None else None
    return build_renovate(item.display, root)


def _read_text(item: Input | None) -> str | None:
    """A file's text for the repository pass, or None when it cannot be read as UTF-8."""
    if item is None:
        return None
    data = item.data
    try:
        if data is None and item.path is not None:
            data = read_file(item.path, item.boundary, MAX_FILE_BYTES, item.resolved)
        return data.decode("utf-8").removeprefix("\ufeff") if data is not None else None
    except (FileAccessError, UnicodeDecodeError):
        return None


def _load_lockfile(path: Path) -> lockfiles.Lockfile | None:
    """The lockfile at ``path``; None when there is none (its model is imported only then)."""
    if not path.is_file():
        return None
    from bastion.model import lockfile as lockfiles

    return lockfiles.load(path)


def _siblings_of(item: Input) -> dict[str, triggers.Sibling] | None:
    """The workflows beside a workflow of ``.github/workflows``, by name (what a
    ``workflow_run`` trigger names); None for a file elsewhere or given as text."""
    if item.path is None or item.path.parent.name != "workflows":
        return None
    return triggers.sibling_workflows(item.path.parent, item.boundary)


def _can_fork() -> bool:
    import multiprocessing  # only a parallel run needs it

    return "fork" in multiprocessing.get_all_start_methods()
