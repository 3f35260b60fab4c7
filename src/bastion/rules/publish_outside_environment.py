from __future__ import annotations

from collections.abc import Iterator

from bastion.findings import Area, Confidence, Severity
from bastion.model.workflow import Workflow
from bastion.rules.base import Hit, Rule
from bastion.rules.release import job_publishes


class PublishOutsideEnvironment(Rule):
    """Flags jobs that publish without a deployment `environment`.

    A job is flagged, at its key, when one of its steps publishes and it names no
    `environment:` (or an empty one). Publishing steps are:

    - the actions `pypa/gh-action-pypi-publish`, `JS-DevTools/npm-publish`,
      `softprops/action-gh-release`, `ncipollo/release-action`, `actions/create-release`,
      `actions/upload-release-asset`, `svenstaro/upload-release-action`,
      `marvinpinto/action-automatic-releases` and `goreleaser/goreleaser-action`, and
      `docker/build-push-action` or `docker/bake-action` whose `push:` is `true` or an
      expression;
    - a `run:` command `uv publish`, `twine upload`, `poetry publish`, `flit publish`,
      `hatch publish`, `npm publish`, `pnpm publish`, `yarn npm publish`, `yarn publish`,
      `cargo publish`, `gem push`, `dotnet nuget push`, `nuget push`, `dart pub publish`,
      `flutter pub publish`, `docker push`, `podman push`, `gh release create` or
      `gh release upload`, without `--dry-run`, read as a command (at the start of a line or
      after `;`, `&&`, `|`..., past `sudo` and variable assignments), not inside an `echo`.

    ## Why it matters
    A deployment environment is the only place GitHub lets a release be gated: required
    reviewers, a wait timer, the branches and tags allowed to deploy, and secrets that only
    that environment's jobs receive. A publishing job outside one runs as soon as anyone
    who can push a branch or tag (or change a workflow) triggers it, with nobody approving
    it. Registries' Trusted Publishing can also be bound to an environment name, so that a
    run outside it cannot publish. The playbook (release controls L5 and L6) runs every
    publishing job in a dedicated, protected `release` environment.

    ## Example
    ```yaml
    jobs:
      publish:                       # flagged
        runs-on: ubuntu-latest
        permissions:
          id-token: write
        steps:
          - uses: pypa/gh-action-pypi-publish@<sha>
    ```

    ## How to fix
    Create a `release` environment with required reviewers (who may not approve their own
    runs) and deployment tags restricted to release tags, and name it on the job:

    ```yaml
    jobs:
      publish:
        runs-on: ubuntu-latest
        environment: release
    ```
    """

    id = "publish-outside-environment"
    summary = "a job publishes without a deployment environment"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    area = Area.RELEASE

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        for job in workflow.jobs:
            if job.has_environment:
                continue
            publishes = job_publishes(workflow, job)
            if not publishes:
                continue
            first = publishes[0]
            others = len(publishes) - 1
            more = f" (and {others} more publishing steps)" if others else ""
            yield Hit(
                f"job `{job.job_id}` publishes to {first.registry} with {first.what}{more} "
                "but declares no deployment `environment`, so nothing gates the release; "
                "run it in a protected environment such as `release`",
                job.key,
                job.route,
            )
