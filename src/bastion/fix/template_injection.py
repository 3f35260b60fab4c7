"""template-injection: pass the value through an ``env:`` variable of the step.

``run: echo "${{ github.event.issue.title }}"`` becomes ``run: echo "${ISSUE_TITLE}"`` with
``env: {ISSUE_TITLE: ${{ github.event.issue.title }}}``. The reference is quoted for the
shell unless it already stands inside double quotes (inside single quotes, the quotes are
closed around it); PowerShell reads ``$env:NAME``. One fix moves every flagged expression
of a script, so that they share one ``env:`` edit.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, replace

from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target
from bastion.fix.edits import Edit
from bastion.fix.yaml_edit import Value, insert_entries, scalar
from bastion.model.expressions import (
    ExpressionError,
    context_paths,
    find_expressions,
    mask_expressions,
    parse_expression,
)
from bastion.model.shell import command_words, simple_commands
from bastion.model.workflow import Action, Fields, Step
from bastion.source.yaml import MappingNode, Node, ScalarNode

RULE = "template-injection"
BASH_LIKE = frozenset({"bash", "sh", "dash", "zsh", "ksh"})
POWERSHELL = frozenset({"pwsh", "powershell"})
RESERVED = frozenset(
    {
        "CI", "HOME", "IFS", "LANG", "PATH", "PWD", "OLDPWD", "SHELL", "TERM", "TMPDIR", "USER",
        "HOSTNAME", "PS1", "PS4", "BASH_ENV", "ENV", "LD_PRELOAD", "LD_LIBRARY_PATH",
        "NODE_OPTIONS", "PYTHONPATH",
    }
)  # fmt: skip
"""Names a new variable must not take: the shell's own and ones that change how tools run."""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z0-9_.-]+)\2")
_SHORTER = {"pull_request": "pr", "pull_request_target": "pr"}


@dataclass(frozen=True, slots=True)
class _Occurrence:
    start: int
    end: int
    source: str
    """The expression inside ``${{ }}``, stripped."""
    context: str
    """Where it stands in the script: plain, double, single, heredoc or quoted-heredoc."""
    name_char_after: bool
    whole_string: bool
    """The expression is all of a single-quoted string (``'${{ x }}'``)."""
    splits: bool = False
    """Outside quotes, where the shell's word splitting is the point: the word list of a
    ``for``/``select`` loop, or a whole argument whose value is a list (see
    :func:`_splits`). The variable is then read unquoted, as the text was."""


def _plain(occurrence: _Occurrence) -> _Occurrence:
    return replace(occurrence, context="plain")


class TemplateInjection(Fixer):
    rule = RULE
    safe = False
    why_unsafe = "the script now reads the value from the environment; review the quoting"

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        if not finding.route.endswith("/run"):
            return NoFix(
                "only `run:` scripts are fixed; for a script input, read the value from an "
                "`env:` variable by hand (`process.env.NAME` in github-script)"
            )
        step = target.step(finding.route)
        run = step.fields.entry("run") if step is not None else None
        if step is None or run is None or not isinstance(run.value, ScalarNode):
            return NoFix("the `run:` script was not found")
        if not target.owns(step.node, run.key):
            return NoFix("the script is merged in from an anchor other steps share")
        shell = _shell(target, step)
        if isinstance(shell, NoFix):
            return shell
        occurrences = _occurrences(target, run.value, finding)
        if isinstance(occurrences, NoFix):
            return occurrences
        return _rewrite(target, step, run.value, shell, occurrences)


def _shell(target: Target, step: Step) -> str | NoFix:
    """``bash`` or ``pwsh``: how the script reads a variable."""
    job = target.job_of(step)
    shell = step.fields.text("shell")
    if shell is None and job is not None:
        workflow = target.workflow
        shell = _default_shell(job.fields) or (
            _default_shell(workflow.fields) if workflow is not None else None
        )
    if shell is None:
        if isinstance(target.model, Action) or job is None:
            return NoFix("the step names no shell")
        runs_on = job.fields.get("runs-on")
        where = _text_of(target, runs_on).lower() if runs_on is not None else ""
        if "windows" in where:
            return "pwsh"
        strategy = job.fields.get("strategy")
        if "${{" in where and strategy is not None and "windows" in _text_of(target, strategy):
            return NoFix(
                "the job may run on Windows, where the default shell differs; set `shell:`"
            )
        return "bash"
    program = shell.strip().split()[0].rsplit("/", 1)[-1].lower() if shell.strip() else ""
    if program in BASH_LIKE:
        return "bash"
    if program in POWERSHELL:
        return "pwsh"
    return NoFix(f"the script runs in `{shell.strip()}`, which this fix does not rewrite")


def _default_shell(fields: Fields) -> str | None:
    defaults = fields.mapping("defaults")
    run = defaults.mapping("run") if defaults else None
    return run.text("shell") if run else None


def _text_of(target: Target, node: Node) -> str:
    return target.text[node.start_mark.index : node.end_mark.index]


def _occurrences(target: Target, run: ScalarNode, finding: Finding) -> list[_Occurrence] | NoFix:
    """Every flagged expression of this script, as written in the file."""
    raw_start, raw_end = run.start_mark.index, run.end_mark.index
    raw = target.text[raw_start:raw_end]
    masked = mask_expressions(run.value)
    found: dict[int, _Occurrence] = {}
    for other in target.once((RULE, "findings by route"), lambda: _by_route(target))[finding.route]:
        start, end = target.offset(other.span.start), target.offset(other.span.end)
        written = target.text[start:end]
        if not (raw_start <= start < end <= raw_end and written.startswith("${{")):
            if other == finding:
                return NoFix("the expression is not written verbatim in the script")
            continue
        expressions = find_expressions(written)
        if len(expressions) != 1 or expressions[0].end != len(written):
            return NoFix("the expression is not written verbatim in the script")
        # The same text in the script's value: count earlier copies in the raw text.
        copy = raw.count(written, 0, start - raw_start)
        position = -1
        for _ in range(copy + 1):
            position = run.value.find(written, position + 1)
            if position < 0:
                return NoFix("the expression is not written verbatim in the script")
        after = run.value[position + len(written) : position + len(written) + 1]
        before = run.value[position - 1 : position] if position else ""
        quoted = target.text[start - 1 : start] == "'" == target.text[end : end + 1]
        source = expressions[0].source.strip()
        context = _quote_context(masked, position)
        found[start] = _Occurrence(
            start,
            end,
            source,
            context,
            bool(after) and (after.isalnum() or after in "_:"),
            quoted and before == "'" == after,
            context == "plain" and _splits(run.value, position, len(written), source),
        )
    return [found[key] for key in sorted(found)]


_LIST_NAME = re.compile(
    r"(?:args|arguments|flags|options|opts|list|files|paths|dirs|tags|labels|targets"
    r"|packages|features|modules|names|items)$|[^suis]s$",
    re.IGNORECASE,
)
"""The last name of an expression whose value is a list of words (``outputs.files``,
``matrix.flags``, ``inputs.extra_args``): a plural, or a word that names a list."""


_commands = functools.lru_cache(maxsize=64)(simple_commands)


def _splits(script: str, position: int, length: int, source: str) -> bool:
    """Whether word splitting is the point where the expression stands (outside quotes):
    in the word list of ``for NAME in …`` or ``select NAME in …``, or as a whole argument
    of a command (not its name) when the value is a list (a plural name, ``join()``)."""
    found = _commands(script)
    at = bisect.bisect_right(found, position, key=lambda c: c.start) - 1
    command = found[at] if at >= 0 else None
    if command is None or position >= command.start + len(command.masked):
        return False
    offset = position - command.start
    before, after = command.masked[:offset], command.masked[offset + length :]
    if (before and not before[-1].isspace()) or (after and not after[0].isspace()):
        return False  # part of a larger word
    words = before.split()
    if len(words) >= 3 and words[0] in ("for", "select") and words[2] == "in":
        return True
    if not command_words(before):
        return False  # the command's name, or an assignment
    name = re.split(r"[.\[\]'\"()\s]+", source.strip().rstrip(")]'\" "))[-1]
    return source.replace(" ", "").lower().startswith("join(") or bool(_LIST_NAME.search(name))


def _by_route(target: Target) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in target.findings:
        if finding.rule == RULE:
            grouped[finding.route].append(finding)
    return grouped


def _quote_context(script: str, position: int) -> str:
    """Where ``position`` of a shell script stands: outside quotes (plain), inside double or
    single quotes, in shell arithmetic, or in the body of a heredoc (quoted-heredoc when the
    body does not expand)."""
    state = "plain"
    arithmetic = 0
    pending: list[tuple[str, bool, bool]] = []
    index = 0
    while index < position:
        char = script[index]
        if char == "\n" and state == "plain" and pending:
            for delimiter, quoted, tabs in pending:
                end = _heredoc_end(script, index + 1, delimiter, tabs)
                if position < end:
                    return "quoted-heredoc" if quoted else "heredoc"
                index = end - 1
            pending = []
        elif state != "single" and script.startswith("$((", index):
            arithmetic += 1
            index += 2
        elif state != "single" and arithmetic and script.startswith("))", index):
            arithmetic -= 1
            index += 1
        elif state == "plain":
            if char == "\\":
                index += 1
            elif char == "'":
                state = "single"
            elif char == '"':
                state = "double"
            elif char == "#" and (index == 0 or script[index - 1] in " \t\n;|&("):
                newline = script.find("\n", index)
                if newline < 0 or newline >= position:
                    return "plain"
                index = newline - 1
            elif script.startswith("<<", index) and not script.startswith("<<<", index):
                match = _HEREDOC.match(script, index)
                if match:
                    pending.append((match.group(3), bool(match.group(2)), bool(match.group(1))))
                    index = match.end() - 1
        elif state == "double":
            if char == "\\":
                index += 1
            elif char == '"':
                state = "plain"
        elif char == "'":
            state = "plain"
        index += 1
    return "arithmetic" if arithmetic and state != "single" else state


def _heredoc_end(script: str, start: int, delimiter: str, tabs: bool) -> int:
    """The offset just after the line that closes a heredoc whose body starts at ``start``."""
    index = start
    while index < len(script):
        newline = script.find("\n", index)
        line_end = len(script) if newline < 0 else newline
        line = script[index:line_end]
        if (line.lstrip("\t") if tabs else line) == delimiter:
            return line_end + 1
        index = line_end + 1
    return len(script) + 1


def _reference(shell: str, name: str, occurrence: _Occurrence) -> str | None:
    context = occurrence.context
    if shell == "pwsh":
        if context == "single":
            return None
        return f"${{env:{name}}}" if occurrence.name_char_after else f"$env:{name}"
    if context == "plain":
        return f"${{{name}}}" if occurrence.splits else f'"${{{name}}}"'
    if context in ("double", "heredoc"):
        return f"${{{name}}}"
    if context == "single":
        return f"'\"${{{name}}}\"'"
    return None


def _yaml_escape(run: ScalarNode, text: str, at_start: bool) -> str | None:
    """``text`` as it must be written inside the run scalar's source."""
    if run.style == '"':
        return text.replace("\\", "\\\\").replace('"', '\\"')
    if not run.style and at_start and text[0] in "\"'":
        return None  # a plain scalar would turn into a quoted one
    return text


def _rewrite(
    target: Target, step: Step, run: ScalarNode, shell: str, occurrences: list[_Occurrence]
) -> Fix | NoFix:
    levels = _env_levels(target, step)
    names: dict[str, str] = {}
    new_entries: list[tuple[str, Value]] = []
    taken = {e.key.value.upper() for level in levels if level for e in level}
    edits: list[Edit] = []
    moved: list[str] = []
    for occurrence in occurrences:
        name = names.get(occurrence.source)
        if name is None:
            name = _existing(occurrence.source, levels)
            if name is None:
                name = _fresh_name(occurrence.source, taken, run.value)
                taken.add(name.upper())
                flow = bool(_step_env_node(target, step) and _step_env_flow(target, step))
                new_entries.append((name, scalar(f"${{{{ {occurrence.source} }}}}", flow=flow)))
            names[occurrence.source] = name
            moved.append(f"`{occurrence.source}` to `{name}`")
        if occurrence.context == "arithmetic":
            return NoFix(
                "the expression stands in shell arithmetic, which evaluates a variable's text "
                "too; check that the value is a number first, by hand"
            )
        if shell == "pwsh" and occurrence.splits:
            return NoFix(
                "the expression is a list the script splits into words; PowerShell would pass "
                "the variable as one value: rewrite the script by hand"
            )
        reference = _reference(shell, name, occurrence)
        if reference is None:
            return NoFix(
                "the expression stands inside single quotes or a quoted heredoc, where a "
                "variable does not expand; rewrite the script by hand"
            )
        start, end = occurrence.start, occurrence.end
        if occurrence.context == "single" and occurrence.whole_string and run.style != "'":
            start, end, reference = start - 1, end + 1, _reference(shell, name, _plain(occurrence))
            assert reference is not None
        written = _yaml_escape(run, reference, start == run.start_mark.index)
        if written is None:
            return NoFix("the script starts with the expression; quote the script by hand")
        edits.append(Edit(start, end, written))
    if new_entries:
        env = _step_env_node(target, step)
        if env is None:
            if "env" in step.fields:
                return NoFix("the step's `env:` is not a mapping written in the step")
            run_key = step.fields.entry("run")
            assert run_key is not None
            edit = insert_entries(
                target.text,
                target.layout,
                step.node,
                (("env", tuple(new_entries)),),
                after=run_key.key,
            )
        else:
            edit = insert_entries(target.text, target.layout, env, tuple(new_entries))
        if edit is None:
            return NoFix("the step is written in a way this fix does not edit")
        edits.append(edit)
    return Fix(f"moved {', '.join(moved)} into the step's `env:`", tuple(edits))


def _step_env_node(target: Target, step: Step) -> MappingNode | None:
    entry = step.fields.entry("env")
    if entry is None or not isinstance(entry.value, MappingNode):
        return None
    if not target.owns(step.node, entry.key):
        return None
    return entry.value


def _step_env_flow(target: Target, step: Step) -> bool:
    env = _step_env_node(target, step)
    return env is not None and bool(env.flow_style)


def _env_levels(target: Target, step: Step) -> list[Fields | None]:
    job = target.job_of(step)
    return [
        step.fields.mapping("env"),
        job.fields.mapping("env") if job else None,
        target.workflow.fields.mapping("env") if target.workflow is not None else None,
    ]


def _existing(source: str, levels: list[Fields | None]) -> str | None:
    """A variable already defined (and not shadowed) as exactly this expression."""
    compact = source.replace(" ", "")
    seen: set[str] = set()
    for level in levels:
        for entry in level or ():
            name: str = entry.key.value
            if name.upper() in seen:
                continue
            seen.add(name.upper())
            value = entry.value
            if not isinstance(value, ScalarNode) or not _IDENTIFIER.fullmatch(name):
                continue
            found = find_expressions(value.value)
            if (
                len(found) == 1
                and found[0].start == 0
                and found[0].end == len(value.value)
                and found[0].source.replace(" ", "") == compact
            ):
                return name
    if _IDENTIFIER.fullmatch(source[4:]) and source.lower().startswith("env."):
        return _env_name(source[4:], levels)
    return None


def _env_name(name: str, levels: list[Fields | None]) -> str:
    """How a variable read as ``env.name`` is spelled where it is defined."""
    for level in levels:
        for entry in level or ():
            spelled: str = entry.key.value
            if spelled.lower() == name.lower():
                return spelled
    return name


def _fresh_name(source: str, taken: set[str], script: str) -> str:
    base = _suggested_name(source)
    name, number = base, 1
    while name.upper() in taken or name in RESERVED or re.search(rf"\b{name}\b", script):
        number += 1
        name = f"{base}_{number}"
    return name


def _spelled(part: str, written: str) -> str:
    """``part`` (lowercased) as the expression spells it, camelCase split: ``node_version``."""
    found = re.search(re.escape(part), written, re.IGNORECASE)
    original = found.group() if found else part
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", original)


def _suggested_name(source: str) -> str:
    """``PR_TITLE`` for ``github.event.pull_request.title``, and so on."""
    try:
        paths = context_paths(parse_expression(source))
    except ExpressionError:
        paths = []
    if not paths:
        return "VALUE"
    parts = list(paths[0].parts)
    if parts[0] == "github":
        parts = parts[1:]
        if parts and parts[0] == "event":
            parts = parts[1:]
    elif parts[0] in ("steps", "needs") and len(parts) >= 4 and parts[2] == "outputs":
        parts = [parts[1], *parts[3:]]
    elif parts[0] in ("inputs", "env", "matrix", "vars"):
        parts = parts[1:]
    written = source[paths[0].start : paths[0].end]
    words = [
        _SHORTER.get(part, _spelled(part, written))
        for part in parts
        if part != "*" and not part.isdigit()
    ]
    words = words[-3:] if len(words) > 3 else words
    name = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(words)).strip("_").upper()
    if not name:
        return "VALUE"
    if name[0].isdigit() or name.startswith(("GITHUB_", "RUNNER_", "ACTIONS_")):
        name = f"VALUE_{name}"
    return name
