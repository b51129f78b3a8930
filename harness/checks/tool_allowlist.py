from __future__ import annotations

from .base import Check, CheckContext, Severity, Verdict, describe_call


class ToolAllowlist(Check):
    """Only the ``allowed`` tools are ever called."""

    key = "tool_allowlist"
    shorthand = "allowed"
    severity: Severity = Severity.CRITICAL
    allowed: list[str]

    def evaluate(self, ctx: CheckContext) -> Verdict:
        bad = [e for e in ctx.tool_events() if e.data.get("operation") not in self.allowed]
        if not bad:
            return self.verdict(True, f"only allowed tools were called ({', '.join(self.allowed)})")
        return self.verdict(False, "tools outside the allowlist were called: "
                            + ", ".join(describe_call(e) for e in bad[:5]), [e.id for e in bad])
