from __future__ import annotations

from pydantic import Field

from ..load.data import percentile
from .base import Check, CheckContext, Verdict


class TokensPerTask(Check):
    """Under load, the tokens (prompt and completion) one task costs stay within ``p95`` for
    95 % of the conversations."""

    key = "tokens_per_task"
    shorthand = "p95"
    needs_load = True
    p95: int = Field(ge=1)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        load = ctx.load
        tokens = load.tokens() if load is not None else {}
        if not tokens:
            return self.verdict(False, "no conversation reached the model")
        value = percentile([float(v) for v in tokens.values()], 0.95) or 0.0
        if value <= self.p95:
            return self.verdict(True, f"p95 of {value:.0f} tokens per task over "
                                      f"{len(tokens)} conversations (limit {self.p95})")
        top = sorted(tokens.items(), key=lambda kv: -kv[1])[:3]
        return self.verdict(False, f"p95 of {value:.0f} tokens per task (limit {self.p95}); "
                                   f"the costliest: " + ", ".join(f"{t} {n}" for t, n in top))
