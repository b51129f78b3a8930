from __future__ import annotations

from ..schema_gen import valid_instance
from ..turns import Completion, Reply, ToolCall, ToolChoice, Turn, TurnContext, no_tool_text


class InvalidJsonArgs(Turn, ToolChoice):
    """The model calls a tool with arguments that are not JSON (single quotes and a trailing
    comma by default, as models really produce), or the exact ``raw`` text given."""

    key = "invalid_json_args"
    raw: str | None = None

    def reply(self, ctx: TurnContext) -> Reply:
        name = self.pick(ctx)
        if name is None:
            return no_tool_text("continue")
        text = self.raw
        if text is None:
            schema = ctx.offered.get(name, {}).get("parameters", {})
            args = valid_instance(schema, ctx.rng) if schema else {}
            if not isinstance(args, dict):
                args = {}
            body = ", ".join(f"'{k}': {v!r}" for k, v in args.items())
            text = "{" + body + ",}"
        return Completion(tool_calls=[ToolCall(name, text)], finish_reason="tool_calls")
