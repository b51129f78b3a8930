from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict, unknown_name_problem


class FleetRateLimit(Check):
    """All agents together send ``tool`` at most ``max_rps`` requests a second, over any
    sliding window of ``window`` seconds (refused requests count: they still reached it)."""

    key = "fleet_rate_limit"
    tool: str
    max_rps: float = Field(gt=0)
    window: float = Field(1.0, gt=0, le=3600)

    def validate_against(self, tools: list[str], catalog: object) -> list[str]:
        return [] if self.tool in tools else [unknown_name_problem("tool API", self.tool, tools)]

    def evaluate(self, ctx: CheckContext) -> Verdict:
        events = sorted((e for e in ctx.tool_events() if e.data.get("tool") == self.tool),
                        key=lambda e: e.start)
        worst, worst_at, lo = 0, 0, 0
        for hi, e in enumerate(events):
            while events[lo].start <= e.start - self.window:
                lo += 1
            if hi - lo + 1 > worst:
                worst, worst_at = hi - lo + 1, lo
        rate = worst / self.window
        if rate <= self.max_rps:
            return self.verdict(True, f"{self.tool} got at most {rate:g} requests a second over "
                                      f"{self.window:g} s (limit {self.max_rps:g})")
        burst = events[worst_at:worst_at + worst]
        convs = sorted({str(e.data.get("conversation")) for e in burst
                        if e.data.get("conversation")})
        refused = sum(1 for e in burst if e.data.get("status") in (429, 503))
        where = f" from conversations {', '.join(convs[:6])}" if convs else ""
        return self.verdict(False, (
            f"{self.tool} got {worst} requests in {self.window:g} s ({rate:g}/s, limit "
            f"{self.max_rps:g}) between {burst[0].start:.2f} s and {burst[-1].start:.2f} s"
            f"{where}; {refused} of them refused with 429/503"), [e.id for e in burst[:8]])
