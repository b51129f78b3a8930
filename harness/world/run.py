"""The world of one run (one session): the tool APIs' state, the model's script position, the
human in the loop, and the trace. Servers look runs up by session id."""

from __future__ import annotations

import random
import threading
from typing import TYPE_CHECKING, Any

from .._seed import derive
from ..errors import ChaosError
from ..faults.runtime import RunFaults
from ..llm.quota import Quota
from ..load.conversations import Conversations, ScriptCursor
from ..trace import MAX_EVENTS, MAX_LOAD_EVENTS, Trace
from .capacity import Capacity
from .catalog import Catalog
from .state import ToolState

if TYPE_CHECKING:
    from ..llm.turns import Turn
    from ..record.recorder import Recorder
    from ..scenario import Scenario


class RunWorld:
    def __init__(self, scenario: Scenario, session_id: str, seed: int, catalog: Catalog) -> None:
        self.scenario = scenario
        self.session_id = session_id
        self.seed = seed
        self.catalog = catalog
        self.trace = Trace(limit=MAX_LOAD_EVENTS if scenario.load is not None else MAX_EVENTS)
        self.tools = {
            name: ToolState(catalog.tools[name], derive(seed, "tool", name) % 2**31)
            for name in scenario.tools
        }
        self._plant_injections()
        self.rng = random.Random(derive(seed, "llm"))
        self.llm_calls = 0
        self.cursor = ScriptCursor(scenario.script)
        #: Under load: the conversations within this one session (else None).
        self.conversations: Conversations | None = None
        self.capacity = Capacity(scenario.capacity, self.trace)
        self.closed = threading.Event()
        self.faults = RunFaults(scenario.faults, seed, self.trace)
        self._lock = threading.Lock()
        quota = scenario.script.quota
        self.quota = Quota(quota) if quota is not None else None
        #: The Responses API's stored responses: id → the conversation up to and with it.
        self.responses: dict[str, list[dict[str, Any]]] = {}
        #: Record mode: model requests go to a real endpoint (``record.recorder``).
        self.recorder: Recorder | None = None

    def _plant_injections(self) -> None:
        for inj in self.scenario.injections:
            tool, resource, key, field = inj.into.split(".")
            state = self.tools[tool]
            rkey = state.api.resources[resource].key
            match = [r for r in state.records[resource] if str(r.get(rkey)) == key]
            if not match:
                keys = ", ".join(str(r.get(rkey)) for r in state.records[resource])
                raise ChaosError(f"{self.scenario.source}: injections: no {resource} record "
                                 f"{key!r} in {tool} (records: {keys})")
            text = self.catalog.injections[inj.payload].text
            old = str(match[0].get(field, ""))
            match[0][field] = text if inj.mode == "replace" or not old else f"{old}\n\n{text}"

    def count_llm_call(self) -> int:
        """Count a request to the model; its number in this run (1, 2, …)."""
        with self._lock:
            self.llm_calls += 1
            return self.llm_calls

    def next_turn(self) -> tuple[Turn, int | str]:
        """The turn that answers this request, and its script index (or "after_script")."""
        return self.cursor.next_turn()

    def secrets(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for state in self.tools.values():
            out.update(state.secrets())
        return out
