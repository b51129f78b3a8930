from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..checks.base import describe_call, executed
from .base import GoalResult, OperationGoal

if TYPE_CHECKING:
    from ..checks.base import CheckContext


class ToolCalled(OperationGoal):
    """The tool API carried out ``tool`` (an operation name), optionally with ``arguments``
    (a subset match), exactly ``times`` times if given (else at least once). Replays of an
    idempotent write do not count again."""

    key = "tool_called"
    shorthand = "tool"
    arguments: dict[str, Any] = Field(default_factory=dict)
    times: int | None = Field(None, ge=0)

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        done = []
        for e in ctx.tool_events():
            args = e.data.get("arguments")
            if e.data.get("operation") != self.tool or not executed(e) or e.data.get("replayed"):
                continue
            if all(isinstance(args, dict) and args.get(k) == v
                   for k, v in self.arguments.items()):
                done.append(e)
        what = self.tool + (f" with {self.arguments}" if self.arguments else "")
        ids = [e.id for e in done]
        if self.times is None:
            if done:
                return self.result(True, f"{what} was carried out: {describe_call(done[0])}", ids)
            return self.result(False, f"{what} was never carried out")
        return self.result(len(done) == self.times,
                           f"{what} was carried out {len(done)} times (goal: {self.times})", ids)
