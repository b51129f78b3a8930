from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..schema_gen import valid_instance
from ..turns import Completion, Reply, ToolCall, Turn, TurnContext, agent_name, dumps


class Call(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    arguments: dict[str, Any] | None = None


class ParallelCalls(Turn):
    """The model calls several tools in one reply, as models do when they may
    (``parallel_tool_calls``): ``parallel_calls: [{name: get_stock, arguments: {...}}, ...]``.
    Without ``arguments``, valid ones are generated from the tool's schema. An agent that asks
    for ``parallel_tool_calls: false`` (Anthropic: ``disable_parallel_tool_use``) gets the first
    call only."""

    key = "parallel_calls"
    shorthand = "calls"
    calls: list[Call] = Field(min_length=2)

    def reply(self, ctx: TurnContext) -> Reply:
        out = []
        for call in self.calls:
            name = agent_name(ctx, call.name)
            args = call.arguments
            if args is None:
                schema = ctx.offered.get(name, {}).get("parameters", {})
                args = valid_instance(schema, ctx.rng) if schema else {}
            out.append(ToolCall(name, dumps(args)))
        return Completion(tool_calls=out, finish_reason="tool_calls")
