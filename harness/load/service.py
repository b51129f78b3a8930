"""An agent running as a service: started under the supervisor with the world's settings and
``CHAOS_AGENT_PORT``, sent tasks over HTTP, ended with everything it started.

A ``serve:COMMAND`` agent is its own service. A Python callable is served by the harness
(``harness/_agent_service.py``): one process, many tasks at once.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..agents import Agent, AgentEnv, Capture, agent_environ, mb, read_status, stop, supervise
from ..checks.base import Outcome

#: Seconds a service has to start listening.
SERVICE_START = 30.0


@dataclass(frozen=True)
class RequestShape:
    """How a task is sent to the service and where its answer is in the reply."""

    path: str = "/run"
    body: Any = None  # a JSON template: the string "{task}" is replaced by the task
    answer: str = "output"

    def render(self, task: Any) -> bytes:
        body = {"task": "{task}"} if self.body is None else self.body
        return json.dumps(_fill(body, task)).encode()

    def read(self, text: str) -> str | None:
        """The answer in a reply body."""
        if not self.answer:
            return text
        try:
            reply = json.loads(text)
        except ValueError:
            return text
        value = reply.get(self.answer) if isinstance(reply, dict) else None
        return value if value is None or isinstance(value, str) else json.dumps(value)


def _fill(template: Any, task: Any) -> Any:
    if template == "{task}":
        return task
    if isinstance(template, str):
        return template.replace("{task}", task if isinstance(task, str) else json.dumps(task))
    if isinstance(template, list):
        return [_fill(t, task) for t in template]
    if isinstance(template, dict):
        return {k: _fill(v, task) for k, v in template.items()}
    return template


class ServiceFailed(Exception):
    """The service did not start, or died."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AgentService:
    """``with AgentService(agent, env, memory) as service:`` → ``service.url``."""

    def __init__(self, agent: Agent, env: AgentEnv, memory: int) -> None:
        self.agent = agent
        self.env = env
        self.memory = memory
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="agent-chaos-service-")
        self.status_file = str(Path(self._tmp.name) / "guard.json")
        self.proc: Any = None
        self.capture: Capture | None = None
        self.started = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> AgentService:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        argv = self.agent.service_command()
        environ = agent_environ(self.agent, self.env, {"CHAOS_AGENT_PORT": str(self.port)})
        self.started = time.monotonic()
        self.proc = supervise(self.agent, argv, environ, self.memory, self.status_file,
                              self._tmp.name)
        self.capture = Capture(self.proc)
        deadline = self.started + SERVICE_START
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceFailed(f"the service exited before it listened on port "
                                    f"{self.port}: {self.last_words()}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.02)
        raise ServiceFailed(f"the service did not listen on port {self.port} within "
                            f"{SERVICE_START:g} s")

    def died(self) -> str | None:
        """Why the service is gone, or None while it runs."""
        if self.proc is None or self.proc.poll() is None:
            return None
        status = read_status(self.status_file)
        if status.get("reason") == "memory":
            return (f"stopped at the {mb(self.memory)} memory limit: its processes held "
                    f"{mb(status.get('peak_memory', 0))}")
        return f"the service exited (code {status.get('exit_code', self.proc.returncode)}): " \
               f"{self.last_words()}"

    def memory_stopped(self) -> bool:
        return read_status(self.status_file).get("reason") == "memory"

    def last_words(self) -> str:
        log = self.capture.log() if self.capture is not None else ""
        return (log.strip().splitlines()[-1:] or ["no output"])[0]

    def log(self) -> str:
        return self.capture.log() if self.capture is not None else ""

    def close(self) -> None:
        if self.proc is not None:
            stop(self.proc)
        if self.capture is not None:
            self.capture.finish()
        self._tmp.cleanup()


def post(url: str, body: bytes, timeout: float) -> tuple[int, str]:
    """POST JSON; (status, body text). Raises OSError/HTTPException/TimeoutError."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                      timeout=timeout)
    try:
        conn.request("POST", parts.path or "/", body=body,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def serve_once(agent: Agent, env: AgentEnv, task: str | list[str], timeout: float,
               memory: int, shape: RequestShape | None = None) -> Outcome:
    """A single run of a service agent: start it, send the task, end it."""
    shape = shape or RequestShape()
    started = time.monotonic()
    service = AgentService(agent, env, memory)
    try:
        with service:
            left = max(0.1, timeout - (time.monotonic() - service.started))
            try:
                status, text = post(service.url + shape.path, shape.render(task), left)
            except TimeoutError:
                return Outcome("timeout", None, f"stopped at the {timeout:g} s time limit",
                               None, time.monotonic() - started, service.log())
            except (OSError, http.client.HTTPException) as exc:
                why = service.died() or f"the service dropped the request: {exc}"
                status_ = "memory" if service.memory_stopped() else "crashed"
                return Outcome(status_, None, why, None, time.monotonic() - started,
                               service.log())
    except ServiceFailed as exc:
        return Outcome("crashed", None, str(exc), None, time.monotonic() - started,
                       service.log())
    duration = time.monotonic() - started
    if 200 <= status < 300:
        return Outcome("completed", shape.read(text), None, 0, duration, service.log())
    return Outcome("crashed", None, f"HTTP {status}: {text[:300]}", None, duration,
                   service.log())

