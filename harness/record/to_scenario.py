"""A cassette's model exchanges → a scenario whose script replays what the model said."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .cassette import Cassette, Exchange, first_user_text

if TYPE_CHECKING:
    from ..world.catalog import Catalog

_ERRORS = {400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504, 529}


def turn_of(ex: Exchange) -> dict[str, Any] | None:
    """One recorded answer as a script turn (None: an error status with no behaviour)."""
    if ex.reply is None:
        return {"error": {"status": ex.status}} if ex.status in _ERRORS else None
    calls = [{"name": n, "arguments": a if isinstance(a, dict) else {}}
             for n, a in ex.reply.calls]
    if len(calls) == 1:
        return {"tool_call": calls[0]}
    if calls:
        return {"parallel_calls": calls}
    return {"text": ex.reply.text}


@dataclass
class Imported:
    doc: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def scenario_doc(cassette: Cassette, name: str, catalog: Catalog,
                 tools: list[str] | None = None, source: str = "") -> Imported:
    """The scenario (as YAML data): the first user message as the task, one script turn per
    recorded model answer, the tool APIs whose operations the model called (or ``tools``)."""
    from ..world.naming import operation_for

    out = Imported({})
    turns: list[dict[str, Any]] = []
    called: list[str] = []
    for i, ex in enumerate(cassette.exchanges):
        turn = turn_of(ex)
        if turn is None:
            out.notes.append(f"exchange {i + 1} ({ex.method} {ex.uri}): status {ex.status} "
                             f"has no error behaviour; left out")
            continue
        turns.append(turn)
        if ex.reply is None:
            continue
        calls = ex.reply.calls
        called += [str(n) for n, _ in calls]
        if calls and ex.reply.text.strip():
            out.notes.append(f"exchange {i + 1}: the text beside its tool calls is left out "
                             f"({ex.reply.text.strip()[:60]!r})")
        if any(not isinstance(a, dict) for _, a in ex.reply.calls):
            out.notes.append(f"exchange {i + 1}: arguments that are not a JSON object became "
                             f"{{}}")
    if tools is None:
        operations = {op: api for api, spec in catalog.tools.items() for op in spec.operations}
        tools = []
        for name in called:
            op = operation_for(name, operations)
            if op is not None and operations[op] not in tools:
                tools.append(operations[op])
        unknown = sorted({n for n in called if operation_for(n, operations) is None})
        if unknown:
            out.notes.append(f"no tool API of the catalog serves {', '.join(unknown)}: add "
                             f"yours (--mocks) or expect the calls to be refused as unknown")
    task = first_user_text(cassette.exchanges[0]) if cassette.exchanges else ""
    if not turns:
        turns = [{"text": "(the cassette had no model answer)"}]
    out.doc = {
        "version": 1,
        "name": name,
        "description": f"Replays the model's answers recorded in {source or 'a cassette'}: "
                       f"{len(turns)} turns over {len(cassette.exchanges)} model calls.",
        "category": "data_integrity",
        "timeout": 60,
        "task": task or "(the recorded task)",
        "tools": tools,
        "llm": turns,
        "goal": {"answer_given": {}},
        "expect": [{"terminates": {}}, {"no_unknown_tool_executed": {}}],
    }
    return out
