from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ..turns import Completion, Reply, ToolCall, Turn, TurnContext, agent_name, dumps


class Truncated(Turn):
    """The output hits the length limit: ``finish_reason: length``, text cut mid-word or tool
    arguments cut mid-JSON. Give ``content`` or a ``tool_call`` ({name, arguments})."""

    key = "truncated"
    content: str | None = None
    tool_call: dict[str, Any] | None = None
    keep: float = Field(0.5, gt=0, lt=1, description="share of the output that is sent")

    @model_validator(mode="after")
    def _one_output(self) -> Truncated:
        if (self.content is None) == (self.tool_call is None):
            raise ValueError("give exactly one of 'content' or 'tool_call'")
        if self.tool_call is not None and not isinstance(self.tool_call.get("name"), str):
            raise ValueError("tool_call needs a 'name'")
        return self

    def reply(self, ctx: TurnContext) -> Reply:
        if self.content is not None:
            return Completion(content=_cut(self.content, self.keep, mid_word=True),
                              finish_reason="length")
        if self.tool_call is None:
            raise ValueError("give exactly one of 'content' or 'tool_call'")
        text = dumps(self.tool_call.get("arguments", {}))
        return Completion(
            tool_calls=[ToolCall(agent_name(ctx, self.tool_call["name"]),
                                 _cut(text, self.keep, mid_word=False))],
            finish_reason="length",
        )


def _cut(text: str, keep: float, mid_word: bool) -> str:
    end = max(1, min(len(text) - 1, round(len(text) * keep)))
    if mid_word:
        # Move the cut inside a word so the damage is visible ("Ordered 40 co").
        while 0 < end < len(text) - 1 and not (text[end - 1].isalnum() and text[end].isalnum()):
            end += 1
    return text[:end]
