from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Area, Confidence, Severity
from bastion.model.downloads import FILE_RULE_KINDS, unverified_downloads
from bastion.model.shell import line_span
from bastion.model.workflow import Action, Step, Workflow
from bastion.rules.base import Hit, Rule
from bastion.rules.facts import Facts, Script, facts
from bastion.source.text import LineIndex


class UnverifiedDownload(Rule):
    """Flags scripts that download and run or install code without verifying it.

    In `run:` steps of workflows and composite actions, flagged at the command's line:

    - a download piped into an interpreter: `curl ... | sh` (or `bash`, `python`, `perl`,
      `node`...), `wget -O- ... | bash`, `bash <(curl ...)`, `sh -c "$(curl ...)"`;
    - a file downloaded with `curl` or `wget` and later made executable with `chmod +x` in
      the same script;
    - an archive downloaded with `curl` or `wget`, unpacked (`tar x`, `unzip`), and then a
      program from it run by a relative path (`./tool/bin/tool`, the `-C`/`-d` folder it
      was unpacked into) or installed on the PATH (`mv`/`cp`/`install` into a bin folder,
      a folder appended to `$GITHUB_PATH`);
    - a `curl` or `wget` of a `releases/latest/download/` URL, or such a URL set in a
      variable of a script that downloads;
    - `go install ...@latest`;
    - `pip install` (also `python -m pip`, `uv pip`) of an `https://` URL or a `git+`
      requirement, without `--require-hashes` (a `git+` URL pinned to a full commit SHA is
      not reported: git checks what it fetches against the SHA).

    A download whose URLs all name a file at a full commit SHA
    (`raw.githubusercontent.com/OWNER/REPO/<sha>/...`, `github.com/OWNER/REPO/raw/<sha>/...`,
    `.../archive/<sha>.tar.gz`) is not reported: what it serves cannot change, like an
    action pinned to a commit.

    The second, third and fourth kinds are not reported when the same script also verifies a file
    (piping and `go`/`pip` installs run before anything could be checked) with
    `sha256sum -c` (or `--check`, any `sha*sum`, `shasum -a 256 -c`),
    `gpg --verify`, `cosign verify*`, `minisign -V`, `gh attestation verify` or
    `slsa-verifier`. A checksum file the script downloads itself does not count: fetched
    from the same place, it changes with the file it checks.

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
        shared = facts(workflow)
        for job in workflow.jobs:
            yield from _check_steps(workflow.lines, job.steps, shared)

    def check_action(self, action: Action) -> Iterator[Hit]:
        return _check_steps(action.lines, action.steps, facts(action))


def _may_report(script: Script) -> bool:
    """Whether ``script`` can hold what this rule reports (:data:`FILE_RULE_KINDS`): every
    kind needs a `curl` or `wget`, but `go install ...@latest` and `pip install` of a URL
    or a `git+` requirement."""
    return script.mentions("curl", "wget", "@latest") or (
        script.mentions("install") and script.mentions("://", "git+")
    )


def _check_steps(lines: LineIndex, steps: list[Step], shared: Facts) -> Iterator[Hit]:
    for step in steps:
        script = shared.script(step)
        if script is None or not _may_report(script):
            continue
        run = script.node
        for download in unverified_downloads(script.text):
            if download.kind not in FILE_RULE_KINDS:
                continue
            yield Hit(
                f"this script {download.what}: whatever the server returns runs with the job's "
                "token and secrets; pin a version and check it against a recorded checksum "
                "(`sha256sum --check`) or signature before running it",
                run,
                f"{step.route}/run",
                span=line_span(lines, run, run.value, download.line),
            )
