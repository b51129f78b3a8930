"""Capacity limits of the tool APIs (``capacity:`` in a scenario): a downstream not built for
the load refuses what is beyond it at once, with 429 and Retry-After or with 503.

``rps`` counts the requests accepted in the last second (a sliding window); ``concurrency``
the requests being handled at once (a hung or slow answer holds its place). A refused request
is a ``tool`` event with ``capacity`` naming the limit; it reaches neither faults nor state.
Everything runs on the servers' event loop.
"""

from __future__ import annotations

import json
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..load.spec import CapacityDoc
    from ..trace import Trace


class Refusal:
    def __init__(self, status: int, which: str, message: str, retry_after: int | None) -> None:
        self.status = status
        self.which = which
        self.body = {"error": message}
        self.headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}

    def payload(self) -> bytes:
        return json.dumps(self.body).encode()


class Capacity:
    def __init__(self, limits: dict[str, CapacityDoc], trace: Trace) -> None:
        self.limits = limits
        self.trace = trace
        self._accepted: dict[str, deque[float]] = {}
        self.active: dict[str, int] = {}
        #: The most requests each tool API handled at once.
        self.peak: dict[str, int] = {}
        self.refused: dict[str, int] = {}

    def enter(self, tool: str) -> Refusal | None:
        """Admit a request to ``tool`` (then ``leave`` it when answered) or refuse it."""
        doc = self.limits.get(tool)
        now = self.trace.now()
        if doc is not None:
            recent = self._accepted.setdefault(tool, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            which = None
            if doc.concurrency is not None and self.active.get(tool, 0) >= doc.concurrency:
                which = f"concurrency limit of {doc.concurrency} requests at once"
            elif doc.rps is not None and len(recent) >= doc.rps:
                which = f"rate limit of {doc.rps} requests per second"
            if which is not None:
                self.refused[tool] = self.refused.get(tool, 0) + 1
                if doc.status == 429:
                    return Refusal(429, which, f"Too Many Requests: {tool} is over its "
                                               f"{which}", doc.retry_after)
                return Refusal(503, which, f"Service Unavailable: {tool} is over its {which}",
                               None)
            recent.append(now)
        active = self.active[tool] = self.active.get(tool, 0) + 1
        self.peak[tool] = max(self.peak.get(tool, 0), active)
        return None

    def leave(self, tool: str) -> None:
        self.active[tool] = max(0, self.active.get(tool, 0) - 1)
