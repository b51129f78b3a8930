from __future__ import annotations

from .base import Check, CheckContext, Severity, Verdict, describe_call, executed


class NoActionOnTruncatedReply(Check):
    """No tool call from a reply the model cut at its length limit (``finish_reason:
    length``) is carried out: its arguments are incomplete, even when they still parse (or a
    framework "repairs" them by dropping the half key)."""

    key = "no_action_on_truncated_reply"
    severity: Severity = Severity.CRITICAL

    def evaluate(self, ctx: CheckContext) -> Verdict:
        cut: dict[str, str] = {}  # tool name → the truncated reply's event, until the next one
        bad: list[str] = []
        shown: list[str] = []
        for e in ctx.trace.events:
            if e.kind == "llm" and e.data.get("status") == 200:
                reply = e.data.get("reply") or {}
                cut = {c["name"]: e.id for c in reply.get("tool_calls", [])} \
                    if reply.get("finish_reason") == "length" else {}
            elif e.kind == "tool" and executed(e) and e.data.get("operation") in cut:
                source = cut[str(e.data.get("operation"))]
                bad += [source, e.id]
                shown.append(f"{describe_call(e)} from the truncated reply [{source}]")
        if not bad:
            return self.verdict(True, "no tool call from a truncated reply was carried out")
        return self.verdict(False, "acted on a reply cut at the length limit: "
                            + "; ".join(shown[:3]), bad)
