from __future__ import annotations

from typing import Any

from pydantic import Field

from ..turns import Completion, Reply, Turn, TurnContext


class Replay(Turn):
    """The model's answers recorded in a vcrpy cassette (``cassette``, a path relative to the
    scenario file), played in order (per conversation under load); ``mutate`` swaps chosen
    steps (1: the first recorded answer) for any behaviour:
    ``{3: {truncated: {keep: 0.5}}, 4: {error: 429}, 5: {repeat: {}}}``. A mutation that
    needs the recorded answer takes it: ``truncated`` cuts it, ``repeat: {}`` loops it,
    ``obey_injection`` plays it when no payload reached the model, ``invalid_json_args`` and
    ``schema_invalid_args`` break its call. It is expanded when the scenario is loaded, so it
    is an entry of ``llm`` itself, not nested in another turn."""

    key = "replay"
    shorthand = "cassette"
    cassette: str
    mutate: dict[int, Any] = Field(default_factory=dict,
                                   description="step (1, 2, …) → the behaviour that replaces it")

    def reply(self, ctx: TurnContext) -> Reply:
        return Completion(content="(a replay cannot be nested in another turn: make it an "
                                  "entry of llm)")
