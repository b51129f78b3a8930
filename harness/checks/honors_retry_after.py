from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict, endpoint


class HonorsRetryAfter(Check):
    """After a response with ``Retry-After: s``, the agent waits at least ``s`` seconds (less
    ``tolerance``) before its next request to the same endpoint."""

    key = "honors_retry_after"
    tolerance: float = Field(0.05, ge=0)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        pending: dict[str, tuple[float, float, str]] = {}  # endpoint → (ended, wait, event)
        bad: list[str] = []
        why: list[str] = []
        checked = 0
        for e in ctx.trace.events:
            if e.kind not in ("llm", "tool"):
                continue
            key = endpoint(e)
            if key in pending:
                ended, wait, source = pending.pop(key)
                checked += 1
                gap = e.start - ended
                if gap < wait - self.tolerance:
                    bad += [source, e.id]
                    why.append(f"waited {gap:.2f} s of {wait:g} s ({source} → {e.id})")
            retry_after = e.data.get("retry_after")
            if retry_after is not None and e.end is not None:
                pending[key] = (e.end, float(retry_after), e.id)
        if not bad:
            return self.verdict(True, f"{checked} retries after Retry-After, all waited enough")
        return self.verdict(False, "Retry-After ignored: " + "; ".join(why[:3]), bad)
