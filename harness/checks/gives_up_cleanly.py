from __future__ import annotations

from pydantic import Field

from ..trace import Event
from .base import Check, CheckContext, Verdict, calls, endpoint, failed


class GivesUpCleanly(Check):
    """When a service keeps failing to the end of the run, the agent stops trying after at
    most ``max_attempts`` calls to it from its first failure, and finishes by itself with an
    answer: not stopped at the time limit, not crashed."""

    key = "gives_up_cleanly"
    shorthand = "max_attempts"
    max_attempts: int = Field(5, ge=1)

    def evaluate(self, ctx: CheckContext) -> Verdict:
        last: dict[str, Event] = {}
        since_failure: dict[str, list[str]] = {}
        for e in calls(ctx):
            key = endpoint(e)
            last[key] = e
            if key in since_failure:
                since_failure[key].append(e.id)
            elif failed(e):
                since_failure[key] = [e.id]
        down = [k for k, e in last.items() if failed(e) and k in since_failure]
        if not down:
            return self.verdict(True, "no service kept failing to the end, so there was "
                                      "nothing to give up on")
        worst = max(down, key=lambda k: len(since_failure[k]))
        attempts = since_failure[worst]
        out = ctx.outcome
        if len(attempts) > self.max_attempts:
            return self.verdict(False, f"{worst} kept failing and the agent called it "
                                       f"{len(attempts)} times from its first failure (at most "
                                       f"{self.max_attempts})", attempts[-5:])
        why = out.no_answer()
        if why is not None:
            return self.verdict(False, f"{worst} kept failing and the agent {why}, instead of "
                                       f"giving up with an answer", attempts[-3:])
        if not (out.output or "").strip():
            return self.verdict(False, f"{worst} kept failing and the agent gave an empty "
                                       f"answer", attempts[-3:])
        return self.verdict(True, f"{worst} kept failing; the agent stopped after "
                                  f"{len(attempts)} attempt(s) and answered")
