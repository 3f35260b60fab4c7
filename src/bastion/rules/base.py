"""What a rule is: metadata, options, and hooks that yield hits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from bastion.findings import Area, Confidence, Severity, Span
from bastion.source.yaml import Node, node_span

if TYPE_CHECKING:  # the models a hook is given; a run imports only those of its files
    from bastion.model.gaps import Context, Gap
    from bastion.model.graph import Node as GraphNode
    from bastion.model.lockfile import Lockfile
    from bastion.model.repository import Repository
    from bastion.model.updaters import Dependabot, PreCommit, Renovate
    from bastion.model.workflow import Action, Workflow
    from bastion.source.json5 import JsonNode


class Hit(NamedTuple):
    """One place a rule found its pattern. The engine turns it into a Finding."""

    message: str
    node: Node | JsonNode
    """A YAML node (workflows, actions, Dependabot, pre-commit) or a JSON5 node (Renovate)."""
    route: str
    severity: Severity | None = None
    """Overrides the rule's default severity for this hit."""
    confidence: Confidence | None = None
    span: Span | None = None
    """A more exact place than the node's own span (an expression inside a script)."""


class RepositoryHit(NamedTuple):
    """A finding about a repository as a whole, pointed at one of its files."""

    message: str
    path: str
    """The display path of the file the finding points at."""
    span: Span
    route: str = ""
    severity: Severity | None = None
    confidence: Confidence | None = None


def gap_of(hit: Hit, file: str) -> Gap:
    """A hit of a file hook, found in the called file ``file``, as a gap of its node."""
    from bastion.model.gaps import Gap  # graph audits only

    span = hit.span
    if span is None:
        assert isinstance(hit.node, Node)
        span = node_span(hit.node)
    return Gap(hit.message, file, span, hit.route, hit.severity, hit.confidence)


OptionValue = bool | int | str | tuple[str, ...]


class Option(NamedTuple):
    """A per-rule setting, read from ``[tool.bastion.rules.RULE-ID]``."""

    name: str
    default: OptionValue
    help: str


class Rule:
    """Base class. A subclass's docstring is its documentation page (``bastion explain``)."""

    id: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[Severity]
    confidence: ClassVar[Confidence]
    area: ClassVar[Area] = Area.CICD
    options: ClassVar[Sequence[Option]] = ()
    checks_files: ClassVar[bool] = True
    """False for rules judged elsewhere: online verification of pins (`check --online`) and
    settings read through the GitHub API (`bastion repo`/`org`). The engine skips them."""

    def __init__(self, settings: Mapping[str, OptionValue] | None = None) -> None:
        self.settings: dict[str, OptionValue] = {o.name: o.default for o in self.options}
        self.settings.update(settings or {})

    def check_workflow(self, workflow: Workflow) -> Iterator[Hit]:
        return iter(())

    def check_action(self, action: Action) -> Iterator[Hit]:
        return iter(())

    def check_dependabot(self, config: Dependabot) -> Iterator[Hit]:
        return iter(())

    def check_renovate(self, config: Renovate) -> Iterator[Hit]:
        return iter(())

    def check_pre_commit(self, config: PreCommit) -> Iterator[Hit]:
        return iter(())

    def check_lockfile(self, lockfile: Lockfile) -> Iterator[Hit]:
        """Runs on a repository's ``.github/workflows/actions.lock`` that GitHub can read."""
        return iter(())

    def check_repository(self, repository: Repository) -> Iterator[RepositoryHit]:
        """Runs once per directory walked as a repository, after its files were found."""
        return iter(())

    def check_node(self, node: GraphNode, context: Context) -> Iterator[Gap]:
        """Graph audits only (`check --graph`, `bastion graph`): a called action or reusable
        workflow, in the context of a job that reaches it. The file pass never calls it."""
        return iter(())

    @classmethod
    def documentation(cls) -> str:
        import inspect  # `bastion explain` and the docs only

        return inspect.cleandoc(cls.__doc__ or cls.summary)

    def setting_bool(self, name: str) -> bool:
        return bool(self.settings[name])

    def setting_int(self, name: str) -> int:
        value = self.settings[name]
        assert isinstance(value, int)
        return value

    def setting_list(self, name: str) -> tuple[str, ...]:
        value = self.settings[name]
        assert isinstance(value, tuple)
        return value
