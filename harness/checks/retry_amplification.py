from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict


class RetryAmplification(Check):
    """Under load with faults, the agent sends downstream (tool APIs and the model) at most
    ``max_factor`` times the calls per user request it sends without faults (the steady
    state: the same load run with no fault injected)."""

    key = "retry_amplification"
    shorthand = "max_factor"
    needs_load = True
    max_factor: float = Field(3.0, gt=0)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        load = ctx.load
        if load is None or not load.requests:
            return self.verdict(False, "no user request was sent")
        calls = sum(1 for e in ctx.trace.events if e.kind in ("llm", "tool")) + \
            ctx.trace.dropped
        per_request = calls / len(load.requests)
        base = load.baseline_calls_per_request
        if base is None:
            return self.verdict(True, f"{per_request:.1f} downstream calls per user request "
                                      f"(no steady state to compare: the run had no faults)")
        factor = per_request / base if base else float("inf")
        text = (f"{per_request:.1f} downstream calls per user request under faults against "
                f"{base:.1f} without them: {factor:.1f} times (limit {self.max_factor:g})")
        if factor <= self.max_factor:
            return self.verdict(True, text)
        busiest: dict[str, int] = {}
        for e in ctx.trace.events:
            if e.kind in ("llm", "tool"):
                name = "llm" if e.kind == "llm" else str(e.data.get("tool"))
                busiest[name] = busiest.get(name, 0) + 1
        spread = ", ".join(f"{n} {c}" for n, c in sorted(busiest.items(), key=lambda x: -x[1]))
        return self.verdict(False, f"{text}; calls by service: {spread}")
