"""The ``chaos`` fixture: run scenarios against agents from Python-written tests."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._paths import builtin_scenarios
from ..agents import Agent
from ..errors import ChaosError
from ..runner import RunResult
from ..scenario import Scenario, load_scenario, parse_scenario
from .session import ChaosSession


class Chaos:
    """``chaos.run(scenario, agent)``: ``scenario`` is a Scenario, a file path, the name of a
    built-in scenario or a dict in the YAML format; ``agent`` is an Agent, ``NAME=module:attr``
    (or ``module:attr``), or a module-level function ``run(task, env)``."""

    def __init__(self, session: ChaosSession) -> None:
        self._session = session

    @property
    def seed(self) -> int:
        return self._session.seed

    def scenario(self, spec: Scenario | str | Path | dict[str, Any]) -> Scenario:
        if isinstance(spec, Scenario):
            return spec
        if isinstance(spec, dict):
            return parse_scenario(spec, allow_remote=self._session.allow_remote)
        path = Path(spec)
        if not path.exists() and path.suffix == "" and "/" not in str(spec):
            path = builtin_scenarios() / f"{spec}.yaml"
            if not path.exists():
                names = ", ".join(sorted(p.stem for p in builtin_scenarios().glob("*.yaml")))
                raise ChaosError(f"no scenario file {spec!r} and no built-in scenario of that "
                                 f"name; built-in: {names}")
        return load_scenario(path, allow_remote=self._session.allow_remote)

    def run(self, scenario: Scenario | str | Path | dict[str, Any],
            agent: Agent | str | Callable[..., Any], *, seed: int | None = None,
            trial: int = 0, cancel: threading.Event | None = None) -> RunResult:
        """Run ``scenario`` against ``agent`` and judge it. ``cancel``, when set, stops the
        agent as at its time limit."""
        runner = self._session.runner
        if seed is not None and seed != runner.seed:
            runner = runner.reseeded(seed)
        return runner.run(self.scenario(scenario), agent, trial, cancel=cancel)

    async def arun(self, scenario: Scenario | str | Path | dict[str, Any],
                   agent: Agent | str | Callable[..., Any], *, seed: int | None = None,
                   trial: int = 0) -> RunResult:
        """``chaos.run`` for async tests: the run happens on a worker thread, so the test's
        event loop (whatever its scope) goes on, and several runs can be gathered. Cancelled,
        it stops the agent and tears the run down before the cancellation goes on."""
        parsed = self.scenario(scenario)
        cancel = threading.Event()
        loop = asyncio.get_running_loop()
        done = loop.run_in_executor(None, functools.partial(
            self.run, parsed, agent, seed=seed, trial=trial, cancel=cancel))
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            cancel.set()
            with contextlib.suppress(Exception):
                await done
            raise
