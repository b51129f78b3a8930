"""Locust users that send the harness's tasks to the agent service. Runs inside Locust's own
process only (it imports locust and the standard library, nothing else).

For your own locustfile, subclass ``ChaosUser``; the harness passes the gateway in front of the
agent as ``--host`` and the tasks in ``CHAOS_LOAD_CONFIG``::

    from locust import task
    from harness.load.user import ChaosUser

    class Customer(ChaosUser):
        @task
        def ask(self):
            self.send_task(self.next_task())   # POST load.path with load.body

The built-in locustfile is this module with its configuration written in, so that Locust
workers on other machines can fetch it from the master (``locust --worker -f -``).
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, task

try:
    CONFIG: dict[str, Any] = json.loads(_CONFIG)  # type: ignore[name-defined]
except NameError:  # imported by a user's locustfile: the harness names the file
    _path = os.environ.get("CHAOS_LOAD_CONFIG")
    CONFIG = {}
    if _path:
        with open(_path, encoding="utf-8") as _f:
            CONFIG = json.load(_f)

_counter = itertools.count()


def _fill(template: Any, text: str) -> Any:
    # As harness.load.service.RequestShape fills it; this module must stand alone (a Locust
    # worker on another machine gets only its text).
    if template == "{task}":
        return text
    if isinstance(template, str):
        return template.replace("{task}", text)
    if isinstance(template, list):
        return [_fill(t, text) for t in template]
    if isinstance(template, dict):
        return {k: _fill(v, text) for k, v in template.items()}
    return template


class ChaosUser(FastHttpUser):
    """A user of the agent service: ``next_task()`` gives the next task (each process takes
    its own share), ``send_task(text)`` posts it the way the scenario says."""

    abstract = True
    wait_time = between(*CONFIG.get("wait", (0.5, 0.5)))
    network_timeout = float(CONFIG.get("timeout", 60)) + 5
    connection_timeout = 10.0

    def next_task(self) -> str | None:
        tasks = CONFIG.get("tasks", [])
        stride = max(1, int(CONFIG.get("stride", 1)))
        index = max(0, getattr(self.environment.runner, "worker_index", 0))
        n = index + next(_counter) * stride
        if n >= len(tasks):
            return None
        return str(tasks[n])

    def send_task(self, text: str | None) -> None:
        if text is None:  # every task of this process is sent: wait for the end
            self.wait()  # type: ignore[no-untyped-call]
            return
        body = _fill(CONFIG.get("body") or {"task": "{task}"}, text)
        self.client.post(CONFIG.get("path", "/run"), data=json.dumps(body),
                         headers={"Content-Type": "application/json"}, name="task")


class ChaosRamp(LoadTestShape):
    """A step ramp: ``users`` of each step for ``every`` seconds, then stop."""

    abstract = True

    def tick(self) -> tuple[int, float] | None:
        ramp = CONFIG.get("ramp") or {}
        steps, every = ramp.get("steps", []), float(ramp.get("every", 1))
        i = int(self.get_run_time() // every)  # type: ignore[no-untyped-call]
        if i >= len(steps):
            return None
        return steps[i], float(CONFIG.get("spawn_rate") or steps[i])


if CONFIG.get("builtin"):
    class ChaosTaskUser(ChaosUser):
        """Sends one task after another."""

        @task
        def ask(self) -> None:
            self.send_task(self.next_task())

    if CONFIG.get("ramp"):
        class Ramp(ChaosRamp):
            abstract = False
