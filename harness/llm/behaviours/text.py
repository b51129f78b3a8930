from __future__ import annotations

from ..turns import Completion, Reply, Turn, TurnContext


class Text(Turn):
    """The model answers in plain text and stops: ``text: "Ordered 40 coats."``."""

    key = "text"
    shorthand = "content"
    content: str

    def reply(self, ctx: TurnContext) -> Reply:
        return Completion(content=self.content)
