"""release-cache: `cache-mode: none` on the release job, which the cache service enforces.

GitHub's `cache-mode:` (2026-09) is a job key; `none` refuses every restore and save
(https://github.blog/changelog/2026-09-10-control-github-actions-cache-access-with-cache-mode).
The fix is safe: a restore that finds nothing is a cache miss, which every job using a cache
already handles (entries are evicted at any time), so the job does the same work, slower.
The exception is a step that fails on a miss (`fail-on-cache-miss: true`): no fix then.
"""

from __future__ import annotations

from bastion.findings import Finding
from bastion.fix.base import Fix, Fixer, NoFix, Target
from bastion.fix.edits import Edit
from bastion.fix.yaml_edit import insert_entries, set_value
from bastion.model.workflow import Job

MODE = "none"


class ReleaseCache(Fixer):
    rule = "release-cache"
    safe = True

    def fix(self, target: Target, finding: Finding) -> Fix | NoFix:
        workflow = target.workflow
        job = _job(target, finding.route)
        if workflow is None or job is None:
            return NoFix("the release job was not found")
        for step in job.steps:
            miss = step.input("fail-on-cache-miss")
            if miss is not None and miss.value.strip().lower() != "false":
                return NoFix(
                    f"step {step.index + 1} of job `{job.job_id}` fails on a cache miss: "
                    "remove the cache from the job by hand"
                )
        edit = _set_mode(target, job)
        if isinstance(edit, NoFix):
            return edit
        return Fix(f"set `cache-mode: {MODE}` on job `{job.job_id}`", (edit,))


def _job(target: Target, route: str) -> Job | None:
    workflow = target.workflow
    jobs = workflow.jobs if workflow is not None else []
    return next((j for j in jobs if route == j.route or route.startswith(f"{j.route}/")), None)


def _set_mode(target: Target, job: Job) -> Edit | NoFix:
    current = job.fields.entry("cache-mode")
    if current is not None:
        if not target.owns(job.node, current.key):
            return NoFix("the job's `cache-mode:` is merged in from an anchor other jobs share")
        flow = bool(job.node.flow_style)
        edit = set_value(target.text, target.layout, current.key, current.value, MODE, flow=flow)
    else:
        anchor = job.fields.entry("runs-on") or job.fields.entry("uses")
        after = anchor.key if anchor is not None and target.owns(job.node, anchor.key) else None
        edit = insert_entries(
            target.text, target.layout, job.node, (("cache-mode", MODE),), after=after
        )
    if edit is None:
        return NoFix("the job is written in a way this fix does not edit")
    return edit
