from __future__ import annotations

from ..tokens import message_text
from ..turns import Completion, Reply, Turn, TurnContext


class Text(Turn):
    """The model answers in plain text and stops: ``text: "Ordered 40 coats."``. With
    ``echo_tool_output``, it pastes the latest tool results after the text, as models do when
    asked to "show what you found" (this is how context mixing leaks data)."""

    key = "text"
    shorthand = "content"
    content: str
    echo_tool_output: bool = False

    def reply(self, ctx: TurnContext) -> Reply:
        content = self.content
        if self.echo_tool_output:
            results = [message_text(m) for m in ctx.messages
                       if isinstance(m, dict) and m.get("role") == "tool"]
            if results:
                content = f"{content}\n{results[-1]}"
        return Completion(content=content)
