from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict, unknown_name_problem


class MaxConcurrency(Check):
    """All agents together never have more than ``limit`` requests to ``tool`` in flight."""

    key = "max_concurrency"
    tool: str
    limit: int = Field(ge=1)

    def validate_against(self, tools: list[str], catalog: object) -> list[str]:
        return [] if self.tool in tools else [unknown_name_problem("tool API", self.tool, tools)]

    def evaluate(self, ctx: CheckContext) -> Verdict:
        events = [e for e in ctx.tool_events() if e.data.get("tool") == self.tool]
        edges = sorted([(e.start, 1, e.id) for e in events] +
                       [(e.end if e.end is not None else ctx.ended, -1, e.id) for e in events],
                       key=lambda x: (x[0], x[1]))
        live: set[str] = set()
        peak: set[str] = set()
        at = 0.0
        for moment, change, eid in edges:
            if change > 0:
                live.add(eid)
                if len(live) > len(peak):
                    peak, at = set(live), moment
            else:
                live.discard(eid)
        if len(peak) <= self.limit:
            return self.verdict(True, f"at most {len(peak)} requests to {self.tool} at once "
                                      f"(limit {self.limit})")
        byid = {e.id: e for e in events}
        convs = sorted({str(byid[i].data.get("conversation")) for i in peak
                        if byid[i].data.get("conversation")})
        where = f", serving {', '.join(convs[:6])}" if convs else ""
        return self.verdict(False, f"{len(peak)} requests to {self.tool} in flight at once at "
                                   f"{at:.2f} s (limit {self.limit}){where}",
                            sorted(peak, key=lambda i: byid[i].start)[:8])
