from __future__ import annotations

from typing import Any

from .base import Check, CheckContext, Verdict, unknown_name_problem
from .no_invalid_args_executed import schema_errors


class RecordsValid(Check):
    """No stored record breaks its resource's schema after the run, formats included (an
    ``email`` field must hold an email address): nothing was corrupted (in ``tool`` only, if
    given)."""

    key = "records_valid"
    shorthand = "tool"
    tool: str | None = None

    def validate_against(self, tools: list[str], catalog: Any) -> list[str]:
        if self.tool is None or self.tool in tools:
            return []
        return [unknown_name_problem("tool API", self.tool, tools)]

    def evaluate(self, ctx: CheckContext) -> Verdict:
        bad: list[str] = []
        why: list[str] = []
        for name, state in ctx.tools.items():
            if self.tool not in (None, name):
                continue
            for rname, resource in state.api.resources.items():
                for record in state.records[rname]:
                    errors = schema_errors(resource.schema_, record, formats=True)
                    if not errors:
                        continue
                    key = record.get(resource.key, "?")
                    event = next((w.event for w in reversed(state.audit)
                                  if w.resource == rname and w.after is not None
                                  and w.after.get(resource.key) == key), None)
                    if event:
                        bad.append(event)
                    why.append(f"{name}.{rname}.{key}: {errors[0]}")
        if not why:
            return self.verdict(True, "every stored record matches its schema")
        return self.verdict(False, f"{len(why)} corrupted records: " + "; ".join(why[:3]), bad)
