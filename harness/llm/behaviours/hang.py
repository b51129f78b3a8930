from __future__ import annotations

from pydantic import Field

from ..turns import Hang as HangReply
from ..turns import Reply, Turn, TurnContext


class Hang(Turn):
    """The API accepts the request and never answers: for ``seconds``, then the connection is
    dropped; without ``seconds``, until the run ends. Only a client timeout saves the agent."""

    key = "hang"
    seconds: float | None = Field(None, gt=0, le=3600)

    def reply(self, ctx: TurnContext) -> Reply:
        return HangReply(self.seconds)
