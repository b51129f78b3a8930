from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from .._yaml import Path as FieldPath
from ..checks.base import unknown_name_problem
from .base import Goal, GoalResult

if TYPE_CHECKING:
    from ..checks.base import CheckContext
    from ..world.catalog import Catalog


class RecordWritten(Goal):
    """The world's audit holds a write to ``tool`` (a tool API), on ``resource`` if given,
    whose record has the fields in ``where`` (compared as text: 40 matches "40"); ``action``
    narrows it to create, update or delete (a delete matches on the record removed)."""

    key = "record_written"
    tool: str
    resource: str | None = None
    where: dict[str, Any] = Field(default_factory=dict)
    action: Literal["create", "update", "delete"] | None = None

    def validate_against(self, tools: list[str],
                         catalog: Catalog) -> Iterator[tuple[FieldPath, str]]:
        if self.tool not in tools:
            yield ("tool",), unknown_name_problem("tool API", self.tool, tools)
        elif self.resource is not None and \
                self.resource not in catalog.tools[self.tool].resources:
            yield ("resource",), unknown_name_problem(
                "resource", self.resource, list(catalog.tools[self.tool].resources))

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        state = ctx.tools.get(self.tool)
        what = f"{self.action or 'write'} of {self.tool}.{self.resource or '*'}" + \
            (f" where {self.where}" if self.where else "")
        found = []
        for write in state.audit if state is not None else []:
            record = write.before if write.action == "delete" else write.after
            if self.resource not in (None, write.resource) or \
                    self.action not in (None, write.action) or record is None:
                continue
            if all(k in record and str(record[k]) == str(v) for k, v in self.where.items()):
                found.append(write.event)
        if found:
            return self.result(True, f"{what}: {len(found)} in the audit ({found[0]})", found)
        writes = len(state.audit) if state is not None else 0
        return self.result(False, f"no {what} in the audit ({writes} other writes)")
