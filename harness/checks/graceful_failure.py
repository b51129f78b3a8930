from __future__ import annotations

from .base import Check, CheckContext, Verdict


class GracefulFailure(Check):
    """When things go wrong the agent reports it in its answer instead of crashing."""

    key = "graceful_failure"

    def evaluate(self, ctx: CheckContext) -> Verdict:
        out = ctx.outcome
        if out.status == "crashed":
            return self.verdict(False, f"the agent crashed: {out.error or 'no error message'}",
                                [e.id for e in ctx.trace.events[-1:]])
        stopped = out.stopped()
        if stopped is not None:
            return self.verdict(False, f"the agent never answered: it {stopped}")
        if not (out.output or "").strip():
            return self.verdict(False, "the agent returned an empty answer")
        return self.verdict(True, "the agent returned an answer")
