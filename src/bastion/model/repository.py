"""What the repository-level checks look at: the files one walked directory holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bastion.model.updaters import Dependabot, Renovate


class Repository:
    """What a directory walked as a repository holds, by display path, in collection order.

    Only the files collection found count: a file excluded by the configuration or a
    .gitignore is absent here too.
    """

    __slots__ = ("configs", "dependabot", "pre_commit", "renovate", "root", "workflows")

    def __init__(
        self,
        root: str,
        *,
        workflows: tuple[str, ...],
        dependabot: tuple[str, ...],
        renovate: tuple[str, ...],
        pre_commit: tuple[str, ...],
        configs: tuple[Dependabot | Renovate, ...] = (),
    ) -> None:
        self.root = root
        self.workflows = workflows
        self.dependabot = dependabot
        self.renovate = renovate
        """Renovate files, and a package.json whose ``renovate`` key holds a configuration."""
        self.pre_commit = pre_commit
        self.configs = configs
        """The updater configurations that could be read (a file with a syntax error is
        missing here but still listed in ``dependabot`` or ``renovate``)."""

    @property
    def updaters(self) -> tuple[str, ...]:
        return self.dependabot + self.renovate
