from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Severity, Verdict


class Terminates(Check):
    """The agent finishes by itself, within the scenario's timeout (or ``within`` seconds)."""

    key = "terminates"
    shorthand = "within"
    severity: Severity = Severity.CRITICAL
    within: float | None = Field(None, gt=0)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        out = ctx.outcome
        if out.status == "timeout":
            return self.verdict(False, f"the agent was still running at the {ctx.timeout:g} s "
                                       f"time limit and was stopped",
                                [e.id for e in ctx.trace.events[-3:]])
        if out.status == "memory":
            return self.verdict(False, f"the agent {out.stopped()}",
                                [e.id for e in ctx.trace.events[-3:]])
        if self.within is not None and out.duration > self.within:
            return self.verdict(False, f"the agent took {out.duration:.1f} s "
                                       f"(expected within {self.within:g} s)")
        return self.verdict(True, f"the agent finished ({out.status})")
