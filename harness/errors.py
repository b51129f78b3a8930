"""The one exception tree of pytest-agent-chaos.

- ``ChaosError``: base of everything the harness raises on purpose.
- ``ScenarioError``: a scenario file (or a Python-built scenario) is invalid; carries every
  problem found, each with file, line, column and field path.
- ``AgentConfigError``: an agent spec cannot be resolved (bad ``module:attr``, missing command).
- ``ChecksFailed``: an ``AssertionError``: the agent under test broke one or more guardrails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["AgentConfigError", "ChaosError", "ChecksFailed", "Problem", "ScenarioError"]


class ChaosError(Exception):
    """Base class of the errors the harness raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One mistake in a scenario: where it is and what is wrong."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class ScenarioError(ChaosError):
    """A scenario is invalid. ``problems`` lists every mistake found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class AgentConfigError(ChaosError):
    """An agent spec (``NAME=module:attr`` or a command) cannot be resolved."""


class ChecksFailed(AssertionError):
    """The agent under test broke guardrails; ``str()`` lists the failed checks with evidence."""
