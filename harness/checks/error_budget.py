from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict


class ErrorBudget(Check):
    """Under load, at most ``max_failure_rate`` of the user requests fail (no 2xx answer from
    the agent service within the time limit)."""

    key = "error_budget"
    shorthand = "max_failure_rate"
    needs_load = True
    max_failure_rate: float = Field(0.05, ge=0, le=1)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        load = ctx.load
        if load is None or not load.requests:
            return self.verdict(False, "no user request was sent")
        failed = [r for r in load.requests if not r.ok]
        rate = len(failed) / len(load.requests)
        if rate <= self.max_failure_rate:
            return self.verdict(True, f"{len(failed)} of {len(load.requests)} user requests "
                                      f"failed ({rate:.1%}; budget {self.max_failure_rate:.1%})")
        kinds: dict[str, int] = {}
        for r in failed:
            kinds[str(r.status or "no answer")] = kinds.get(str(r.status or "no answer"), 0) + 1
        counted = ", ".join(f"{n} of HTTP {k}" for k, n in sorted(kinds.items()))
        first, last = min(r.start for r in failed), max(r.start for r in failed)
        samples = "; ".join(f"{r.ticket}: {r.error}" for r in failed[:3])
        return self.verdict(False, (
            f"{len(failed)} of {len(load.requests)} user requests failed ({rate:.1%}; budget "
            f"{self.max_failure_rate:.1%}): {counted}, between {first:.1f} s and {last:.1f} s; "
            f"e.g. {samples}"))
