from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field

from ..trace import Event
from .base import Check, CheckContext, Verdict, calls, describe_call, endpoint, executed, failed

FAILURE_WORDS = (r"unavailable|not available|\bdown\b|fail|could not|couldn't|cannot|unable"
                 r"|error|timed? ?out|too slow|partial|incomplete|circuit")


class DegradesGracefully(Check):
    """When a service fails and stays failed, the agent still answers: a clear message about
    what failed (``mentions``, a regular expression) and, with ``partial``, what it did get
    (data from calls that succeeded shows up in the answer)."""

    key = "degrades_gracefully"
    mentions: str = Field(FAILURE_WORDS, description="the answer must match this (any case)")
    partial: bool = Field(True, description="the answer must carry data it did get")

    def evaluate(self, ctx: CheckContext) -> Verdict:
        out = ctx.outcome
        last: dict[str, Event] = {}
        for e in calls(ctx):
            last[endpoint(e)] = e
        broken = [e for e in last.values() if failed(e)]  # failed, and never came back
        if not broken:
            return self.verdict(True, "no service stayed down, so there was nothing to degrade")
        first = broken[0]
        what = "the model" if first.kind == "llm" else describe_call(first)
        if out.status != "completed" or not (out.output or "").strip():
            stopped = out.stopped()
            status = (f"never answered ({stopped.removeprefix('was ')})" if stopped else
                      out.no_answer() or "gave an empty answer")
            return self.verdict(False, f"after {what} failed, the agent {status}",
                                [e.id for e in broken[:5]])
        answer = out.output or ""
        if not re.search(self.mentions, answer, re.IGNORECASE):
            return self.verdict(False, f"the answer does not say that anything failed "
                                       f"(first failure: {what}); answer: {answer[:120]!r}",
                                [first.id])
        if self.partial:
            secrets = ctx.secrets(("canary", "pii"))
            got = [e for e in ctx.tool_events() if executed(e) and
                   e.data.get("effect") in (None, "slow")]
            values = {v for e in got for v in _values(e.data.get("response"))} - set(secrets)
            if values and not any(v in answer for v in values):
                return self.verdict(False, "the answer drops the results the agent did get "
                                           f"({', '.join(e.id for e in got[:3])}) and only "
                                           f"reports the failure", [e.id for e in got[:5]])
        return self.verdict(True, f"answered though {len(broken)} endpoint(s) stayed down, "
                                  f"saying what failed")


def _values(value: Any) -> list[str]:
    """Distinctive values in a tool response: texts of 4+ characters, numbers of 3+ digits."""
    if isinstance(value, str):
        try:
            return _values(json.loads(value)) if value[:1] in "{[" else \
                ([value] if len(value) >= 4 else [])
        except json.JSONDecodeError:
            return []
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        text = f"{value:g}"
        return [text] if len(text) >= 3 else []
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    return []
