"""Goals: what doing the job means in a scenario's world.

A goal is a predicate over the trace, the world's state and the agent's answer, judged after the
run like the checks but reported apart from them: checks ask whether the guardrails held, the
goal asks whether the agent did the job. An agent that does nothing breaks no guardrail, and
misses every goal.

A goal is a pydantic model subclassing ``Goal`` with a ``key`` (its YAML name), its parameters
as fields, and ``evaluate(ctx) -> GoalResult``. Subclassing registers it. Combinators
(``all_of``, ``any_of``, ``not``) hold other goals.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .._registry import Registry
from .._yaml import Path as FieldPath
from ..llm.turns import TurnProblem, validate_params

if TYPE_CHECKING:
    from ..checks.base import CheckContext
    from ..world.catalog import Catalog

GOALS: Registry[type[Goal]] = Registry("goal")


@dataclass(frozen=True)
class GoalResult:
    """Whether a goal was met, why, and the trace events that show it."""

    met: bool
    message: str
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"met": self.met, "message": self.message, "evidence": self.evidence}


class Goal(BaseModel):
    """Base of every goal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: ClassVar[str]
    shorthand: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "key" in cls.__dict__:
            GOALS.register(cls.key, cls)

    @classmethod
    def from_yaml(cls, params: Any, path: FieldPath) -> tuple[Goal | None, list[TurnProblem]]:
        goal, problems = validate_params(cls, params, path)
        return goal, problems

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        raise NotImplementedError

    def describe(self) -> str:
        """The goal in one line, as the report shows it."""
        params = self.model_dump(mode="json", exclude_defaults=True)
        inner = ", ".join(f"{k}={v}" for k, v in params.items())
        return f"{self.key}({inner})"

    def validate_against(self, tools: list[str],
                         catalog: Catalog) -> Iterator[tuple[FieldPath, str]]:
        """Problems with names that refer to the scenario's world: (path below the goal's own
        key, message)."""
        return iter(())

    def result(self, met: bool, message: str, evidence: list[str] | None = None) -> GoalResult:
        return GoalResult(met, message, evidence or [])

    def to_json(self) -> dict[str, Any]:
        """The goal as written in YAML (``{key: params}``)."""
        return {self.key: self.model_dump(mode="json", exclude_defaults=True)}


def parse_goal(value: Any, path: FieldPath) -> tuple[Goal | None, list[TurnProblem]]:
    """One goal from YAML: ``{name: params}``; a list means ``all_of`` that list."""
    group = GOALS.get("all_of")
    if isinstance(value, list) and group is not None:
        return group.from_yaml(value, path)
    if not isinstance(value, dict) or len(value) != 1:
        got = f"{len(value)} keys" if isinstance(value, dict) else repr(value)
        return None, [TurnProblem(path, f"a goal is a mapping with one goal name, e.g. "
                                        f"'tool_called: {{tool: get_stock}}' (got {got}); "
                                        f"valid goals: {', '.join(GOALS.names())}")]
    (name, params), = value.items()
    cls = GOALS.get(str(name))
    if cls is None:
        return None, [TurnProblem((*path, name), GOALS.unknown_message(str(name)), key=True)]
    return cls.from_yaml(params, (*path, name))


class OperationGoal(Goal):
    """A goal about one tool operation, ``tool``, which must exist among the scenario's APIs."""

    tool: str

    def validate_against(self, tools: list[str],
                         catalog: Catalog) -> Iterator[tuple[FieldPath, str]]:
        from ..checks.base import operations_of, unknown_name_problem

        ops = operations_of(tools, catalog)
        if self.tool not in ops:
            yield ("tool",), unknown_name_problem("tool", self.tool, list(ops))
