from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.findings import Area, Confidence, Severity
from bastion.model.shell import ScriptLine, commands, line_span, script_lines
from bastion.model.workflow import Action, Step, Workflow
from bastion.rules.base import Hit, Rule
from bastion.source.text import LineIndex

_DOWNLOADERS = frozenset({"curl", "wget"})
_INTERPRETERS = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "python", "python3", "perl", "ruby", "node", "pwsh"}
)
_SUBSTITUTED = re.compile(r"\b(?:sh|bash|zsh|python3?)\b[^|;&]*(?:<\(\s*|\$\(\s*)(?:curl|wget)\b")
"""`bash <(curl ...)`, `sh -c "$(curl ...)"`."""
_PIPE_TO_INTERPRETER = re.compile(
    r"(?:^\s*|[;&(]\s*|\b(?:then|do|else|sudo|exec)\s+)(?:\S*/)?(?:curl|wget)\b"
    r"[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?"
    r"(?:\S*/)?(?:sh|bash|zsh|dash|ksh|python3?|perl|ruby|node|pwsh)\b(?!\S*\.)"
)
_LATEST = "releases/latest/download/"
_VERIFIERS = (
    re.compile(r"\bsha(?:1|224|256|384|512)sum\b[^\n|;&]*\s(?:-c|--check)\b"),
    re.compile(r"\bshasum\b[^\n|;&]*\s(?:-c|--check)\b"),
    re.compile(r"\bgpg2?\b[^\n|;&]*\s--verify\b"),
    re.compile(r"\bcosign\s+verify"),
    re.compile(r"\bminisign\b[^\n|;&]*\s-V\b"),
    re.compile(r"\bgh\s+attestation\s+verify\b"),
    re.compile(r"\bslsa-verifier\b"),
)
"""Commands that check a download against a known checksum or signature."""
_PIP = re.compile(r"^(?:(?:\S*/)?python3?\s+-m\s+pip|(?:\S*/)?pip3?|uv\s+pip)\s+install\b")
_REMOTE_REQUIREMENT = re.compile(r"(?:^|\s)['\"]?(?:https?://|git\+)(?!\S*@[0-9a-f]{40}\b)")


def _verified(script: str) -> bool:
    return any(pattern.search(script) for pattern in _VERIFIERS)


def _output_file(words: list[str]) -> str | None:
    """The file a curl or wget command saves to, if it names one."""
    tool = words[0].rsplit("/", 1)[-1]
    for index, word in enumerate(words[1:], start=1):
        if word in ("-o", "--output", "-O", "--output-document") and index + 1 < len(words):
            if tool == "curl" and word == "-O":
                continue
            return words[index + 1]
        if word.startswith(("--output=", "--output-document=")):
            return word.split("=", 1)[1]
    urls = [w for w in words[1:] if "://" in w]
    if urls and (tool == "wget" or "-O" in words or "--remote-name" in words):
        return urls[-1].rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    return None


def _chmods(words: list[str], name: str) -> bool:
    if words[:1] != ["chmod"] or not any(w in ("+x", "u+x", "a+x", "755", "0755") for w in words):
        return False
    base = name.rsplit("/", 1)[-1]
    return any(w.rsplit("/", 1)[-1] == base for w in words[1:] if base)


def _problems(script: str) -> Iterator[tuple[ScriptLine, str]]:
    """Each line of ``script`` that runs or installs something it does not verify."""
    lines = script_lines(script)
    verified = _verified("\n".join(line.masked for line in lines))
    for position, line in enumerate(lines):
        masked = line.masked
        if masked.lstrip().startswith("#"):
            continue
        if _PIPE_TO_INTERPRETER.search(masked) or _SUBSTITUTED.search(masked):
            yield line, "pipes a download straight into an interpreter, unverified"
            continue
        for words in commands(masked):
            tool = words[0].rsplit("/", 1)[-1]
            if words[:2] == ["go", "install"] and any(w.endswith("@latest") for w in words):
                yield line, "installs whatever version is latest (`go install ...@latest`)"
                break
            if _PIP.match(" ".join(words)) and "--require-hashes" not in words:
                remote = _REMOTE_REQUIREMENT.search(" ".join(words[2:]))
                if remote is not None:
                    yield line, "installs a package from a URL or git without `--require-hashes`"
                    break
            if tool not in _DOWNLOADERS or verified:
                continue
            if any(_LATEST in word for word in words):
                yield line, "downloads from `releases/latest`, a moving target, unverified"
                break
            name = _output_file(words)
            if name and any(
                _chmods(later, name)
                for rest in lines[position + 1 :]
                for later in commands(rest.masked)
            ):
                yield line, f"downloads `{name}` and makes it executable, unverified"
                break


class UnverifiedDownload(Rule):
    """Flags scripts that download and run or install code without verifying it.

    In `run:` steps of workflows and composite actions, flagged at the command's line:

    - a download piped into an interpreter: `curl ... | sh` (or `bash`, `python`, `perl`,
      `node`...), `wget -O- ... | bash`, `bash <(curl ...)`, `sh -c "$(curl ...)"`;
    - a file downloaded with `curl` or `wget` and later made executable with `chmod +x` in
      the same script;
    - a `curl` or `wget` of a `releases/latest/download/` URL;
    - `go install ...@latest`;
    - `pip install` (also `python -m pip`, `uv pip`) of an `https://` URL or a `git+`
      requirement, without `--require-hashes` (a `git+` URL pinned to a full commit SHA is
      not reported: git checks what it fetches against the SHA).

    The second and third kinds are not reported when the same script also verifies a file
    (piping and `go`/`pip` installs run before anything could be checked) with
    `sha256sum -c` (or `--check`, any `sha*sum`, `shasum -a 256 -c`),
    `gpg --verify`, `cosign verify*`, `minisign -V`, `gh attestation verify` or
    `slsa-verifier`.

    ## Why it matters
    Whatever the server returns runs in the job with its token and secrets. A compromised
    download host, a hijacked release, or a new "latest" version published by an attacker
    (the Codecov bash uploader was changed this way and ran in thousands of pipelines
    for months) becomes code execution in your CI, and in a release job, in your
    published artifacts. A pinned checksum makes the step fail instead. The playbook
    (release control L9) checks every downloaded installer against a checksum.

    ## Example
    ```yaml
    steps:
      - run: curl -sSfL https://example.com/install.sh | sh     # flagged
    ```

    ## How to fix
    Download a pinned version, check it against a checksum recorded in the workflow, and
    only then run it (or use a pinned action or package that does this):

    ```yaml
    steps:
      - run: |
          curl -sSfLo tool.tar.gz https://example.com/v1.2.3/tool.tar.gz
          echo "<sha256>  tool.tar.gz" | sha256sum --check
          tar xzf tool.tar.gz
    ```
    """

    id = "unverified-download"
    summary = "a script downloads and runs code without verifying a checksum"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    area = Area.RELEASE

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for job in workflow.jobs:
            yield from _check_steps(workflow.lines, job.steps)

    def check_action(self, action: Action) -> Iterator[Hit]:
        return _check_steps(action.lines, action.steps)


def _check_steps(lines: LineIndex, steps: list[Step]) -> Iterator[Hit]:
    for step in steps:
        run = step.run
        if run is None or not any(w in run.value for w in ("curl", "wget", "install")):
            continue
        for line, what in _problems(run.value):
            yield Hit(
                f"this script {what}: whatever the server returns runs with the job's token "
                "and secrets; pin a version and check it against a recorded checksum "
                "(`sha256sum --check`) or signature before running it",
                run,
                f"{step.route}/run",
                span=line_span(lines, run, run.value, line),
            )
