"""The permissions fix on every workflow of the real corpus: no job loses a permission it
uses or may use without a note.

For every job of every file, the permissions it was effectively granted are computed before
and after ``fix --unsafe`` (its own block, else the workflow's, else the default token; the
default is taken at its most: every scope but ``id-token`` writable). A job may end with
less only when the permissions table knows everything it does and the scope lost is not
among what it needs or may use; any other loss must come with a note naming the job.
"""

from __future__ import annotations

from dataclasses import dataclass

from bastion.config import Config
from bastion.engine import build_model
from bastion.fix.engine import BOM, FixEngine
from bastion.fix.permissions import job_needs
from bastion.inputs import Kind, collect
from bastion.model.workflow import Workflow
from bastion.source.text import LineIndex
from bastion.source.yaml import MappingNode, Node, ScalarNode, YamlError, parse
from tests.shared import CORPUS, require

SCOPES = (
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token",
    "issues", "models", "packages", "pages", "pull-requests", "repository-projects",
    "security-events", "statuses",
)  # fmt: skip
LEVELS = {"none": 0, "read": 1, "write": 2}
DEFAULT = {scope: 0 if scope == "id-token" else 2 for scope in SCOPES}

Granted = dict[str, int]


def _granted(node: Node) -> Granted | None:
    """What a `permissions:` value grants; None when it cannot be read (an expression)."""
    if isinstance(node, ScalarNode):
        if node.value == "write-all":
            return dict.fromkeys(SCOPES, 2)
        if node.value == "read-all":
            return dict.fromkeys(SCOPES, 1)
        return dict.fromkeys(SCOPES, 0) if not node.value else None
    if isinstance(node, MappingNode):
        granted = dict.fromkeys(SCOPES, 0)
        for key, value in node.value:
            if isinstance(value, ScalarNode) and value.value in LEVELS:
                granted[str(key.value)] = LEVELS[value.value]
        return granted
    return None


def _get(mapping: MappingNode, name: str) -> Node | None:
    return next(
        (v for k, v in mapping.value if isinstance(k, ScalarNode) and k.value == name), None
    )


def effective(root: Node) -> dict[str, Granted | None]:
    """Job id -> what the job's token may do, in a workflow's parsed document."""
    if not isinstance(root, MappingNode):
        return {}
    top_node = _get(root, "permissions")
    top = DEFAULT if top_node is None else _granted(top_node)
    jobs = _get(root, "jobs")
    found: dict[str, Granted | None] = {}
    for key, job in jobs.value if isinstance(jobs, MappingNode) else []:
        if isinstance(job, MappingNode):
            own = _get(job, "permissions")
            found[str(key.value)] = top if own is None else _granted(own)
    return found


def _relied_on_the_fix(own: Node | None) -> bool:
    """Whether the fix decides the job's permissions: it has none of its own, or a blanket."""
    return own is None or (isinstance(own, ScalarNode) and own.value in ("write-all", "read-all"))


@dataclass
class Figures:
    files: int = 0
    changed: int = 0
    jobs: int = 0
    noted: int = 0
    unknown: int = 0
    """Jobs doing something the table does not know: they keep all they had."""
    narrowed: int = 0
    """Jobs that hold less than before, all of whose uses the table knows."""


def test_no_job_loses_a_permission_it_may_use_without_a_note() -> None:
    root = require(CORPUS)
    engine = FixEngine(Config(), unsafe=True)
    figures = Figures()
    losses: list[str] = []
    kept: dict[tuple[str, str], Granted | None] = {}
    projects = sorted(str(path) for path in root.iterdir() if path.is_dir())
    for item in collect(projects):
        if item.kind is not Kind.WORKFLOW or item.path is None:
            continue
        try:
            text = item.path.read_bytes().decode("utf-8").removeprefix(BOM)
            document = parse(text)
        except (UnicodeDecodeError, YamlError):
            continue
        before = effective(document.root)
        result = engine.fix_text(text, item.display, item.kind)
        figures.files += 1
        figures.changed += result.changed
        after = effective(parse(result.text).root) if result.changed else before
        said = " ".join([*(a.note for a in result.applied), *result.reasons.values()])
        touched = any(a.rule == "excessive-permissions" for a in result.applied) or any(
            f.rule == "excessive-permissions" for f in result.remaining
        )
        model = build_model("", Kind.WORKFLOW, document, LineIndex(text))
        for job_id, had in before.items():
            figures.jobs += 1
            has = after.get(job_id)
            project = item.path.relative_to(root).parts[0]
            kept[(project + "/" + item.path.name, job_id)] = has
            noted = f"job `{job_id}`" in said
            figures.noted += noted
            if had is None or has is None:
                assert has == had or noted, (item.display, job_id)
                continue
            lost = [scope for scope in SCOPES if has[scope] < had[scope]]
            assert isinstance(model, Workflow)
            job = next(job for job in model.jobs if job.job_id == job_id)
            needs = job_needs(model, job)
            if needs.unknown:
                # The table does not know what the job does: it keeps everything, and when
                # the fix could have narrowed it, a note names it.
                figures.unknown += 1
                if lost:
                    losses.append(f"{item.display}: job `{job_id}` loses {', '.join(lost)}")
                elif touched and not noted and _relied_on_the_fix(job.fields.get("permissions")):
                    losses.append(f"{item.display}: job `{job_id}` has no note")
                continue
            needed = {scope: LEVELS[level] for scope, level in needs.scopes.items()}
            needed.update({scope: had[scope] for scope in needs.kept})
            if any(has[scope] < needed.get(scope, 0) for scope in lost) and not noted:
                losses.append(f"{item.display}: job `{job_id}` loses {', '.join(lost)}")
            elif lost:
                figures.narrowed += 1
    assert losses == [], "\n".join(losses[:40])
    print(f"\ncorpus permissions: {figures}")
    assert figures.files > 1400
    assert figures.jobs > 3000
    # The releases the issue names keep what they use.
    assert kept[("TanStack__router/release.yml", "release")]["id-token"] == 2  # type: ignore[index]
    assert kept[("codecov__codecov-action/main.yml", "run")]["id-token"] == 2  # type: ignore[index]
    releases = [key for key in kept if key[0].endswith("/release-new-action-version.yml")]
    assert len(releases) >= 5
    for key in releases:
        assert kept[key]["contents"] == 2, key  # type: ignore[index]
