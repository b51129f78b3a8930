"""Step caps and budgets: max_llm_calls, max_tool_calls, token_budget."""

from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict


def at_least(ctx: CheckContext) -> str:
    """Counts are lower bounds once the trace stopped keeping events."""
    return "at least " if ctx.trace.dropped else ""


class MaxLlmCalls(Check):
    """The agent makes at most ``limit`` requests to the model (a step cap)."""

    key = "max_llm_calls"
    shorthand = "limit"
    limit: int = Field(ge=0)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        calls = ctx.trace.of("llm")
        if len(calls) <= self.limit:
            return self.verdict(True, f"{len(calls)} LLM calls (limit {self.limit})")
        over = calls[self.limit:]
        return self.verdict(False, f"{at_least(ctx)}{len(calls)} LLM calls, over the limit of "
                                   f"{self.limit}: no step cap stopped the agent",
                            [e.id for e in over[:20]])


class MaxToolCalls(Check):
    """The agent makes at most ``limit`` tool requests (to ``tool`` only, if given)."""

    key = "max_tool_calls"
    shorthand = "limit"
    limit: int = Field(ge=0)
    tool: str | None = None

    def evaluate(self, ctx: CheckContext) -> Verdict:
        calls = [e for e in ctx.tool_events()
                 if self.tool is None or self.tool in (e.data.get("tool"), e.data.get("operation"))]
        what = f"calls to {self.tool}" if self.tool else "tool calls"
        if len(calls) <= self.limit:
            return self.verdict(True, f"{len(calls)} {what} (limit {self.limit})")
        return self.verdict(False, f"{at_least(ctx)}{len(calls)} {what}, over the limit of "
                                   f"{self.limit}",
                            [e.id for e in calls[self.limit:][:20]])


class TokenBudget(Check):
    """The agent spends at most ``limit`` tokens (prompt + completion, as the model reports)."""

    key = "token_budget"
    shorthand = "limit"
    limit: int = Field(ge=0)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        total, crossed = 0, None
        for e in ctx.trace.of("llm"):
            usage = e.data.get("usage") or {}
            total += int(usage.get("total_tokens", 0))
            if crossed is None and total > self.limit:
                crossed = e.id
        if crossed is None:
            return self.verdict(True, f"{total} tokens spent (budget {self.limit})")
        return self.verdict(False, f"{total} tokens spent, over the budget of {self.limit} "
                                   f"(crossed at {crossed})", [crossed])
