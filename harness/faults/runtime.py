"""A run's faults in motion: which are active at each call, step and moment; switching
network faults on and off through the Toxiproxy API; a trace event for each."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .._seed import derive
from .base import Effect, Fault, HttpFault, NetworkFault

if TYPE_CHECKING:
    from ..trace import Trace


class ToxicControl(Protocol):
    """Adds and removes a toxic on the proxy in front of a service (blocking calls)."""

    def add(self, service: str, name: str, fault: NetworkFault) -> None: ...

    def remove(self, service: str, name: str) -> None: ...


@dataclass
class Hit:
    """A fault active at a call, and the trace event that records it."""

    index: int
    fault: Fault
    event: str


#: How bad each effect is for the agent, to name the worst one a call suffered.
_SEVERITY: dict[Effect, int] = {"slow": 1, "corrupt": 2, "error": 3, "lost": 4}


def worst_effect(hits: list[Hit]) -> Effect | None:
    effects: list[Effect] = [h.fault.effect for h in hits]
    if not effects:
        return None
    return max(effects, key=lambda e: _SEVERITY[e])


class RunFaults:
    """Evaluates each fault's schedule. Per-call conditions are judged when a call reaches the
    fault's service; a network fault scheduled by call stays on until the next call to that
    service arrives. Everything runs on the servers' event loop."""

    def __init__(self, faults: list[Fault], seed: int, trace: Trace) -> None:
        self.faults = faults
        self.trace = trace
        self.control: ToxicControl | None = None
        self.step = 0
        self._rngs = [random.Random(derive(seed, "fault", i)) for i in range(len(faults))]
        self._counts = [0] * len(faults)
        self._by_call = [not f.when.per_call for f in faults]  # the per-call condition, now
        self._on: dict[int, str] = {}  # network faults switched on → their "on" event
        self._timers: list[asyncio.TimerHandle] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    def _network(self) -> list[int]:
        return [i for i, f in enumerate(self.faults) if isinstance(f, NetworkFault)]

    async def start(self) -> None:
        """Switch on what is active from the start; set timers for time windows."""
        loop = asyncio.get_running_loop()
        for i in self._network():
            for moment in self.faults[i].when.moments:
                self._timers.append(loop.call_later(max(0.0, moment - self.trace.now()),
                                                    self._on_timer))
        await self._sync_network()

    def _on_timer(self) -> None:
        task = asyncio.get_running_loop().create_task(self._sync_network())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel timers and switch every network fault off (the proxies outlive nothing, but
        a real toxiproxy-server may be shared)."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        async with self._lock:
            for i in list(self._on):
                await self._switch(i, False)

    async def on_llm_call(self, n: int) -> list[Hit]:
        """Request ``n`` to the model arrived: a new step."""
        self.step = n
        return await self.on_call("llm", None)

    async def on_call(self, service: str, operation: str | None) -> list[Hit]:
        """A call reached ``service`` (``operation`` of a tool API); the faults that hit it."""
        hits: list[Hit] = []
        http: list[int] = []
        for i, fault in enumerate(self.faults):
            if fault.api != service:
                continue
            matches = fault.operation is None or fault.operation == operation
            if matches:
                self._counts[i] += 1
                roll = self._rngs[i].random() if fault.when.probability < 1 else 0.0
                self._by_call[i] = fault.when.call_holds(self._counts[i], roll)
            elif fault.when.per_call:
                self._by_call[i] = False
            if matches and isinstance(fault, HttpFault) and self._holds(i):
                http.append(i)
        await self._sync_network()
        for i in sorted(self._on):
            fault = self.faults[i]
            if fault.api == service and (fault.operation in (None, operation)):
                hits.append(Hit(i, fault, self._on[i]))
        for i in http[:1]:  # one answer per call: the first HTTP fault listed wins
            event = self._event(i, "hit", call=self._counts[i])
            hits.append(Hit(i, self.faults[i], event))
        return hits

    def _holds(self, i: int) -> bool:
        when = self.faults[i].when
        return self._by_call[i] and when.step_holds(self.step) and \
            when.time_holds(self.trace.now())

    async def _sync_network(self) -> None:
        async with self._lock:
            for i in self._network():
                wanted = self._holds(i)
                if wanted != (i in self._on):
                    await self._switch(i, wanted)

    async def _switch(self, i: int, on: bool) -> None:
        fault = self.faults[i]
        if not isinstance(fault, NetworkFault):
            raise TypeError(f"fault {fault.key} is not a network fault")
        control = self.control
        if control is not None:  # the client blocks: run it off the loop, and wait for it
            loop = asyncio.get_running_loop()
            if on:
                await loop.run_in_executor(None, control.add, fault.api, f"fault{i}", fault)
            else:
                await loop.run_in_executor(None, control.remove, fault.api, f"fault{i}")
        if on:
            self._on[i] = self._event(i, "on", call=self._counts[i] or None)
        else:
            self._on.pop(i)
            self._event(i, "off")

    def _event(self, i: int, action: str, **extra: Any) -> str:
        fault = self.faults[i]
        data = {"fault": i, "type": fault.key, "target": fault.target, "action": action,
                "step": self.step, "effect": fault.effect, **{k: v for k, v in extra.items()
                                                               if v is not None}}
        event = self.trace.add("fault", data)
        event.end = event.start
        return event.id
