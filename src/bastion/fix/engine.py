"""The fix loop: check a file, collect the fixes of its findings, splice them in, re-check.

Each round applies a set of fixes whose edits do not touch one another (the rest wait for
the next round, computed on the new text), then verifies the result: it must still parse,
be the same kind of file, and hold no syntax problem that was not there before. A round
that breaks the file is taken apart: each of its fixes is tried alone and those that break
the file are rolled back and not tried again. Rounds repeat until nothing changes, at most
``MAX_ROUNDS`` times.
"""

from __future__ import annotations

import sys
import traceback
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from bastion.config import Config
from bastion.engine import Checker, build_model
from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, Model, NoFix, Target
from bastion.fix.edits import Change, Edit, History, Taken, apply_edits
from bastion.fix.registry import FIXERS, NO_FIXER_HINTS
from bastion.fix.yaml_edit import Layout
from bastion.inputs import Input, Kind
from bastion.model.workflow import Action
from bastion.source.text import LineIndex
from bastion.source.yaml import Document, YamlError, parse

MAX_ROUNDS = 10
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Applied:
    rule: str
    message: str
    note: str = ""


@dataclass(slots=True)
class FileFix:
    """What fixing one file did and left."""

    display: str
    original: str
    text: str
    before: list[Finding]
    remaining: list[Finding] = field(default_factory=list)
    reasons: dict[Finding, str] = field(default_factory=dict)
    """Why each remaining finding was not fixed."""
    applied: list[Applied] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    """Where ``text`` differs from ``original``, in order; equal everywhere else."""

    @property
    def changed(self) -> bool:
        return self.text != self.original

    @property
    def fixed(self) -> Counter[str]:
        """Findings gone, by rule."""
        return Counter(f.rule for f in self.before) - Counter(f.rule for f in self.remaining)


@dataclass(frozen=True, slots=True)
class _Parsed:
    document: Document
    kind: Kind
    model: Model
    lines: LineIndex
    problems: Counter[str]
    layout: Layout


def _key(finding: Finding, fix: Fix) -> tuple[str, str, str]:
    return (finding.rule, finding.route, fix.message)


class FixEngine:
    def __init__(
        self,
        config: Config,
        *,
        unsafe: bool = False,
        fixers: Mapping[str, Fixer] | None = None,
        rounds: int = MAX_ROUNDS,
    ) -> None:
        self.config = config
        self.unsafe = unsafe
        self.fixers = dict(FIXERS if fixers is None else fixers)
        self.rounds = rounds
        self.checker = Checker(config)

    def fix_text(self, text: str, display: str, kind: Kind | None = None) -> FileFix:
        """Fix ``text`` (a file's content, without a byte-order mark)."""
        findings, errors = self._check(text, display, kind)
        result = FileFix(display, text, text, findings, errors=errors)
        if not any(finding.rule in self.fixers for finding in findings):
            result.remaining = findings  # nothing to fix: no need to parse it again
            for finding in findings:
                result.reasons[finding] = NO_FIXER_HINTS.get(finding.rule, "no fix available")
            return result
        parsed = self._parse(text, kind)
        if parsed is None:
            result.remaining = findings
            why = (
                "bastion edits YAML files only; change this JSON file by hand"
                if kind is Kind.RENOVATE
                else "the file does not parse, so no fix edits it"
            )
            for finding in findings:
                fixable = finding.rule in self.fixers
                result.reasons[finding] = why if fixable else "no fix available"
            return result
        kind = parsed.kind
        rejected: set[tuple[str, str, str]] = set()
        history = History(text)
        for _ in range(self.rounds):
            target = self._target(result.text, parsed, findings)
            chosen = self._choose(target, rejected, result)
            if not chosen:
                break
            outcome = self._apply(result.text, parsed, chosen, kind, rejected)
            if outcome is None:
                continue
            new, parsed, kept = outcome
            history.apply(edit for _, fix in kept for edit in fix.edits)
            result.text = new
            result.applied.extend(Applied(f.rule, fix.message, fix.note) for f, fix in kept)
            findings, errors = self._check(new, display, kind)
            result.errors.extend(e for e in errors if e not in result.errors)
        result.remaining = findings
        result.changes = history.changes(len(text))
        self._explain(result, self._target(result.text, parsed, findings), rejected)
        return result

    # -- one round --

    def _choose(
        self, target: Target, rejected: set[tuple[str, str, str]], result: FileFix
    ) -> list[tuple[Finding, Fix]]:
        chosen: list[tuple[Finding, Fix]] = []
        taken = Taken()
        seen: set[tuple[Edit, ...]] = set()
        for finding in target.findings:
            fixer = self.fixers.get(finding.rule)
            if fixer is None or not (fixer.safe or self.unsafe):
                continue
            fix = self._ask(fixer, target, finding, result)
            if not isinstance(fix, Fix) or not fix.edits or _key(finding, fix) in rejected:
                continue
            if fix.edits in seen:
                continue  # the same fix, proposed for another finding it also removes
            if taken.touches(fix.edits):
                continue  # the next round, on the new text, takes it up
            seen.add(fix.edits)
            taken.add(fix.edits)
            chosen.append((finding, fix))
        return chosen

    def _apply(
        self,
        text: str,
        parsed: _Parsed,
        chosen: list[tuple[Finding, Fix]],
        kind: Kind,
        rejected: set[tuple[str, str, str]],
    ) -> tuple[str, _Parsed, list[tuple[Finding, Fix]]] | None:
        """Apply the fixes together; if that breaks the file, only those sound on their own."""
        together = self._try(text, parsed, [edit for _, fix in chosen for edit in fix.edits], kind)
        if together is not None:
            return together[0], together[1], chosen
        sound = []
        for finding, fix in chosen:
            if self._try(text, parsed, list(fix.edits), kind) is None:
                rejected.add(_key(finding, fix))
            else:
                sound.append((finding, fix))
        for group in (sound, sound[:1]):
            if group:
                edits = [edit for _, fix in group for edit in fix.edits]
                outcome = self._try(text, parsed, edits, kind)
                if outcome is not None:
                    return outcome[0], outcome[1], group
        return None

    def _try(
        self, text: str, parsed: _Parsed, edits: list[Edit], kind: Kind
    ) -> tuple[str, _Parsed] | None:
        """The edited text and its parse, if it is as sound as before."""
        try:
            new = apply_edits(text, edits)
        except ValueError:
            return None
        if new == text:
            return None
        after = self._parse(new, kind)
        if after is None or after.kind is not parsed.kind:
            return None
        if after.problems - parsed.problems:
            return None  # a syntax problem the file did not have
        return new, after

    # -- reading --

    def _check(self, text: str, display: str, kind: Kind | None) -> tuple[list[Finding], list[str]]:
        result = self.checker.check(Input(display, kind, data=text.encode("utf-8")))
        return result.findings, result.errors

    @staticmethod
    def _parse(text: str, kind: Kind | None) -> _Parsed | None:
        """The parse and model of a YAML file bastion can fix; None for anything else."""
        if kind is Kind.RENOVATE:
            return None  # JSON: no fixer edits it
        try:
            document = parse(text)
        except YamlError:
            return None
        lines = LineIndex(text)
        model = build_model("", kind, document, lines)
        if kind is None:
            kind = Kind.ACTION if isinstance(model, Action) else Kind.WORKFLOW
        problems = Counter(problem.message for problem in model.problems)
        problems.update(f"duplicate key {d.key!r}" for d in document.duplicates)
        return _Parsed(document, kind, model, lines, problems, Layout.of(document))

    def _target(self, text: str, parsed: _Parsed, findings: list[Finding]) -> Target:
        return Target(
            text,
            parsed.document,
            parsed.model,
            parsed.lines,
            parsed.layout,
            tuple(findings),
            self.config.rule_settings,
        )

    def _ask(self, fixer: Fixer, target: Target, finding: Finding, result: FileFix) -> Fix | NoFix:
        try:
            return fixer.fix(target, finding)
        except Exception:
            where = traceback.extract_tb(sys.exc_info()[2])[-1]
            message = (
                f"internal error in the {fixer.rule} fix on {result.display} "
                f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno}): please report this"
            )
            if message not in result.errors:
                result.errors.append(message)
            return NoFix("the fix failed with an internal error")

    def _explain(
        self, result: FileFix, target: Target, rejected: set[tuple[str, str, str]]
    ) -> None:
        for finding in result.remaining:
            fixer = self.fixers.get(finding.rule)
            if fixer is None:
                result.reasons[finding] = NO_FIXER_HINTS.get(finding.rule, "no fix available")
                continue
            fix = self._ask(fixer, target, finding, result)
            if isinstance(fix, NoFix):
                result.reasons[finding] = fix.reason
            elif _key(finding, fix) in rejected:
                result.reasons[finding] = "its fix would break the file and was rolled back"
            elif not (fixer.safe or self.unsafe):
                result.reasons[finding] = f"fixable with --unsafe ({fixer.why_unsafe})"
            else:
                result.reasons[finding] = f"not fixed within {self.rounds} rounds"
