"""Locust users that send the harness's tasks to the agent service, and record each one for
the harness. Runs inside Locust's own processes only (it imports locust and the standard
library, nothing else).

For your own locustfile, subclass ``ChaosUser``; the harness passes the agent service as
``--host`` and the tasks in ``CHAOS_LOAD_CONFIG``::

    from locust import task
    from harness.load.user import ChaosUser

    class Customer(ChaosUser):
        @task
        def ask(self):
            self.send_task(self.next_task())   # POST load.path with load.body, recorded

Every task sent with ``send_task`` is recorded (ticket, start and end, status, answer) and
sent as a Locust custom message to the master (or to the process itself when there is no
master), which writes it where the harness reads it. Locust's users go straight to the agent:
recording costs them a message, not a hop.

The built-in locustfile is this module with its configuration written in, so that Locust
workers on other machines can fetch it from the master (``locust --worker -f -``).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, events, task
from locust.runners import WorkerRunner

try:
    CONFIG: dict[str, Any] = json.loads(_CONFIG)  # type: ignore[name-defined]
except NameError:  # imported by a user's locustfile: the harness names the file
    _path = os.environ.get("CHAOS_LOAD_CONFIG")
    CONFIG = {}
    if _path:
        with open(_path, encoding="utf-8") as _f:
            CONFIG = json.load(_f)

_counter = itertools.count()
_TICKET = re.compile(r"\bT-\d{5,}\b")
#: Characters of an answer kept (as the harness's trace keeps text).
MAX_ANSWER = 20_000
MESSAGE = "chaos_request"
_out: list[Any] = []  # the open records file, in the process that writes it


def _record(environment: Any, msg: Any, **kwargs: Any) -> None:
    """Write one request's record (on the master, or the only process)."""
    path = CONFIG.get("records")
    if not path:
        return
    if not _out:
        _out.append(open(path, "a", encoding="utf-8"))  # noqa: SIM115 - closed at quit
    _out[0].write(json.dumps(msg.data) + "\n")


def _on_init(environment: Any, **kwargs: Any) -> None:
    runner = environment.runner
    if runner is not None and not isinstance(runner, WorkerRunner):
        runner.register_message(MESSAGE, _record)


def _on_quit(**kwargs: Any) -> None:
    for f in _out:
        f.close()
    _out.clear()


events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.quit.add_listener(_on_quit)  # type: ignore[no-untyped-call]


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
    its own share), ``send_task(text)`` posts it the way the scenario says and records it. A
    task unanswered within the scenario's ``timeout`` fails (recorded as 504)."""

    abstract = True
    wait_time = between(*CONFIG.get("wait", (0.5, 0.5)))
    network_timeout = float(CONFIG.get("timeout", 60))
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
        found = _TICKET.search(text)
        record: dict[str, Any] = {"ticket": found[0] if found else None, "start": time.time()}
        began = time.perf_counter()
        stream = bool(CONFIG.get("stream"))
        with self.client.post(CONFIG.get("path", "/run"), data=json.dumps(body),
                              headers={"Content-Type": "application/json"}, name="task",
                              stream=stream, catch_response=True) as response:
            pieces: list[str] = []
            error = getattr(response, "error", None)
            if error is None and response.status_code and stream:
                try:  # the time to the first byte, and how many pieces the answer came in
                    for chunk in response.iter_content(65536):
                        if not pieces:
                            record["first_byte"] = time.time()
                        pieces.append(chunk if isinstance(chunk, str)
                                      else chunk.decode("utf-8", "replace"))
                except Exception as exc:  # the answer broke off
                    error = exc
                # Locust's figures are for the whole answer, not its headers.
                response.request_meta["response_time"] = (time.perf_counter() - began) * 1000
                response.request_meta["response_length"] = sum(len(p) for p in pieces)
            elif error is None and response.status_code:
                pieces = [response.text or ""]
            status = response.status_code or 0
            said = f"{type(error).__name__} {error}".lower()
            if error is not None and ("timeout" in said or "timed out" in said):
                status, error = 504, (f"no answer within the {self.network_timeout:g} s time "
                                      f"limit")
            record.update(end=time.time(), status=status, chunks=len(pieces) if stream else 1,
                          text="".join(pieces)[:MAX_ANSWER])
            if error is not None or not 200 <= status < 300:
                record["error"] = str(error) if error is not None else \
                    f"HTTP {status}: {record['text'][:300]}"
                response.failure(record["error"])
            else:
                response.success()
        self.environment.runner.send_message(MESSAGE, record)


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
