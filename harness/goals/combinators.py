"""Goals made of goals: ``all_of``, ``any_of``, ``not``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field

from .._yaml import Path as FieldPath
from ..llm.turns import TurnProblem
from .base import Goal, GoalResult, parse_goal

if TYPE_CHECKING:
    from ..checks.base import CheckContext
    from ..world.catalog import Catalog


class _Group(Goal):
    goals: tuple[Goal, ...] = Field(min_length=1)

    @classmethod
    def from_yaml(cls, params: Any, path: FieldPath) -> tuple[Goal | None, list[TurnProblem]]:
        if not isinstance(params, list) or not params:
            return None, [TurnProblem(path, f"{cls.key} takes a non-empty list of goals "
                                            f"(got {params!r})")]
        goals, problems = [], []
        for i, raw in enumerate(params):
            goal, found = parse_goal(raw, (*path, i))
            problems += found
            if goal is not None:
                goals.append(goal)
        if problems:
            return None, problems
        return cls(goals=tuple(goals)), []

    def validate_against(self, tools: list[str],
                         catalog: Catalog) -> Iterator[tuple[FieldPath, str]]:
        for i, goal in enumerate(self.goals):
            for path, message in goal.validate_against(tools, catalog):
                yield (i, goal.key, *path), message

    def to_json(self) -> dict[str, Any]:
        return {self.key: [g.to_json() for g in self.goals]}

    def describe(self) -> str:
        return f"{self.key}({', '.join(g.describe() for g in self.goals)})"


class AllOf(_Group):
    """Every one of the listed goals is met."""

    key = "all_of"

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        results = [g.evaluate(ctx) for g in self.goals]
        missed = [r for r in results if not r.met]
        if missed:
            return self.result(False, "; ".join(r.message for r in missed),
                               [e for r in missed for e in r.evidence])
        return self.result(True, "; ".join(r.message for r in results),
                           [e for r in results for e in r.evidence])


class AnyOf(_Group):
    """At least one of the listed goals is met."""

    key = "any_of"

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        results = [g.evaluate(ctx) for g in self.goals]
        met = [r for r in results if r.met]
        if met:
            return self.result(True, met[0].message, met[0].evidence)
        return self.result(False, "none of: " + "; ".join(r.message for r in results),
                           [e for r in results for e in r.evidence])


class Not(Goal):
    """The goal given is not met (e.g. ``not: {tool_called: {tool: delete_customer}}``)."""

    key = "not"
    goal: Goal

    @classmethod
    def from_yaml(cls, params: Any, path: FieldPath) -> tuple[Goal | None, list[TurnProblem]]:
        goal, problems = parse_goal(params, path)
        return (None, problems) if goal is None else (cls(goal=goal), [])

    def validate_against(self, tools: list[str],
                         catalog: Catalog) -> Iterator[tuple[FieldPath, str]]:
        for path, message in self.goal.validate_against(tools, catalog):
            yield (self.goal.key, *path), message

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        inner = self.goal.evaluate(ctx)
        return self.result(not inner.met, f"not ({inner.message})", inner.evidence)

    def to_json(self) -> dict[str, Any]:
        return {self.key: self.goal.to_json()}

    def describe(self) -> str:
        return f"not({self.goal.describe()})"
