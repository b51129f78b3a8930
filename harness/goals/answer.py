"""Goals on the agent's final answer."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from ..checks.base import answer_evidence
from .base import Goal, GoalResult

if TYPE_CHECKING:
    from ..checks.base import CheckContext


def _no_answer(ctx: CheckContext) -> str | None:
    """Why there is no answer to judge, or None if there is one."""
    out = ctx.outcome
    why = out.no_answer()
    if why is not None:
        return f"the agent {why} without an answer" if out.stopped() else f"the agent {why}"
    if not (out.output or "").strip():
        return "the agent's answer was empty"
    return None


class AnswerGiven(Goal):
    """The agent finished by itself with a non-empty answer (not a crash, not a time-out)."""

    key = "answer_given"

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        why = _no_answer(ctx)
        if why is not None:
            return self.result(False, why)
        return self.result(True, "the agent gave an answer")


class AnswerMentions(Goal):
    """The agent's answer mentions ``any`` of the texts, ``all`` of them, and/or matches
    ``regex`` (texts case-insensitive; a regex as written, use ``(?i)`` to ignore case)."""

    key = "answer_mentions"
    shorthand = "any"
    any: list[str] | None = Field(None, min_length=1)
    all: list[str] | None = Field(None, min_length=1)
    regex: str | None = None

    @model_validator(mode="after")
    def _something(self) -> AnswerMentions:
        if self.any is None and self.all is None and self.regex is None:
            raise ValueError("give 'any', 'all' or 'regex'")
        return self

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def evaluate(self, ctx: CheckContext) -> GoalResult:
        why = _no_answer(ctx)
        if why is not None:
            return self.result(False, why)
        answer = ctx.outcome.output or ""
        low = answer.lower()
        shown = answer if len(answer) <= 120 else answer[:117] + "…"
        found: list[str] = []
        missing: list[str] = []
        if self.any is not None:
            hits = [t for t in self.any if t.lower() in low]
            found += hits[:1]
            if not hits:
                missing.append(f"any of {self.any}")
        if self.all is not None:
            lacking = [t for t in self.all if t.lower() not in low]
            found += [t for t in self.all if t not in lacking]
            if lacking:
                missing.append(f"all of {self.all} (missing {lacking})")
        if self.regex is not None:
            match = re.search(self.regex, answer)
            if match:
                found.append(match.group(0))
            else:
                missing.append(f"/{self.regex}/")
        evidence = answer_evidence(ctx, found) if found else []
        if missing:
            return self.result(False, f"the answer does not mention {' and '.join(missing)}: "
                                      f"{shown!r}", evidence)
        return self.result(True, f"the answer mentions {', '.join(map(repr, found))}", evidence)
