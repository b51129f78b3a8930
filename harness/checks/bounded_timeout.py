from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict, describe_call, fault_note
from .base import calls as agent_calls


class BoundedTimeout(Check):
    """When a call stalls (a hung or crawling service: a timeout, latency or bandwidth fault,
    a slow body, a hung model), the agent gives up on it within ``within`` seconds: its next
    request, or its answer, comes no later than that after the call began."""

    key = "bounded_timeout"
    shorthand = "within"
    within: float = Field(gt=0, le=3600, description="seconds the agent may wait on one call")

    def evaluate(self, ctx: CheckContext) -> Verdict:
        calls = agent_calls(ctx)
        activity = [e for e in ctx.trace.events if e.kind in ("llm", "tool", "approval")]
        stalled = [e for e in calls if e.data.get("effect") in ("slow", "lost")
                   or e.data.get("hang")]
        worst = 0.0
        bad: list[str] = []
        why: list[str] = []
        for e in stalled:
            later = [a.start for a in activity if a.start > e.start]
            waited = (min(later) if later else ctx.ended) - e.start
            worst = max(worst, waited)
            if waited > self.within:
                bad.append(e.id)
                what = f"the model [{e.id}]" if e.kind == "llm" else describe_call(e)
                until = " until it was stopped" if not later and \
                    ctx.outcome.status == "timeout" else ""
                why.append(f"waited {waited:.1f} s{until} on {what}{fault_note(ctx, e)}")
        if not stalled:
            return self.verdict(True, "no call stalled")
        if not bad:
            return self.verdict(True, f"gave up on or got through {len(stalled)} stalled "
                                      f"call(s) within {worst:.1f} s (limit {self.within:g} s)")
        return self.verdict(False, f"no bounded timeout (limit {self.within:g} s): "
                                   + "; ".join(why[:3]), bad)

