"""Immutability gaps: what a called action or reusable workflow pulls in that no pin fixes.

Pure functions over one node's parsed view (:class:`Action` or :class:`Workflow`) and its
fetched files, so they can be tested on real action files directly. Each yields
:class:`Gap` values that point into the node's own files; the graph rules
(``bastion.rules``) wrap them, and the audit (:mod:`bastion.graph.audit`) turns them into
findings at the line of the user's file that brings the node in.

:class:`Context` is what the audit knows of the place a node runs in: the chain from a
root job, whether that job is a release job, and the inputs its caller passes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bastion.findings import Confidence, Point, Severity, Span
from bastion.model.dockerfile import parse_dockerfile, run_script
from bastion.model.downloads import Download, physical_offset, unverified_downloads
from bastion.model.graph import Chain
from bastion.model.graph import Node as GraphNode
from bastion.model.shell import commands, script_lines
from bastion.model.uses import UsesKind, parse_uses
from bastion.model.walk import locate
from bastion.model.workflow import Action, Fields, Job, Step, Workflow
from bastion.source.text import LineIndex
from bastion.source.yaml import MappingNode, Node, ScalarNode, node_span


@dataclass(frozen=True, slots=True)
class Gap:
    """One gap, in one of the node's files."""

    message: str
    file: str
    """The path of the file in the node's repository."""
    span: Span
    route: str = ""
    severity: Severity | None = None
    confidence: Confidence | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Where a node runs: reached by ``chain`` from a root job."""

    chain: Chain
    job: Job | None = None
    """The root workflow's job (``None`` when the root is an action file)."""
    release: str | None = None
    """Why the root job is a release job ("publishes with `npm publish`"), else None."""
    inputs: Mapping[str, str] = field(default_factory=dict)
    """The ``with:`` values the last ``uses:`` of the chain passes to the node."""
    env: Mapping[str, str] = field(default_factory=dict)
    """The ``env`` values the root workflow and job set (scalars as written), by lower-case
    name (GitHub reads names in expressions case-insensitively)."""
    workflow: Workflow | None = None
    """The root workflow (``None`` when the root is an action file)."""
    secrets: frozenset[str] | None = None
    """For a called workflow: the secrets (lower case) the calling job passes with
    ``secrets:``; None with ``secrets: inherit``, or when the node is not a called workflow."""


# ---------------------------------------------------------------- inputs in context

INPUT_REFERENCE = re.compile(r"\$\{\{\s*inputs(?:\.([A-Za-z0-9_-]+)|\[\s*'([^']+)'\s*\])\s*\}\}")
"""A whole value that is one input: `${{ inputs.name }}` or `${{ inputs['name'] }}`."""


def input_defaults(view: Action | Workflow) -> dict[str, str]:
    """The declared defaults of an action's (or a called workflow's) inputs."""
    found: dict[str, str] = {}
    for entry in _inputs(view) or ():
        spec = Fields(entry.value) if isinstance(entry.value, MappingNode) else None
        default = spec.text("default") if spec is not None else None
        if default is not None:
            found[entry.key.value] = default
    return found


def with_inputs(step: Step, values: Mapping[str, str]) -> Step:
    """``step`` with each ``with:`` value that is one ``${{ inputs.X }}`` replaced by X's
    value in ``values`` (what the caller passes, else the default); each replaced node keeps
    the place of the original, so a finding about it points where it is written."""
    given = step.with_
    if given is None:
        return step
    pairs: list[tuple[Node, Node]] = []
    changed = False
    for key, value in given.node.value:
        text = value.value.strip() if isinstance(value, ScalarNode) else ""
        match = INPUT_REFERENCE.fullmatch(text)
        name = (match.group(1) or match.group(2)) if match else None
        if name is not None and name in values:
            replaced = ScalarNode(value.tag, values[name], value.start_mark, value.end_mark)
            pairs.append((key, replaced))
            changed = True
        else:
            pairs.append((key, value))
    if not changed:
        return step
    inputs = MappingNode(given.node.tag, pairs, given.node.start_mark, given.node.end_mark)
    items = [(key, inputs if value is given.node else value) for key, value in step.node.value]
    node = MappingNode(step.node.tag, items, step.node.start_mark, step.node.end_mark)
    return Step(
        step.route, step.index, node, Fields(node), step.uses, step.uses_node, step.position
    )


# ---------------------------------------------------------------- nested mutable uses


def _steps(view: Action | Workflow) -> Iterator[Step]:
    if isinstance(view, Action):
        yield from view.steps
    else:
        for job in view.jobs:
            yield from job.steps


def _step_lists(view: Action | Workflow) -> Iterator[list[Step]]:
    if isinstance(view, Action):
        yield view.steps
    else:
        for job in view.jobs:
            yield job.steps


def _checked_out_here(steps: list[Step], index: int, text: str) -> bool:
    """Whether a step before ``index`` fetched the folder a local ``uses:`` names into the
    workspace itself (``with: path: dir``): then that step decides what runs."""
    folder = text.removeprefix("./").split("/", 1)[0]
    for step in steps[:index]:
        path = step.input("path")
        if path is not None and path.value.strip().strip("./") == folder:
            return True
    return False


def nested_mutable_uses(view: Action | Workflow, file: str) -> Iterator[Gap]:
    """Each ``uses:`` of ``view`` that no commit fixes: a tag or branch, or a local path
    (unless an earlier step fetched that folder itself)."""
    places: list[tuple[str, ScalarNode, str, bool]] = []
    if isinstance(view, Workflow):
        for job in view.jobs:
            if job.uses is not None and job.uses_node is not None:
                places.append((job.uses.text, job.uses_node, f"{job.route}/uses", False))
    for steps in _step_lists(view):
        for index, step in enumerate(steps):
            if step.uses is not None and step.uses_node is not None:
                fetched = _checked_out_here(steps, index, step.uses.text)
                places.append((step.uses.text, step.uses_node, f"{step.route}/uses", fetched))
    what = "reusable workflow" if isinstance(view, Workflow) else "action"
    for text, node, route, fetched in places:
        uses = view_uses(text)
        if uses is None:
            continue
        kind, ref = uses
        if kind is UsesKind.LOCAL and not fetched:
            yield Gap(
                f"this {what} calls the local path `{text}`, which GitHub reads from the "
                "caller's checkout, not from the commit you pinned: whatever the job checked "
                "out (a pull request's code, another branch) decides what runs",
                file,
                node_span(node),
                route,
                confidence=Confidence.MEDIUM,
            )
        elif ref is not None:
            yield Gap(
                f"this {what} calls `{text}` by the tag or branch `{ref}`, not a full commit "
                "SHA: whoever can move that ref changes what your pinned dependency runs",
                file,
                node_span(node),
                route,
            )


def view_uses(text: str) -> tuple[UsesKind, str | None] | None:
    """For a ``uses:`` that is mutable: its kind and ref (None for a local path)."""
    uses = parse_uses(text)
    if "${{" in text:
        return None
    if uses.kind is UsesKind.LOCAL:
        return UsesKind.LOCAL, None
    if uses.kind is UsesKind.REPOSITORY and uses.ref and not uses.is_sha_pinned:
        return UsesKind.REPOSITORY, uses.ref
    return None


# ---------------------------------------------------------------- downloads

_SHEBANG = re.compile(r"#!\s*\S*(?:/|\s)(?:env\s+)?(?:ba|z|k|da)?sh\b")
_SCRIPT_SUFFIXES = (".sh", ".bash")


def _physical(script: str, download: Download) -> tuple[int, str]:
    """The offset and text of the physical line that holds the download's command."""
    start = physical_offset(script, download.line, download.offset)
    end = script.find("\n", start)
    return start, script[start : end if end >= 0 else len(script)].rstrip("\r")


def _text_span(text: str, offset: int, length: int) -> Span:
    number = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(Point(number, column), Point(number, column + max(length, 1)))


def _download_message(download: Download, where: str, branch: str | None = None) -> str:
    chosen = (
        f" (only in the branch `{branch}` of its script, a mode that inputs or the action's "
        "own logic select: check which one your inputs take)"
        if branch is not None
        else ""
    )
    return (
        f"{where} {download.what}{chosen}: a pin of the action does not fix what it fetches, "
        "so whatever that server returns runs in your job with its token and secrets"
    )


_BRANCH_START = re.compile(r"^\s*(if|elif)\s+(.*?)\s*(?:;\s*then)?\s*$")
_BRANCH_ELSE = re.compile(r"^\s*else\b")
_BRANCH_END = re.compile(r"^\s*fi\b")
_ONE_LINE_END = re.compile(r"[;&]\s*fi\s*;?\s*$")
_EQUALITY = re.compile(
    r"^\[\[?\s*\"?\$\{?[A-Za-z_][A-Za-z0-9_]*\}?\"?\s*==?\s*(?:\"[^\"$]*\"|'[^']*'|[\w.+-]+)\s*\]\]?$"
)


def mode_branch(script: str, offset: int) -> str | None:
    """The condition of the innermost ``if``/``elif`` branch holding ``offset`` that tests a
    variable against a literal (``[ "$VERSION_TYPE" = "latest" ]``): a mode the script
    chooses, not its usual path; None when the offset is on no such branch."""
    stack: list[str | None] = []
    position = 0
    for line in script[:offset].split("\n"):
        position += len(line) + 1
        if position > offset:
            break  # the download's own line
        start = _BRANCH_START.match(line)
        if start is not None and _ONE_LINE_END.search(line):
            continue  # `if ...; then ...; fi` opens and closes on its line
        if start is not None:
            condition = start.group(2).strip()
            equality = condition if _EQUALITY.match(condition) else None
            if start.group(1) == "if":
                stack.append(equality)
            elif stack:
                stack[-1] = equality
        elif _BRANCH_ELSE.match(line) and stack:
            stack[-1] = None
        elif _BRANCH_END.match(line) and stack:
            stack.pop()
    return next((condition for condition in reversed(stack) if condition is not None), None)


def run_step_downloads(view: Action | Workflow, file: str) -> Iterator[Gap]:
    """Downloads in the ``run:`` steps of a composite action or a reusable workflow."""
    lines = view.lines
    for step in _steps(view):
        run = step.run
        if run is None:
            continue
        for download in unverified_downloads(run.value):
            branch = mode_branch(run.value, _physical(run.value, download)[0])
            yield Gap(
                _download_message(download, "a `run:` step of this action", branch),
                file,
                _run_span(lines, run, download),
                f"{step.route}/run",
                confidence=Confidence.LOW if branch is not None else None,
            )


def _run_span(lines: LineIndex, run: ScalarNode, download: Download) -> Span:
    script = run.value
    start, text = _physical(script, download)
    stripped = text.strip()
    return locate(lines, run, stripped, script.count(stripped, 0, start))


def is_script(path: str, text: str) -> bool:
    """A shell script: by its name or its ``#!`` line."""
    return path.endswith(_SCRIPT_SUFFIXES) or _SHEBANG.match(text) is not None


def script_downloads(path: str, text: str) -> Iterator[Gap]:
    """Downloads in a shell script of the action's own tree."""
    for download in unverified_downloads(text):
        start, line = _physical(text, download)
        column = len(line) - len(line.lstrip())
        branch = mode_branch(text, start)
        yield Gap(
            _download_message(download, f"the action's script `{path}`", branch),
            path,
            _text_span(text, start + column, len(line.strip())),
            confidence=Confidence.LOW if branch is not None else None,
        )


def dockerfile_downloads(path: str, text: str) -> Iterator[Gap]:
    """Downloads in the ``RUN`` instructions of a Dockerfile the action builds."""
    for instruction in parse_dockerfile(text).instructions:
        if instruction.keyword != "RUN":
            continue
        script, offset = run_script(instruction)
        for download in unverified_downloads(script):
            position = offset + physical_offset(script, download.line, download.offset)
            number = instruction.line_of(position)
            line = text.splitlines()[number - 1]
            column = len(line) - len(line.lstrip()) + 1
            yield Gap(
                _download_message(download, f"a `RUN` of the action's `{path}`"),
                path,
                Span(Point(number, column), Point(number, len(line.rstrip()) + 1)),
            )


_PIP_COMMAND = re.compile(r"^(?:(?:\S*/)?python3?\s+-m\s+pip|(?:\S*/)?pip3?|uv\s+pip)\s+install$")
_PIP_VALUE_OPTIONS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
     "-t", "--target", "--prefix", "--root", "-f", "--find-links", "--python"}
)  # fmt: skip
_EXACT_REQUIREMENT = re.compile(r"^[A-Za-z0-9._\[\],-]+\s*===?\s*[^\s*;,]+\s*(?:;.*)?$")


def _pip_install(words: list[str]) -> tuple[list[str], list[str], bool] | None:
    """For a `pip install` command: its packages, its requirement files, whether it
    requires hashes; None for another command."""
    for size in (2, 3, 4):
        if _PIP_COMMAND.match(" ".join(words[:size])):
            rest = words[size:]
            break
    else:
        return None
    packages: list[str] = []
    files: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in _PIP_VALUE_OPTIONS and index + 1 < len(rest):
            if word in ("-r", "--requirement"):
                files.append(rest[index + 1])
            index += 2
            continue
        if word.startswith("--requirement="):
            files.append(word.split("=", 1)[1])
        elif not word.startswith("-"):
            packages.append(word)
        index += 1
    return packages, files, "--require-hashes" in rest


def _loose(package: str) -> bool:
    """A requirement pip resolves to whatever is newest (no `==` pin, not a path or URL)."""
    if "://" in package or package.startswith((".", "/", "$", "git+")):
        return False
    return _EXACT_REQUIREMENT.match(package) is None


def dockerfile_unpinned_installs(path: str, text: str, files: Mapping[str, str]) -> Iterator[Gap]:
    """`pip install` in a Dockerfile's `RUN` of packages without an exact `==` version, or of
    a requirements file (copied from the action's tree) with such lines: the image is built
    on every run, so each run installs whatever was released last. Not with hashes or a
    constraints file (`-c`, `PIP_CONSTRAINT`), which pin the versions."""
    folder = posixpath.dirname(path)
    lines = text.splitlines()
    instructions = parse_dockerfile(text).instructions
    if any(i.keyword == "ENV" and "PIP_CONSTRAINT" in i.arguments for i in instructions):
        return  # a constraints file (a lock) decides the versions
    for instruction in instructions:
        if instruction.keyword != "RUN":
            continue
        script, offset = run_script(instruction)
        for logical in script_lines(script):
            for words in commands(logical.masked):
                found = _pip_install(words)
                if found is None:
                    continue
                packages, requirements, hashes = found
                constrained = {"-c", "--constraint"} & set(words) or any(
                    word.startswith("--constraint=") for word in words
                )
                if hashes or constrained or "PIP_CONSTRAINT=" in logical.masked:
                    continue
                number = instruction.line_of(offset + logical.start)
                loose = [package for package in packages if _loose(package)]
                if loose:
                    line = lines[number - 1]
                    column = len(line) - len(line.lstrip()) + 1
                    yield Gap(
                        f"a `RUN` of the action's `{path}` installs "
                        f"{', '.join(f'`{name}`' for name in loose)} with no exact version: "
                        "the image is built on every run, so each run installs whatever "
                        "release is newest",
                        path,
                        Span(Point(number, column), Point(number, len(line.rstrip()) + 1)),
                    )
                for requirement in requirements:
                    yield from _loose_requirements(path, number, requirement, folder, files)


def _loose_requirements(
    dockerfile: str, number: int, requirement: str, folder: str, files: Mapping[str, str]
) -> Iterator[Gap]:
    """The lines of a requirements file (found by name in the Dockerfile's folder) that do
    not pin an exact version."""
    name = requirement.rsplit("/", 1)[-1]
    candidates = [
        path
        for path in files
        if path.rsplit("/", 1)[-1] == name and posixpath.dirname(path).startswith(folder)
    ]
    if len(candidates) != 1:
        return
    path = candidates[0]
    for index, raw in enumerate(files[path].splitlines(), start=1):
        entry = raw.split(" #", 1)[0].strip()
        if not entry or entry.startswith(("#", "-")) or not _loose(entry):
            continue
        yield Gap(
            f"`{path}`, which `{dockerfile}:{number}` installs with `pip install -r`, asks for "
            f"`{entry}` with no exact version (nor hashes): the image is built on every "
            "run, so each run installs whatever release is newest",
            path,
            Span(Point(index, 1), Point(index, len(raw.rstrip()) + 1)),
        )


# ---------------------------------------------------------------- docker images


def dockerfile_path(action: Action, metadata: str) -> str | None:
    """The repository path of the Dockerfile a docker action builds, if it builds one."""
    image = action.runs.text("image") if action.is_docker and action.runs else None
    if image is None or image.strip().startswith("docker://") or "${{" in image:
        return None
    folder = posixpath.dirname(metadata)
    return posixpath.normpath(posixpath.join(folder, image.strip()))


DOCKERFILE_NAMES = ("Dockerfile", "dockerfile")
"""A folder holding one of these and no action file is a docker action to the runner."""


def built_dockerfile(node: GraphNode) -> str | None:
    """The path (in ``node.files``) of the Dockerfile a docker node builds: the one its action
    file names in ``runs.image``, or its own metadata file when the folder has a Dockerfile
    and no action file. None when it builds none, or the file was not fetched."""
    action = node.action
    if action is not None:
        path = dockerfile_path(action, node.metadata)
    elif node.view is None and posixpath.basename(node.metadata) in DOCKERFILE_NAMES:
        path = node.metadata
    else:
        path = None
    return path if path is not None and path in node.files else None


def dockerfile_images(path: str, text: str) -> Iterator[Gap]:
    """Each image a Dockerfile pulls by tag, without an ``@sha256:`` digest."""
    for image in parse_dockerfile(text).images:
        if image.pinned:
            continue
        how = "copies files from the image" if image.copy else "builds on the image"
        tag = image.reference.rsplit("/", 1)[-1].partition(":")[2]
        pointer = f"the tag `{tag}`" if tag else "no tag (so `latest`)"
        yield Gap(
            f"the action's `{path}` {how} `{image.reference}` by {pointer}, not an "
            "`@sha256:` digest: the image's publisher can change what the action runs, "
            "whatever commit pins it, and it is rebuilt on every run",
            path,
            image.span,
            confidence=Confidence.MEDIUM if image.unresolved else None,
        )


# ---------------------------------------------------------------- version inputs

_VERSION_NAME = re.compile(r"(?:^|[-_])version$", re.IGNORECASE)
_NOT_TOOL_VERSIONS = frozenset({"cache-version", "slsa-version", "subject-version"})
_IMAGE_NAME = re.compile(r"(?:^|[-_])image$", re.IGNORECASE)
_RANGE = re.compile(r"^\s*(?:[~^<>]|=>|>=)|\*|(?:^|\.)x$|\|\|", re.IGNORECASE)
_EMPTY_MEANS_LATEST = re.compile(
    r"(?:default(?:s|ed)?\b[^.]{0,60}|if\s+(?:not|un)\w*|when\s+(?:empty|omitted|unset|not)"
    r"|empty\s*(?:=|means|for|uses)|omit\w*[^.]{0,30}|no\s+version[^.]{0,30}|otherwise[^.]{0,30})"
    r"[^.]{0,60}(?<![-\w])latest\b(?!-)",
    re.IGNORECASE,
)
_RUNTIMES = frozenset(
    {"node", "python", "go", "java", "jdk", "dotnet", "ruby", "deno", "bun", "php", "rust", "zig"}
)
"""Language runtimes: a range (`24.x`) for them is the usual way to ask for a major line."""
_IMAGE_REFERENCE = re.compile(r"[a-z0-9][a-z0-9._-]*(?:[:/][a-z0-9._-]+)*(?::[\w.-]+)?")


def _inputs(action: Action | Workflow) -> Fields | None:
    if isinstance(action, Action):
        return action.fields.mapping("inputs")
    for trigger in action.triggers:
        if trigger.event == "workflow_call" and isinstance(trigger.config, MappingNode):
            return Fields(trigger.config).mapping("inputs")
    return None


def _exact(value: str) -> bool:
    """A value given by the caller that fixes a version (not latest, not a range)."""
    text = value.strip()
    return bool(text) and "${{" not in text and not _is_latest(text) and not _RANGE.search(text)


def _is_latest(text: str) -> bool:
    return text.strip().strip("\"'").lower() in ("latest", "*")


def _image_latest(text: str) -> bool:
    reference = text.strip()
    if "@sha256:" in reference or reference.lower() in ("true", "false"):
        return False
    if _IMAGE_REFERENCE.fullmatch(reference) is None or reference.isdigit():
        return False
    tag = reference.rsplit("/", 1)[-1].partition(":")[2]
    return tag in ("", "latest")


def latest_version_defaults(
    view: Action | Workflow,
    file: str,
    files: Mapping[str, str],
    passed: Mapping[str, str] | None = None,
) -> Iterator[Gap]:
    """Version inputs (and image inputs) whose default installs whatever is newest.

    Reported when the caller does not pass an exact value (``passed``: its ``with:``) and the
    default is ``latest`` or a range, or is empty and the action says that empty means the
    latest release (its description, or a script of its own that falls back to
    ``latest`` or ``releases/latest``). Also a ``with:`` of the action's own steps that
    passes ``latest`` to a version input of another action.
    """
    passed = passed or {}
    inputs = _inputs(view)
    for entry in inputs or ():
        name = entry.key.value
        if name in passed and _exact(passed[name]):
            continue
        spec = Fields(entry.value) if isinstance(entry.value, MappingNode) else None
        if spec is None:
            continue
        default = spec.scalar("default")
        value = default.value.strip() if default is not None else ""
        node = default if default is not None else entry.key
        route = f"inputs/{name}/default" if default is not None else f"inputs/{name}"
        description = " ".join((spec.text("description") or "").split())
        if _IMAGE_NAME.search(name):
            if _image_latest(value):
                yield Gap(
                    f"input `{name}` defaults to the image `{value}`, which is whatever "
                    f"`latest` points to when the action runs; pass `{name}:` with a "
                    "digest-pinned image",
                    file,
                    node_span(node),
                    route,
                    confidence=Confidence.HIGH,
                )
            continue
        if not _VERSION_NAME.search(name) or name.lower() in _NOT_TOOL_VERSIONS:
            continue
        why = _why_latest(name, value, description, view, files)
        if why is None:
            continue
        reason, confidence = why
        told = spec.scalar("description")
        if default is None and told is not None and "description" in reason:
            node, route = told, f"inputs/{name}/description"
        yield Gap(
            f"input `{name}` {reason}, so this action installs whatever release is newest when "
            f"it runs, whatever commit you pinned; pass an exact `{name}:` (and a checksum "
            "input if the action has one)",
            file,
            node_span(node),
            route,
            confidence=confidence,
        )
    for step in _steps(view):
        inputs_of_step = step.with_
        if step.uses is None or inputs_of_step is None:
            continue
        for given in inputs_of_step:
            if not _VERSION_NAME.search(given.key.value) or not isinstance(given.value, ScalarNode):
                continue
            if _is_latest(given.value.value):
                yield Gap(
                    f"this action passes `{given.key.value}: {given.value.value.strip()}` to "
                    f"`{step.uses.text}`, which then installs whatever release is newest",
                    file,
                    node_span(given.value),
                    f"{step.route}/with/{given.key.value}",
                    confidence=Confidence.HIGH,
                )


def _why_latest(
    name: str, value: str, description: str, view: Action | Workflow, files: Mapping[str, str]
) -> tuple[str, Confidence] | None:
    if _is_latest(value):
        return f"defaults to `{value}`", Confidence.HIGH
    if value and _RANGE.search(value):
        runtime = re.split(r"[-_]", name.lower())[0] in _RUNTIMES
        return None if runtime else (f"defaults to the range `{value}`", Confidence.MEDIUM)
    if value:
        return None
    match = _EMPTY_MEANS_LATEST.search(description)
    if match is not None:
        start = description.rfind(". ", 0, match.start()) + 1
        end = description.find(". ", match.end())
        said = description[start : end + 1 if end >= 0 else len(description)].strip()
        return f"has no default, and its description says “{said}”", Confidence.MEDIUM
    fallback = _script_fallback(name, view, files)
    if fallback is not None:
        return f"has no default, and {fallback}", Confidence.MEDIUM
    return None


def _reference(name: str) -> re.Pattern[str]:
    quoted = re.escape(name)
    return re.compile(rf"inputs(?:\.{quoted}\b|\[\s*['\"]{quoted}['\"]\s*\])")


def _script_fallback(name: str, view: Action | Workflow, files: Mapping[str, str]) -> str | None:
    """How the action's own code turns an empty ``name`` into the newest release."""
    reference = _reference(name)
    variables = {f"INPUT_{name.upper().replace(' ', '_')}"}
    scripts: list[tuple[str, str]] = []
    for step in _steps(view):
        env = step.fields.mapping("env")
        for entry in env or ():
            if isinstance(entry.value, ScalarNode) and reference.search(entry.value.value):
                variables.add(entry.key.value)
        run = step.run
        if run is not None:
            scripts.append(("a `run:` step", run.value))
    scripts.extend((f"`{path}`", text) for path, text in files.items() if is_script(path, text))
    names = "|".join(re.escape(variable) for variable in sorted(variables))
    mention = re.compile(rf"\$\{{?(?:{names})\b|{reference.pattern}")
    npm_install = re.compile(
        rf"\b(?:npm|pnpm|yarn|bun)\s+(?:install|i|add)\b[^\n;&|]*@[\"']?(?:\$\{{?(?:{names})\}}?"
        rf"|\$\{{\{{\s*{reference.pattern}\s*\}}\}})[\"']?(?:\s|$)"
    )
    for where, script in scripts:
        lines = script.splitlines()
        for number, line in enumerate(lines):
            if npm_install.search(line):
                return (
                    f"{where} installs `{line.strip()}`, which with an empty version takes the "
                    "package's `latest` tag"
                )
            if not mention.search(line):
                continue
            window = "\n".join(lines[number : number + 4])
            if "releases/latest" in window or re.search(r":-\s*latest\b", window):
                return f"{where} then fetches the latest release (“{line.strip()}”)"
    return None


# ---------------------------------------------------------------- fallback installers

_BINSTALL = re.compile(r"^\s*(?:\S+=\S+\s+)*cargo-binstall(?:\$\{?exe\}?)?\s+binstall\b", re.M)
_SAYS_NONE = re.compile(r"fallback:\s*none", re.IGNORECASE)


def fallback_installs(
    view: Action | Workflow, file: str, files: Mapping[str, str], passed: Mapping[str, str]
) -> Iterator[Gap]:
    """An input ``fallback`` defaulting to ``cargo-binstall`` (taiki-e/install-action), when
    the action's own script runs ``cargo-binstall binstall`` and the caller does not pass
    another value: a tool, or a version, that the action's manifests do not list goes to
    cargo-binstall, outside the action's checksums (which tools they list is not fetched, so
    this is said of the input, at low severity)."""
    given = passed.get("fallback")
    if given is not None and given.strip() != "cargo-binstall":
        return
    for entry in _inputs(view) or ():
        if entry.key.value != "fallback" or not isinstance(entry.value, MappingNode):
            continue
        default = Fields(entry.value).scalar("default")
        if default is None or default.value.strip() != "cargo-binstall":
            return
        for path, text in sorted(files.items()):
            match = _BINSTALL.search(text) if is_script(path, text) else None
            if match is None:
                continue
            line = text.count("\n", 0, match.start()) + 1
            advice = _SAYS_NONE.search(text)
            said = (
                f"; `{path}:{text.count(chr(10), 0, advice.start()) + 1}` itself calls "
                "`fallback: none` the best practice for security"
                if advice is not None
                else ""
            )
            yield Gap(
                "input `fallback` defaults to `cargo-binstall`: a tool, or a version, that the "
                "action's manifests at this commit do not list is installed by "
                f"`cargo-binstall binstall` (`{path}:{line}`), which takes the crate's newest "
                "release unless a version is given and downloads its binary from where the "
                "crate's metadata points, outside the action's own sha256 checks" + said + "; "
                "pass `fallback: none` so that such a tool fails the step instead",
                file,
                node_span(default),
                "inputs/fallback/default",
                severity=Severity.LOW,
                confidence=Confidence.MEDIUM,
            )
            return
        return


# ---------------------------------------------------------------- system packages

_PACKAGE_MANAGERS = {
    ("apk", "add"): ("apk add", "DL3018"),
    ("apt-get", "install"): ("apt-get install", "DL3008"),
    ("apt", "install"): ("apt install", "DL3008"),
}
_PACKAGE_VALUE_OPTIONS = frozenset(
    {"-X", "--repository", "-t", "--virtual", "-p", "--root", "--arch", "--cache-dir",
     "--keys-dir", "-o", "--option", "--target-release", "-c", "--config-file"}
)  # fmt: skip
_VERSIONED_PACKAGE = re.compile(r"[=<>~]")
_ESCALATORS = frozenset({"sudo", "doas"})


def _system_install(words: list[str]) -> tuple[str, str, list[str]] | None:
    """For `apk add` or `apt-get install` (after `sudo`): how it is written, the hadolint
    check for unpinned packages of that manager, and the packages named without a version."""
    while words and words[0] in _ESCALATORS:
        words = words[1:]
    if len(words) < 2:
        return None
    tool = words[0].rsplit("/", 1)[-1]
    verbs = [index for index, word in enumerate(words[1:], 1) if not word.startswith("-")]
    if not verbs or (tool, words[verbs[0]]) not in _PACKAGE_MANAGERS:
        return None
    written, check = _PACKAGE_MANAGERS[(tool, words[verbs[0]])]
    rest = words[verbs[0] + 1 :]
    loose: list[str] = []
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in _PACKAGE_VALUE_OPTIONS:
            index += 2
            continue
        index += 1
        if word.startswith("-") or "$" in word or word.endswith((".deb", ".apk")):
            continue
        if "/" not in word and _VERSIONED_PACKAGE.search(word) is None:
            loose.append(word)
    return written, check, loose


def dockerfile_system_packages(path: str, text: str) -> Iterator[Gap]:
    """Distribution packages a Dockerfile's `RUN` installs with `apk add` or `apt-get
    install` without a version: the image is rebuilt on every run, so each run gets what
    the distribution's repository holds that day. The packages are signed by the
    distribution and checked by the package manager, so this is a gap of immutability, not
    an unverified download: low severity; medium confidence where the stage's base image is
    pinned by digest (the packages are then what still moves), low where the base is a tag
    (`mutable-docker-image` reports that, and the packages move with it)."""
    dockerfile = parse_dockerfile(text)
    pinned_bases = {image.span.start.line: image.pinned for image in dockerfile.images}
    stages: dict[str, bool] = {}
    lines = text.splitlines()
    base_pinned = False
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            names = [word for word in instruction.words if not word.startswith("--")]
            base = names[0].lower() if names else ""
            base_pinned = pinned_bases.get(instruction.line, stages.get(base, base == "scratch"))
            if len(names) >= 3 and names[1].lower() == "as":
                stages[names[2].lower()] = base_pinned
            continue
        if instruction.keyword != "RUN":
            continue
        script, offset = run_script(instruction)
        above = lines[instruction.line - 2] if instruction.line >= 2 else ""
        for logical in script_lines(script):
            cursor = logical.start
            for words in commands(logical.masked):
                found = _system_install(words)
                if found is None:
                    continue
                written, check, loose = found
                tool, verb = written.split()
                at = re.compile(rf"(?<![\w-]){tool}\b[^;&|\n]*?\b{verb}\b").search(script, cursor)
                where = at.start() if at is not None else -1
                cursor = at.end() if at is not None else cursor
                if not loose:
                    continue
                number = instruction.line_of(offset + (where if where >= 0 else logical.start))
                line = lines[number - 1]
                column = len(line) - len(line.lstrip()) + 1
                listed = ", ".join(f"`{name}`" for name in loose)
                silenced = (
                    f" (the file silences hadolint's {check}, the check for this)"
                    if check in above and "hadolint" in above
                    else ""
                )
                base = (
                    "the base image is pinned by digest, but these"
                    if base_pinned
                    else "the base image is a tag as well, and these"
                )
                yield Gap(
                    f"a `RUN` of the action's `{path}` installs {listed} with `{written}` and "
                    f"no version{silenced}: {base} packages are whatever the distribution's "
                    "repository holds when the image is built, on every run; they are signed "
                    "by the distribution, so this is a gap of immutability, not an "
                    "unverified download",
                    path,
                    Span(Point(number, column), Point(number, len(line.rstrip()) + 1)),
                    severity=Severity.LOW,
                    confidence=Confidence.MEDIUM if base_pinned else Confidence.LOW,
                )
