from __future__ import annotations

from typing import Any

from ..turns import Completion, Reply, ToolCall, Turn, TurnContext, dumps


class HallucinatedTool(Turn):
    """The model calls a tool the agent did not offer: ``name``, or a plausible one from
    ``mocks/payloads/hallucinations.yaml`` (chosen by the seed among those not offered)."""

    key = "hallucinated_tool"
    name: str | None = None
    arguments: dict[str, Any] | None = None

    def reply(self, ctx: TurnContext) -> Reply:
        offered = ctx.offered
        name, args = self.name, self.arguments
        if name is None:
            choices = [h for h in ctx.hallucinations if h.name not in offered]
            if choices:
                pick = ctx.rng.choice(choices)
                name, args = pick.name, args if args is not None else pick.arguments
            else:
                name = "invented_tool"
                while name in offered:
                    name += "_x"
        return Completion(
            tool_calls=[ToolCall(name, dumps(args if args is not None else {}))],
            finish_reason="tool_calls",
        )
