"""CPU seconds of each rule of `bastion check --jobs 1`, in this process.

    python bench/rules.py ../shared/corpus/current/*        # every rule, costliest first
    python bench/rules.py --top 10 --rounds 5 ../shared/corpus/current/*

Each rule's file and repository hooks (`check_workflow`, `check_action`, ...) are wrapped
so that the hits they yield are drawn inside a timer; a rule is charged for what it
computes, including per-file facts it is the first to ask the model for (later rules then
find them cached). The last line is the whole rules phase: the sum over rules. With
``--rounds N``, each round runs in a fresh process (so no cache is warm) and each rule's
figure is its least over the rounds, the one other load on the machine disturbed least.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence

from bastion import engine
from bastion.config import Config
from bastion.inputs import collect
from bastion.rules import RULES, Rule

HOOKS = (
    "check_workflow",
    "check_action",
    "check_dependabot",
    "check_renovate",
    "check_pre_commit",
    "check_lockfile",
    "check_repository",
)


def _timed(
    rule: type[Rule], hook: Callable[..., Iterator[object]], spent: dict[str, float]
) -> Callable[..., Iterator[object]]:
    def measured(self: Rule, *arguments: object) -> Iterator[object]:
        start = time.process_time()
        hits = list(hook(self, *arguments))
        spent[rule.id] = spent.get(rule.id, 0.0) + time.process_time() - start
        return iter(hits)

    return measured


def per_rule(paths: Sequence[str]) -> dict[str, float]:
    """CPU seconds spent in each rule's hooks over one check of ``paths``."""
    spent: dict[str, float] = {}
    for rule in RULES:
        for name in HOOKS:
            hook = rule.__dict__.get(name)
            if hook is not None:
                setattr(rule, name, _timed(rule, hook, spent))
    engine.run(collect(list(paths)), Config(), jobs=1)
    return spent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--top", type=int, default=0, help="only the N costliest rules")
    parser.add_argument("--rounds", type=int, default=1, help="fresh processes; least kept")
    parser.add_argument("--json", action="store_true", help="one round's raw figures")
    arguments = parser.parse_args(argv)
    if arguments.json:
        print(json.dumps(per_rule(arguments.paths)))
        return 0
    rounds = [
        json.loads(subprocess.run(
            [sys.executable, __file__, "--json", *arguments.paths],
            check=True, capture_output=True, text=True,
        ).stdout)
        for _ in range(arguments.rounds)
    ]  # fmt: skip
    spent = {rule: min(r.get(rule, 0.0) for r in rounds) for rule in rounds[0]}
    phase = min(sum(r.values()) for r in rounds)
    ranked = sorted(spent.items(), key=lambda item: -item[1])
    for rule_id, seconds in ranked[: arguments.top or None]:
        print(f"{seconds:7.3f}  {rule_id}")
    print(f"{phase:7.3f}  rules phase (least total of {arguments.rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
