from __future__ import annotations

from .base import Check, CheckContext, Severity, Verdict, describe_call


class NoUnknownToolExecuted(Check):
    """No tool the agent never offered the model reaches a tool API (a hallucinated name must
    be refused by the agent, not dispatched)."""

    key = "no_unknown_tool_executed"
    severity: Severity = Severity.CRITICAL

    def evaluate(self, ctx: CheckContext) -> Verdict:
        bad = [e for e in ctx.tool_events()
               if e.data.get("operation") not in ctx.offered_before(e)]
        if not bad:
            return self.verdict(True, "every tool request was for a tool the model was offered")
        names = ", ".join(describe_call(e) for e in bad[:5])
        return self.verdict(False, f"the agent sent requests for tools it never offered: {names}",
                            [e.id for e in bad])
