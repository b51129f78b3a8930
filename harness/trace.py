"""The wire-level trace of one run: every LLM exchange, tool request, approval and fault.

Events are recorded in arrival order on the server thread. Their content is deterministic for a
given seed and agent; their times are not, so times live apart (``Event.start``/``end``) and are
written to results.json under separate ``timing`` keys.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["llm", "tool", "approval", "fault", "agent"]

#: Longest text kept per field in a trace (prompts can be huge in context-overflow scenarios).
MAX_TEXT = 20_000
#: Events kept per run. An agent hammering a dead service makes thousands a second; the first
#: ones already show every breach, and the rest are only counted (``Trace.dropped``).
MAX_EVENTS = 2_000
#: Events kept per load run (many users: checks of rates and concurrency need them all).
MAX_LOAD_EVENTS = 100_000


def clip(value: Any) -> Any:
    """Keep ``value`` if its JSON is short; else the first ``MAX_TEXT`` characters of that JSON
    as text, so one huge prompt or tool result cannot bloat a trace."""
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False)
        if len(text) <= MAX_TEXT:
            return value
    if len(text) <= MAX_TEXT:
        return value
    return text[:MAX_TEXT] + f"… [{len(text) - MAX_TEXT} more characters]"


@dataclass
class Event:
    id: str
    kind: EventKind
    data: dict[str, Any]
    start: float
    end: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, **self.data}


@dataclass
class Trace:
    events: list[Event] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)
    dropped: int = 0
    limit: int = MAX_EVENTS
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def add(self, kind: EventKind, data: dict[str, Any], start: float | None = None) -> Event:
        with self._lock:
            at = self.now() if start is None else start
            if len(self.events) >= self.limit:
                self.dropped += 1
                return Event(f"dropped{self.dropped}", kind, data, at)
            event = Event(f"e{len(self.events) + 1}", kind, data, at)
            self.events.append(event)
        return event

    def of(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def __iter__(self) -> Iterator[Event]:
        return iter(list(self.events))

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.events]

    def timing(self) -> dict[str, list[float | None]]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {e.id: [r(e.start), r(e.end)] for e in self.events}
