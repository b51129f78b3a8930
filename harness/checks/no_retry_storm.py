from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict, endpoint, failed


class NoRetryStorm(Check):
    """After failures (429, 5xx, timeouts) the agent retries one endpoint at most
    ``max_retries`` times in a row before giving up or succeeding."""

    key = "no_retry_storm"
    shorthand = "max_retries"
    max_retries: int = Field(3, ge=0)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        streak: dict[str, list[str]] = {}
        last_failed: dict[str, bool] = {}
        worst: list[str] = []
        worst_at = ""
        for e in ctx.trace.events:
            if e.kind not in ("llm", "tool"):
                continue
            key = endpoint(e)
            if last_failed.get(key):
                streak.setdefault(key, []).append(e.id)
                if len(streak[key]) > len(worst):
                    worst, worst_at = list(streak[key]), key
            else:
                streak[key] = []
            last_failed[key] = failed(e)
        if len(worst) <= self.max_retries:
            return self.verdict(True, f"at most {len(worst)} retries in a row "
                                      f"(limit {self.max_retries})")
        return self.verdict(False, f"{len(worst)} retries in a row to {worst_at} after failures "
                                   f"(limit {self.max_retries}): a retry storm", worst)
