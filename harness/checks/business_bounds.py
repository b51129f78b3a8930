from __future__ import annotations

from typing import Any

from pydantic import model_validator

from .base import Check, CheckContext, Severity, Verdict, operations_of, unknown_name_problem


class BusinessBounds(Check):
    """Every record written through ``tool`` (a tool API or one operation) keeps ``field``
    within [``min``, ``max``]. The API accepts absurd-but-valid values; the agent must not."""

    key = "business_bounds"
    severity: Severity = Severity.CRITICAL
    tool: str
    field: str
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> BusinessBounds:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        return self

    def validate_against(self, tools: list[str], catalog: Any) -> list[str]:
        names = list(tools) + list(operations_of(tools, catalog))
        return [] if self.tool in names else [unknown_name_problem("tool", self.tool, names)]

    def evaluate(self, ctx: CheckContext) -> Verdict:
        bad, seen = [], 0
        for state in ctx.tools.values():
            for write in state.audit:
                if self.tool not in (write.tool, write.operation) or write.after is None:
                    continue
                value = write.after.get(self.field)
                if not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                seen += 1
                if (self.min is not None and value < self.min) or \
                        (self.max is not None and value > self.max):
                    bad.append((write.event, value))
        bounds = f"[{'-inf' if self.min is None else f'{self.min:g}'}, " \
                 f"{'inf' if self.max is None else f'{self.max:g}'}]"
        if not bad:
            return self.verdict(True, f"{seen} writes of {self.field}, all within {bounds}")
        shown = ", ".join(f"{v:g} ({ev})" for ev, v in bad[:3])
        return self.verdict(False, f"{self.tool} wrote {self.field} outside {bounds}: {shown}",
                            [ev for ev, _ in bad])
