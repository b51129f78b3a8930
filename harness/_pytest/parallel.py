"""``--chaos-parallel N``: scenario runs on N threads of the one pytest process, ahead of the
items that report them, so a 2-core box is not idle while agents wait on hung services and
time limits. pytest still runs and reports the items in order, each with its own results, so
the output, results.json and the verdicts are those of a serial session.

Load scenarios are not run ahead: each runs alone (the runs ahead wait for it), since its
figures (latency, throughput) are the machine's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runner import RunResult
    from .items import ScenarioItem

Runs = tuple[list["RunResult"], dict[str, Any] | None]


class Gate:
    """Runs ahead share it; a load run holds it alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._exclusive = True
            self._cond.wait_for(lambda: self._running == 0)
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


class Parallel:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.gate = Gate()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="agent-chaos-run")
        self._ahead: dict[str, Future[Runs]] = {}

    def submit(self, items: list[ScenarioItem]) -> None:
        """Start the runs of ``items`` (in their order) on the workers."""
        for item in items:
            if item.scenario.load is None:
                self._ahead[item.nodeid] = self._pool.submit(self._job, item)

    def _job(self, item: ScenarioItem) -> Runs:
        with self.gate.shared():
            return item.execute()

    def runs(self, item: ScenarioItem) -> Runs:
        """The item's runs: those made ahead, or made now (a load scenario: alone)."""
        ahead = self._ahead.pop(item.nodeid, None)
        if ahead is not None:
            return ahead.result()
        with self.gate.exclusive():
            return item.execute()

    def close(self) -> None:
        """Drop the runs not started; wait for those running (the runner has been told to
        stop their agents)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._ahead.clear()
