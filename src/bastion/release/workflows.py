"""What the workflow files say about releasing: which workflows publish, where, from which
deployment environment (the release context of the file rules, ``bastion.rules.release``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bastion.model.workflow import build_workflow
from bastion.rules.release import job_publishes, release_jobs
from bastion.settings.collect import MAX_WORKFLOW_BYTES, WORKFLOW_DIRECTORY, environment_name
from bastion.source.text import LineIndex
from bastion.source.yaml import YamlError, parse


@dataclass(frozen=True, slots=True)
class Publishing:
    """One workflow file that releases."""

    path: str
    """``.github/workflows/release.yml``."""
    jobs: dict[str, dict[str, str]] = field(default_factory=dict)
    """Registry (``PyPI``, ``npm``...) -> the jobs publishing there (``workflow.yml: job``)
    -> the job's deployment environment (``""`` for none)."""

    @property
    def registries(self) -> list[str]:
        return list(self.jobs)


def read_checkout(root: Path) -> dict[str, bytes] | str:
    """The workflow files of a checkout, by path; a message when there are none to read."""
    directory = root / WORKFLOW_DIRECTORY
    if not directory.is_dir():
        return f"{root} has no {WORKFLOW_DIRECTORY} directory"
    files: dict[str, bytes] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".yml", ".yaml") or not path.is_file() or path.is_symlink():
            continue
        try:
            if path.stat().st_size > MAX_WORKFLOW_BYTES:
                continue
            files[f"{WORKFLOW_DIRECTORY}/{path.name}"] = path.read_bytes()
        except OSError as error:
            return f"cannot read {path}: {error.strerror}"
    return files


def releasing_workflows(subject: str, workflows: dict[str, bytes]) -> list[Publishing]:
    """The workflows with release jobs, with what their publishing jobs publish to."""
    found = []
    for path, data in sorted(workflows.items()):
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
            workflow = build_workflow(f"{subject}/{path}", parse(text), LineIndex(text))
            releasing = release_jobs(workflow)
        except (UnicodeDecodeError, YamlError, RecursionError):
            continue
        if not releasing:
            continue
        facts = Publishing(path)
        for job in workflow.jobs:
            environment = environment_name(job.fields) or ""
            for publish in job_publishes(workflow, job):
                facts.jobs.setdefault(publish.registry, {})[f"{path}: {job.job_id}"] = environment
        found.append(facts)
    return found
