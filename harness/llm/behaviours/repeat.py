from __future__ import annotations

from typing import Any

from ..._yaml import Path
from ..turns import Reply, Turn, TurnContext, TurnProblem, parse_turn


class Repeat(Turn):
    """A looping model: the wrapped turn answers every request from here on, forever.
    ``repeat: {tool_call: {name: get_stock, arguments: {sku: COAT-01}}}``."""

    key = "repeat"
    sticky = True
    turn: Turn

    @classmethod
    def from_yaml(cls, params: Any, path: Path) -> tuple[Turn | None, list[TurnProblem]]:
        inner, problems = parse_turn(params, path)
        if inner is None:
            return None, problems
        if isinstance(inner, Repeat):
            return None, [TurnProblem(path, "repeat inside repeat has no meaning")]
        return cls(turn=inner), []

    def reply(self, ctx: TurnContext) -> Reply:
        return self.turn.reply(ctx)

    def delays(self) -> tuple[float, float]:
        return self.turn.delays()
