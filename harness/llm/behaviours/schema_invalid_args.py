from __future__ import annotations

from typing import Literal

from ..schema_gen import BREAKAGES, broken_instance
from ..turns import Completion, Reply, ToolCall, ToolChoice, Turn, TurnContext, dumps, no_tool_text


class SchemaInvalidArgs(Turn, ToolChoice):
    """The model calls a tool with well-formed JSON that breaks the tool's own schema:
    ``how`` is wrong_type, missing_required, extra_field, or any (chosen by the seed)."""

    key = "schema_invalid_args"
    how: Literal["wrong_type", "missing_required", "extra_field", "any"] = "any"

    def reply(self, ctx: TurnContext) -> Reply:
        name = self.pick(ctx)
        if name is None:
            return no_tool_text("continue")
        schema = ctx.offered.get(name, {}).get("parameters", {})
        how = ctx.rng.choice(BREAKAGES) if self.how == "any" else self.how
        args = broken_instance(schema, ctx.rng, how)
        return Completion(tool_calls=[ToolCall(name, dumps(args))], finish_reason="tool_calls")
