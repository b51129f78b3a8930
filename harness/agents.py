"""Agents under test and how the harness runs them.

An agent is real code making real HTTP calls; the harness only hands it URLs. Three kinds:
- a Python callable ``run(task, env)`` (sync or async), named ``module:attr``;
- a command (``exec:COMMAND``), which reads the same settings from environment variables;
- a service (``serve:COMMAND``): a command that listens on ``CHAOS_AGENT_PORT`` and takes tasks
  over HTTP (``POST /run {"task": ...}`` → ``{"output": ...}``), many at once under load.

All run in a child process under a supervisor (``harness/_guard.py``), so an agent that loops,
sleeps, hangs or eats memory is stopped, with everything it started, at the scenario's limits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ._guard import PARENT_ENV

if TYPE_CHECKING:
    from ._warm import Zygote, Zygotes
    from .checks.base import Outcome
from .errors import AgentConfigError

__all__ = ["Agent", "AgentEnv"]

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
#: How much of an agent's stderr is kept for the report.
LOG_TAIL = 4000
#: How much of a command agent's stdout (its answer) is kept.
MAX_ANSWER = 1_000_000
#: The largest task also handed over in the ``CHAOS_TASK`` environment variable (Linux refuses
#: a single one over 128 KiB); ``CHAOS_TASK_FILE`` always holds it.
MAX_TASK_ENV = 64 * 1024
#: The memory limit of a run when its scenario sets none: resident memory of all its processes.
DEFAULT_MEMORY = 2 * 2**30
#: How long an agent has to exit after SIGTERM (at its time limit) before SIGKILL.
GRACE = 0.5
#: The supervisor, run as a script (it imports nothing from the harness).
GUARD = str(Path(__file__).with_name("_guard.py"))


@dataclass(frozen=True)
class AgentEnv:
    """Where the agent's world is. Pass ``llm_base_url`` and ``api_key`` to any OpenAI SDK."""

    llm_base_url: str
    api_key: str
    model: str
    tool_urls: dict[str, str]
    approval_url: str
    session_id: str
    seed: int
    timeout: float
    scenario: str = ""
    #: The scenario's upstreams (the agent's own dependencies): name → proxy ``host:port``.
    upstreams: dict[str, str] = field(default_factory=dict)
    #: The run's tool APIs as one MCP server (streamable HTTP), and each API as its own.
    mcp_url: str = ""
    mcp_urls: dict[str, str] = field(default_factory=dict)

    @property
    def anthropic_base_url(self) -> str:
        """The base URL the anthropic SDK wants (it appends ``/v1/messages`` itself)."""
        return self.llm_base_url.removesuffix("/v1")

    @property
    def gemini_base_url(self) -> str:
        """The base URL the google-genai SDK wants (``http_options.base_url``)."""
        return self.llm_base_url.removesuffix("/v1")

    def to_environ(self) -> dict[str, str]:
        """The same settings as environment variables (for command agents)."""
        env = {
            "OPENAI_BASE_URL": self.llm_base_url,
            "OPENAI_API_KEY": self.api_key,
            "ANTHROPIC_BASE_URL": self.anthropic_base_url,
            "ANTHROPIC_API_KEY": self.api_key,
            "GOOGLE_GEMINI_BASE_URL": self.gemini_base_url,
            "GEMINI_API_KEY": self.api_key,
            "CHAOS_MODEL": self.model,
            "CHAOS_TOOL_URLS": json.dumps(self.tool_urls, sort_keys=True),
            "CHAOS_APPROVAL_URL": self.approval_url,
            "CHAOS_SESSION_ID": self.session_id,
            "CHAOS_SEED": str(self.seed),
            "CHAOS_TIMEOUT": repr(self.timeout),
            "CHAOS_SCENARIO": self.scenario,
            "CHAOS_MCP_URL": self.mcp_url,
            "CHAOS_MCP_URLS": json.dumps(self.mcp_urls, sort_keys=True),
        }
        for name, url in self.tool_urls.items():
            env[f"CHAOS_TOOL_{name.upper()}_URL"] = url
        if self.upstreams:
            env["CHAOS_UPSTREAMS"] = json.dumps(self.upstreams, sort_keys=True)
        for name, address in self.upstreams.items():
            env[f"CHAOS_UPSTREAM_{name.upper()}"] = address
        return env

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> AgentEnv:
        e = os.environ if environ is None else environ
        return cls(
            llm_base_url=e["OPENAI_BASE_URL"], api_key=e["OPENAI_API_KEY"],
            model=e["CHAOS_MODEL"], tool_urls=json.loads(e["CHAOS_TOOL_URLS"]),
            approval_url=e["CHAOS_APPROVAL_URL"], session_id=e["CHAOS_SESSION_ID"],
            seed=int(e["CHAOS_SEED"]), timeout=float(e["CHAOS_TIMEOUT"]),
            scenario=e.get("CHAOS_SCENARIO", ""),
            upstreams=json.loads(e.get("CHAOS_UPSTREAMS", "{}")),
            mcp_url=e.get("CHAOS_MCP_URL", ""), mcp_urls=json.loads(e.get("CHAOS_MCP_URLS", "{}")),
        )


@dataclass(frozen=True)
class Agent:
    name: str
    target: str
    kind: Literal["python", "command", "service"] = "python"
    extra_env: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise AgentConfigError(f"agent name {self.name!r} may use only letters, digits, "
                                   f"'_', '.' and '-'")

    @property
    def spec(self) -> str:
        """The spec that gives this agent again: ``NAME=module:attr``, ``NAME=exec:CMD`` or
        ``NAME=serve:CMD``."""
        prefix = {"command": "exec:", "service": "serve:"}.get(self.kind, "")
        return f"{self.name}={prefix}{self.target}"

    @classmethod
    def parse(cls, spec: str) -> Agent:
        """``NAME=module:attr``, ``NAME=exec:COMMAND`` or ``NAME=serve:COMMAND``."""
        name, sep, target = spec.partition("=")
        name, target = name.strip(), target.strip()
        if not sep or not name or not target:
            raise AgentConfigError(f"agent spec {spec!r} should look like NAME=module:attr, "
                                   f"NAME=exec:COMMAND or NAME=serve:COMMAND (e.g. "
                                   f"guarded=examples.agents.guarded:run)")
        for prefix, kind in (("exec:", "command"), ("serve:", "service")):
            if target.startswith(prefix):
                command = target.removeprefix(prefix).strip()
                if not command:
                    raise AgentConfigError(f"agent {name!r}: '{prefix}' needs a command")
                return cls(name, command, kind)  # type: ignore[arg-type]
        module, colon, attr = target.partition(":")
        if not colon or not module or not attr:
            raise AgentConfigError(f"agent {name!r}: {target!r} should be module:attr "
                                   f"(e.g. examples.agents.guarded:run), exec:COMMAND or "
                                   f"serve:COMMAND")
        return cls(name, target, "python")

    @classmethod
    def from_callable(cls, fn: Callable[..., Any], name: str | None = None) -> Agent:
        module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
        if not module or "<" in qualname or module == "__main__":
            raise AgentConfigError(
                f"{fn!r} cannot be run in a child process: pass a module-level function "
                f"(importable as module:attr), not a lambda, closure or __main__ function"
            )
        return cls(name or str(getattr(fn, "__name__", "agent")), f"{module}:{qualname}",
                   "python")

    def command(self, result_file: str) -> list[str]:
        if self.kind != "python":
            return shlex.split(self.target)
        return [sys.executable, "-m", "harness._agent_host", self.target, result_file]

    def service_command(self) -> list[str]:
        """How the agent runs as a service: its own command, or the harness serving the
        callable to many tasks at once."""
        if self.kind == "command":
            raise AgentConfigError(
                f"agent {self.name!r} is a command (exec:), which runs one task and exits; "
                f"under load the harness needs an agent that serves many tasks: a Python "
                f"callable (module:attr) or a service (serve:COMMAND)")
        if self.kind == "service":
            try:
                return shlex.split(self.target)
            except ValueError as exc:
                raise AgentConfigError(f"agent {self.name!r}: bad command: {exc}") from None
        return [sys.executable, "-m", "harness._agent_service", self.target]


def coerce_agent(agent: Agent | str | Callable[..., Any]) -> Agent:
    if isinstance(agent, Agent):
        return agent
    if isinstance(agent, str):
        return Agent.parse(agent if "=" in agent else f"{_default_name(agent)}={agent}")
    if callable(agent):
        return Agent.from_callable(agent)
    raise AgentConfigError(f"an agent is an Agent, 'NAME=module:attr' or a function, "
                           f"got {agent!r}")


def _default_name(target: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", target.split(":")[-1]) or "agent"


def launch(agent: Agent, env: AgentEnv, task: str | list[str], timeout: float,
           memory: int = DEFAULT_MEMORY, zygotes: Zygotes | None = None,
           cancel: Cancel | None = None) -> Outcome:
    """Run the agent to completion, until ``timeout`` seconds or until its processes hold
    ``memory`` bytes; never leaves a process behind.

    The agent runs under a supervisor (``harness/_guard.py``) that ends everything the agent
    started, however it detached, also when the harness itself dies. Its stdout and stderr go
    through pipes into bounded buffers (the answer's head, the log's tail), never to disk or
    memory whole. The task travels in a file (``CHAOS_TASK_FILE``), and in ``CHAOS_TASK`` too
    when it is small enough for an environment variable.

    With ``zygotes``, a Python agent is forked from its fork server (``harness/_zygote.py``),
    which has its imports done, instead of started as a new interpreter: the same supervisor,
    limits and isolation, without the start-up. Where that is not possible the run starts
    cold, and its outcome says why (``Outcome.cold``). When ``cancel`` is set (the session is
    ending) the agent is stopped as at its time limit."""
    if agent.kind == "service":
        from .load.service import serve_once

        return serve_once(agent, env, task, timeout, memory)
    # (Its supervisor removes it instead when the harness has died meanwhile.)
    with tempfile.TemporaryDirectory(prefix="agent-chaos-", ignore_cleanup_errors=True) as tmp:
        result_file = str(Path(tmp) / "result.json")
        status_file = str(Path(tmp) / "guard.json")
        task_file = Path(tmp) / "task.json"
        task_json = json.dumps(task)
        task_file.write_text(task_json, encoding="utf-8")
        environ = agent_environ(agent, env, {"CHAOS_TASK_FILE": str(task_file)})
        if len(task_json) <= MAX_TASK_ENV:
            environ["CHAOS_TASK"] = task_json
        else:
            environ.pop("CHAOS_TASK", None)
        try:
            argv = agent.command(result_file)
        except ValueError as exc:
            raise AgentConfigError(f"agent {agent.name!r}: bad command: {exc}") from None
        from ._warm import Zygote

        server = warm_server(agent, zygotes) if zygotes and agent.kind == "python" else None
        started = time.monotonic()
        if isinstance(server, Zygote):
            proc: Any = server.spawn({
                "target": agent.target, "result_file": result_file, "environ": environ,
                "cwd": os.getcwd(), "memory": memory, "grace": GRACE,
                "status_file": status_file, "cleanup": tmp})
        else:
            proc = supervise(agent, argv, environ, memory, status_file, tmp)
        start = "warm" if isinstance(server, Zygote) else "cold"
        cold = server if isinstance(server, str) else None
        capture = Capture(proc)
        try:
            wait(proc, timeout, cancel)
        except subprocess.TimeoutExpired:
            capture.timed_out = True
        finally:
            stop(proc)
            capture.finish()
        duration = time.monotonic() - started
        outcome = _outcome(agent, proc.returncode, capture, read_status(status_file),
                           result_file, timeout, memory, duration)
        return dataclasses.replace(outcome, start=start, cold=cold)


def _outcome(agent: Agent, returncode: int | None, capture: Capture, ended: dict[str, Any],
             result_file: str, timeout: float, memory: int, duration: float) -> Outcome:
    """How a run ended, from its supervisor's status, its pipes and its result file."""
    from .checks.base import Outcome
    stdout, stderr = capture.answer(), capture.log()
    code = ended.get("exit_code", returncode)
    if ended.get("reason") == "memory":
        return Outcome("memory", None, f"stopped at the {mb(memory)} memory limit: its "
                       f"processes held {mb(ended.get('peak_memory', 0))}", code,
                       duration, stderr)
    if capture.timed_out:
        return Outcome("timeout", None, f"stopped at the {timeout:g} s time limit",
                       code, duration, stderr)
    if agent.kind == "command":
        if code == 0:
            return Outcome("completed", stdout.strip(), None, 0, duration, stderr)
        last = stderr.strip().splitlines()[-1:] or [f"exit code {code}"]
        return Outcome("crashed", stdout.strip() or None, last[0], code, duration, stderr)
    return _python_outcome(result_file, code, duration, stderr)


def warm_server(agent: Agent, zygotes: Zygotes) -> Zygote | str:
    """The agent's fork server, or why it starts cold."""
    from ._warm import unsupported

    reason = unsupported()
    if reason is not None:
        return reason
    placeholder = AgentEnv(llm_base_url="http://127.0.0.1:9/v1", api_key="sk-agent-chaos",
                           model="chaos-model", tool_urls={}, approval_url="http://127.0.0.1:9/",
                           session_id="", seed=0, timeout=0.0)
    return zygotes.get(agent.target, agent_environ(agent, placeholder, {}),
                       tuple(sorted(f"{k}={v}" for k, v in agent.extra_env.items())))


class Cancel(Protocol):
    def is_set(self) -> bool: ...


def wait(proc: Any, timeout: float, cancel: Cancel | None) -> None:
    """Wait for the run to end, ``TimeoutExpired`` at ``timeout`` or when ``cancel`` is set."""
    deadline = time.monotonic() + timeout
    while cancel is not None and not cancel.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            proc.wait(timeout=min(left, 0.25))
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait(timeout=0 if cancel is not None else timeout)


def agent_environ(agent: Agent, env: AgentEnv, extra: dict[str, str]) -> dict[str, str]:
    """The environment an agent's process starts with: the world's settings and ``extra``."""
    return {**os.environ, **env.to_environ(), **agent.extra_env, **extra,
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            PARENT_ENV: str(os.getpid())}


def supervise(agent: Agent, argv: list[str], environ: dict[str, str], memory: int,
              status_file: str, tmp: str) -> subprocess.Popen[bytes]:
    """Start ``argv`` under the supervisor (its own session), stdout and stderr piped."""
    if agent.kind != "python" and (
            not argv or shutil.which(argv[0], path=environ.get("PATH")) is None):
        raise AgentConfigError(f"agent {agent.name!r}: cannot start "
                               f"{argv[0] if argv else agent.target!r}: no such program")
    guard = [sys.executable, "-I", "-S", GUARD, "--memory", str(memory),
             "--grace", repr(GRACE), "--status", status_file, "--cleanup", tmp, "--"]
    try:
        return subprocess.Popen([*guard, *argv], env=environ, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    except OSError as exc:
        raise AgentConfigError(f"agent {agent.name!r}: cannot start {sys.executable!r}: "
                               f"{exc.strerror}") from None


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a supervised process and everything it started: the supervisor ends them
    (SIGTERM, a grace, SIGKILL); if it does not manage in time, they are all killed here."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=GRACE + 0.4)
    if proc.poll() is None:
        from ._guard import end_tree

        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGSTOP)
        end_tree(proc.pid, 0.0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the agent's own group, whatever is left of it
    proc.wait()


def read_status(path: str) -> dict[str, Any]:
    try:
        status = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return status if isinstance(status, dict) else {}


def mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


class Capture:
    """Reads an agent's stdout and stderr as they come, keeping the first ``MAX_ANSWER``
    bytes of stdout and the last ``LOG_TAIL`` bytes of stderr; the rest is only counted."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0
        #: Whether the run was stopped at its time limit.
        self.timed_out = False
        self._stop = threading.Event()
        self._streams = [s for s in (proc.stdout, proc.stderr) if s is not None]
        self._out = proc.stdout
        self._thread = threading.Thread(target=self._pump, name="agent-chaos-capture",
                                        daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        import select

        open_ = list(self._streams)
        while open_ and not self._stop.is_set():
            ready, _, _ = select.select(open_, [], [], 0.1)
            for stream in ready:
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    open_.remove(stream)
                elif stream is self._out:
                    room = MAX_ANSWER - len(self.head)
                    self.head += chunk[:max(room, 0)]
                    self.dropped += max(len(chunk) - max(room, 0), 0)
                else:
                    self.tail += chunk
                    del self.tail[:-LOG_TAIL]

    def finish(self) -> None:
        """Stop reading: after the agent's end, a detached grandchild may hold the pipes open;
        what it writes then is not the agent's."""
        self._thread.join(timeout=1.0)
        self._stop.set()
        self._thread.join()
        for stream in self._streams:
            stream.close()

    def answer(self) -> str:
        text = self.head.decode("utf-8", "replace")
        return text + (f"… [{self.dropped} more bytes]" if self.dropped else "")

    def log(self) -> str:
        return self.tail.decode("utf-8", "replace")


def _python_outcome(result_file: str, code: int | None, duration: float, log: str) -> Outcome:
    from .checks.base import Outcome
    try:
        result = json.loads(Path(result_file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        last = log.strip().splitlines()[-1:] or [f"the agent process died (exit code {code})"]
        return Outcome("crashed", None, last[0], code, duration, log)
    if result.get("status") == "config_error":
        raise AgentConfigError(result["error"])
    return Outcome(result["status"], result.get("output"), result.get("error"), code, duration,
                   log)
