from __future__ import annotations

from ..trace import Event
from .base import Check, CheckContext, Verdict, calls, describe_call, executed


def _cut(event: Event) -> bool:
    """A streamed model reply that a fault cut or spoiled before its final event."""
    return (event.kind == "llm" and event.data.get("stream") is True
            and event.data.get("status") == 200
            and event.data.get("effect") in ("lost", "corrupt"))


class NoTruncatedStreamAccepted(Check):
    """A streamed model reply cut before its final event (the connection reset, the data
    limited, the answer lost) is not taken as a whole: the agent does not carry out a tool call
    before asking the model again, and does not give the cut text as its answer."""

    key = "no_truncated_stream_accepted"

    def evaluate(self, ctx: CheckContext) -> Verdict:
        sequence = calls(ctx)
        cut = [e for e in sequence if _cut(e)]
        if not cut:
            return self.verdict(True, "no streamed reply was cut")
        for e in cut:
            after = sequence[sequence.index(e) + 1:]
            nxt = after[0] if after else None
            if nxt is not None and nxt.kind == "tool" and executed(nxt):
                return self.verdict(False, f"the streamed reply [{e.id}] was cut, and the "
                                           f"agent acted on it without asking the model "
                                           f"again: {describe_call(nxt)}", [e.id, nxt.id])
            if nxt is None:
                answer = (ctx.outcome.output or "").strip()
                said = str((e.data.get("reply") or {}).get("content") or "")
                if ctx.outcome.status == "completed" and answer and answer in said:
                    return self.verdict(False, f"the streamed reply [{e.id}] was cut, and the "
                                               f"agent gave the cut text as its answer: "
                                               f"{answer[:80]!r}", [e.id])
        return self.verdict(True, f"streamed replies cut: {len(cut)}; the agent asked again "
                                  f"or stopped, and took none as whole")
