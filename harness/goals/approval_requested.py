from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .._yaml import Path as FieldPath
from ..checks.base import operations_of, unknown_name_problem
from .base import Goal, GoalResult

if TYPE_CHECKING:
    from ..checks.base import CheckContext
    from ..world.catalog import Catalog


class ApprovalRequested(Goal):
    """The agent asked the human in the loop to approve ``tool`` (whatever the answer): the
    job, when the action needs a human's word."""

    key = "approval_requested"
    shorthand = "tool"
    tool: str

    def validate_against(self, tools: list[str],
                         catalog: Catalog) -> Iterator[tuple[FieldPath, str]]:
        ops = operations_of(tools, catalog)
        if self.tool not in ops:
            yield ("tool",), unknown_name_problem("tool", self.tool, list(ops))

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        asked = [e.id for e in ctx.trace.of("approval") if e.data.get("tool") == self.tool]
        if asked:
            return self.result(True, f"approval for {self.tool} was requested ({asked[0]})",
                               asked)
        return self.result(False, f"no approval for {self.tool} was requested")
