from __future__ import annotations

from typing import Any

from ..schema_gen import valid_instance
from ..turns import Completion, Reply, ToolCall, ToolChoice, Turn, TurnContext, dumps, no_tool_text


class ToolCallTurn(Turn, ToolChoice):
    """The model calls a tool. Without ``arguments``, valid ones are generated from the offered
    tool's schema. Without ``name`` or ``match``, any offered tool is called."""

    key = "tool_call"
    arguments: dict[str, Any] | None = None

    def reply(self, ctx: TurnContext) -> Reply:
        name = self.pick(ctx)
        if name is None:
            return no_tool_text("continue")
        args = self.arguments
        if args is None:
            schema = ctx.offered.get(name, {}).get("parameters", {})
            args = valid_instance(schema, ctx.rng) if schema else {}
        return Completion(tool_calls=[ToolCall(name, dumps(args))], finish_reason="tool_calls")
