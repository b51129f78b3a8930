"""``agent-chaos explore``: search for the fault schedule that breaks an agent, with
hypothesis, and shrink it to the smallest that still does.

The search space comes from the scenario's world (``dimensions``): for each operation of its
tool APIs, no fault or one on its first call (``lost_response``, ``http_error`` 503, ``hang``,
``slow_body``, ``malformed_json``); for each API, a slow connection or not; for the model, a
429 or not. An example is one choice per dimension, added to the scenario's own faults;
running it is a real run of the agent. An example fails when a guardrail check fails (a goal
missed under faults is not a breach: an agent may be unable to finish). Hypothesis does the
search and the shrinking (each dimension back to "none" where the failure stays). The seed
makes the search reproducible; the shrunk failures are kept in hypothesis's example database
and played first next time (as explicit examples: a seeded search runs without hypothesis's
own replay).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .faults.base import Fault

if TYPE_CHECKING:
    from .agents import Agent
    from .runner import Runner
    from .scenario import Scenario


@dataclass
class Found:
    """The smallest failing schedule, what it broke, and how the search went."""

    faults: list[dict[str, Any]] | None
    failed: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    examples: int = 0
    failures: int = 0


KINDS: list[tuple[str, dict[str, Any]]] = [
    ("lost_response", {}), ("http_error", {"status": 503, "retry_after": 1}),
    ("hang", {"seconds": 1.5}), ("slow_body", {"bytes_per_second": 100}),
    ("malformed_json", {}),
]


def dimensions(scenario: Scenario, catalog: Any) -> dict[str, list[dict[str, Any] | None]]:
    """The search space: for each listed operation of the scenario's tool APIs, no fault or
    one of ``KINDS`` on its first call; for each API, its connection 1 s slow or not; for
    the model, a 429 on its first request or not. Each dimension's first choice is "none",
    the one hypothesis shrinks towards."""
    out: dict[str, list[dict[str, Any] | None]] = {}
    for tool in scenario.tools:
        for op_name, op in catalog.tools[tool].operations.items():
            if not op.hidden:
                out[f"{tool}.{op_name}"] = [None, *({kind: {"target": f"{tool}.{op_name}",
                                                            **params, "when": {"call": 1}}}
                                                    for kind, params in KINDS)]
        out[f"{tool} (network)"] = [None, {"latency": {"target": tool, "latency": 1000,
                                                       "when": {"call": 1}}}]
    out["llm"] = [None, {"http_error": {"target": "llm", "status": 429, "retry_after": 1,
                                        "when": {"call": 1}}}]
    return out


def describe(faults: list[dict[str, Any]]) -> str:
    parts = []
    for entry in faults:
        (kind, params), = entry.items()
        rest = {k: v for k, v in params.items() if k not in ("target", "when")}
        extra = f" {json.dumps(rest)}" if rest else ""
        parts.append(f"{kind} on {params['target']} at call {params['when']['call']}{extra}")
    return "; ".join(parts) or "no added fault (the scenario as written)"


def explore(runner: Runner, scenario: Scenario, raw: dict[str, Any], agent: Agent,
            max_examples: int, seed_value: int, database: Path | None,
            progress: Callable[[str], None] = lambda _: None) -> Found:
    """Search; the smallest failing schedule (``faults`` None if no example failed)."""
    from hypothesis import HealthCheck, Phase, example, given, seed, settings
    from hypothesis import strategies as st
    from hypothesis.database import DirectoryBasedExampleDatabase

    from .scenario import parse_scenario

    space = dimensions(scenario, runner.catalog)
    found = Found(None)
    seen: dict[str, tuple[bool, list[str], list[str]]] = {}

    def breaks(faults: list[dict[str, Any]]) -> bool:
        key = json.dumps(faults, sort_keys=True)
        if key not in seen:
            found.examples += 1
            doc = {**raw, "faults": [*raw.get("faults", []), *faults]}
            result = runner.run(parse_scenario(doc, scenario.source or "<explore>",
                                               catalog=runner.catalog), agent)
            failed = [v.check for v in result.failed]
            seen[key] = (bool(failed), failed, [v.message for v in result.failed])
            if failed:
                found.failures += 1
            verdict = f"FAILED {', '.join(failed)}" if failed else "held"
            phase = "shrinking" if found.failures > bool(failed) else "searching"
            progress(f"example {found.examples} ({phase}): {describe(faults)} -> {verdict} "
                     f"({found.failures} failing so far)")
        return seen[key][0]

    def schedule(choice: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
        return [f for f in choice.values() if f is not None]

    # One choice per dimension, "none" first: hypothesis's shrinker turns each fault off on
    # its own, so the schedule it ends with is one where every fault left is needed.
    strategy = st.fixed_dictionaries({name: st.sampled_from(options)
                                      for name, options in space.items()}).map(schedule)
    config = settings(max_examples=max_examples, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck),
                      phases=[Phase.explicit, Phase.generate, Phase.shrink],
                      report_multiple_bugs=False)
    # A seeded search runs without hypothesis's own replay (``@seed`` turns the database
    # off), so the shrunk failures are kept in its database under this key and played
    # first, as explicit examples, next time.
    key = hashlib.sha256(f"agent-chaos explore\0{scenario.name}\0{agent.spec}".encode()).digest()
    db = DirectoryBasedExampleDatabase(str(database)) if database is not None else None
    saved = [json.loads(v) for v in sorted(db.fetch(key))] if db is not None else []
    smallest: list[list[dict[str, Any]]] = []

    class _Breaks(Exception):
        pass

    @config
    @given(strategy)
    def probe(faults: list[dict[str, Any]]) -> None:
        if breaks(faults):
            smallest[:] = [faults]
            raise _Breaks

    # The scenario as written first, outside the search: an agent that cannot start is a
    # clear error (ChaosError) rather than a "failing example", and one that already fails
    # needs no added fault.
    if breaks([]):
        found.faults = []
        _, found.failed, found.messages = seen["[]"]
        return found
    offered = [f for options in space.values() for f in options if f is not None]
    for faults in reversed(saved):
        if all(f in offered for f in faults):  # the world may have changed since
            probe = example(faults)(probe)
    with contextlib.suppress(_Breaks):  # the search stops at the smallest failure
        seed(seed_value)(probe)()
    if not smallest:
        return found
    found.faults = smallest[0]
    _, found.failed, found.messages = seen[json.dumps(found.faults, sort_keys=True)]
    if db is not None:
        db.save(key, json.dumps(found.faults, sort_keys=True).encode())
    return found


def regression_doc(raw: dict[str, Any], found: Found, agent: Agent) -> dict[str, Any]:
    """The scenario with the smallest failing schedule added, saying what it found."""
    faults = found.faults or []
    return {
        **raw,
        "name": f"{raw.get('name', 'scenario')}-explored",
        "description": (f"Found by agent-chaos explore: {agent.name} breaks "
                        f"{', '.join(found.failed)} under {describe(faults)}."),
        "faults": [*raw.get("faults", []), *faults],
    }


__all__ = ["KINDS", "Fault", "Found", "describe", "dimensions", "explore", "regression_doc"]
