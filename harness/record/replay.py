"""``replay`` entries of a script: the recorded answers of a cassette as turns, with the
``mutate`` block applied. Done when the scenario is loaded (``scenario._parse_llm``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..errors import ChaosError
from .cassette import read
from .to_scenario import turn_of

#: Mutations that take the recorded answer when their own parameters leave it out.
_FILLED = {"truncated", "repeat", "obey_injection", "invalid_json_args", "schema_invalid_args"}


def recorded_turns(cassette: Path) -> list[dict[str, Any]]:
    """The cassette's model answers as script turns (``ChaosError`` if it cannot be read)."""
    turns = []
    for exchange in read(cassette).exchanges:
        turn = turn_of(exchange)
        if turn is not None:
            turns.append(turn)
    return turns


def expand(cassette: Path, mutate: dict[int, Any]) -> tuple[list[dict[str, Any]],
                                                             list[tuple[tuple[Any, ...], str]]]:
    """The turns to play, and problems as (path under the replay entry, message)."""
    try:
        turns = recorded_turns(cassette)
    except ChaosError as exc:
        return [], [(("cassette",), str(exc))]
    problems: list[tuple[tuple[Any, ...], str]] = []
    if not turns:
        problems.append((("cassette",), f"{cassette} has no model answer to replay"))
    loop_from: int | None = None
    for step, mutation in sorted(mutate.items()):
        where = ("mutate", step)
        if not 1 <= step <= len(turns):
            problems.append((where, f"step {step} does not exist: the cassette has "
                                    f"{len(turns)} recorded answers (steps 1 to {len(turns)})"))
            continue
        if not isinstance(mutation, dict) or len(mutation) != 1:
            problems.append((where, "a mutation is one behaviour, e.g. {error: 429} or "
                                    "{truncated: {keep: 0.5}}"))
            continue
        (name, params), = mutation.items()
        turns[step - 1] = _mutated(name, params, turns[step - 1])
        if name == "repeat":
            loop_from = step if loop_from is None else min(loop_from, step)
    if loop_from is not None:
        del turns[loop_from:]  # a loop never ends: what follows is never played
    return turns, problems


def _mutated(name: str, params: Any, recorded: dict[str, Any]) -> dict[str, Any]:
    """Behaviour ``name`` in place of ``recorded``, taking from it what ``params`` leave out."""
    if name not in _FILLED:
        return {name: params}
    given = dict(params) if isinstance(params, dict) else ({} if params is None else params)
    if not isinstance(given, dict):
        return {name: params}
    (kind, body), = recorded.items()
    call = body if kind == "tool_call" else (body[0] if kind == "parallel_calls" else None)
    if name == "repeat":
        return {"repeat": given or copy.deepcopy(recorded)}
    if name == "obey_injection":
        return {"obey_injection": {"otherwise": copy.deepcopy(recorded), **given}}
    if name == "truncated":
        if "content" not in given and "tool_call" not in given:
            if call is not None:
                given["tool_call"] = copy.deepcopy(call)
            else:
                given["content"] = body.get("content", "") if isinstance(body, dict) else body
        return {"truncated": given}
    if call is not None:  # invalid_json_args, schema_invalid_args: break the recorded call
        given.setdefault("name", call["name"])
    return {name: given}
