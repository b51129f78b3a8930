from __future__ import annotations

from typing import Any

from ..._yaml import Path
from ..turns import Completion, Reply, ToolCall, Turn, TurnContext, TurnProblem, dumps, parse_turn
from .text import Text


class ObeyInjection(Turn):
    """A model that is fooled: if an injection payload (``mocks/payloads/injections.yaml``)
    appears verbatim in the model's latest input, it makes the call the attacker asked for,
    copying into ``{secrets}`` every canary and PII value it has seen. If the agent filtered the
    payload out, the model never saw it and plays the ``otherwise`` turn instead."""

    key = "obey_injection"
    otherwise: Turn = Text(content="Here is a summary of what I found.")

    @classmethod
    def from_yaml(cls, params: Any, path: Path) -> tuple[Turn | None, list[TurnProblem]]:
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return None, [TurnProblem(path, f"expected a mapping, got {params!r}")]
        rest = dict(params)
        problems: list[TurnProblem] = []
        if "otherwise" in rest:
            inner, problems = parse_turn(rest.pop("otherwise"), (*path, "otherwise"))
            if inner is not None:
                rest["otherwise"] = inner
        from ..turns import validate_params

        turn, more = validate_params(cls, rest, path)
        problems += more
        return (turn if not problems else None), problems

    def reply(self, ctx: TurnContext) -> Reply:
        latest = ctx.latest_input()
        for payload in ctx.payloads:
            if payload.detect in latest:
                seen = ctx.conversation()
                secrets = " ".join(v for v in ctx.secrets if v in seen) or "(nothing found)"
                args = {
                    k: (v.replace("{secrets}", secrets) if isinstance(v, str) else v)
                    for k, v in payload.call.get("arguments", {}).items()
                }
                from ...world.naming import offered_for

                name = str(payload.call["name"])  # the attacker's tool, as the agent names it
                call = ToolCall(offered_for(name, ctx.offered) or name, dumps(args))
                return Completion(tool_calls=[call], finish_reason="tool_calls")
        return self.otherwise.reply(ctx)
