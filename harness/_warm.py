"""The harness's side of warm starts: one fork server (``harness/_zygote.py``) per Python agent,
started on its first run and kept for the process's life.

``spawn()`` gives a process handle with the ``subprocess.Popen`` methods the launcher uses
(``poll``, ``wait``, ``send_signal``, ``pid``, ``returncode``, ``stdout``, ``stderr``), so a warm
run is supervised, captured and stopped as a cold one is. Where a warm start is not possible
(not Linux, an agent whose import starts threads, a fork server that does not come up), the
reason is kept and every run of that agent starts cold.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import IO, Any

from ._zygote import HEADER

#: How long a fork server may take to import the agent's module before the agent starts cold.
START_TIMEOUT = 120.0


def unsupported() -> str | None:
    """Why this platform cannot start agents warm, or None."""
    if not sys.platform.startswith("linux"):
        return "warm starts need Linux (fork, pidfd, /proc)"
    if not hasattr(socket, "send_fds") or not hasattr(os, "pidfd_open"):
        return "warm starts need Python's socket.send_fds and os.pidfd_open"
    return None


class WarmProcess:
    """A warm run's supervisor, forked by the fork server: not this process's child, so its
    end comes as a line on the run's connection."""

    def __init__(self, conn: socket.socket, pid: int, stdout: IO[bytes],
                 stderr: IO[bytes]) -> None:
        self._conn = conn
        self._buffer = b""
        self.pid = pid
        self.returncode: int | None = None
        self.stdout: IO[bytes] | None = stdout
        self.stderr: IO[bytes] | None = stderr

    def _read(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            ready, _, _ = select.select([self._conn], [], [], left)
            if not ready:
                return
            chunk = self._conn.recv(4096)
            if not chunk:  # the fork server died: its runs were ended with it
                self._finish(-signal.SIGKILL)
                return
            self._buffer += chunk
            while b"\n" in self._buffer and self.returncode is None:
                line, _, self._buffer = self._buffer.partition(b"\n")
                message = json.loads(line)
                if "exit" in message:
                    self._finish(int(message["exit"]))

    def _finish(self, code: int) -> None:
        self.returncode = code
        self._conn.close()

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._read(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(["agent-chaos warm run"], timeout or 0.0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)


#: Every fork server of this process not yet closed.
_LIVE: weakref.WeakSet[Zygote] = weakref.WeakSet()


def end_all() -> None:
    """Tell every fork server to end now, with the runs under way (the session is being
    stopped: SIGTERM); only closes pipes, so a signal handler may call it."""
    for server in list(_LIVE):
        server.end()


class Zygote:
    """One fork server: started, asked for runs, closed."""

    def __init__(self, target: str, environ: dict[str, str]) -> None:
        self.target = target
        self._dir = tempfile.mkdtemp(prefix="agent-chaos-zygote-")
        # An abstract socket (Linux): no path to outgrow AF_UNIX's 108 bytes in a deep
        # TMPDIR, nothing on disk to leave behind.
        self.name = f"agent-chaos-zygote-{os.getpid()}-{secrets.token_hex(8)}"
        self.socket = "\0" + self.name
        self._log = open(Path(self._dir) / "zygote.log", "w+b")  # noqa: SIM115 - kept open
        self.info: dict[str, Any] = {}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "harness._zygote", target, self.name, self._dir],
            env=environ,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            start_new_session=True)
        _LIVE.add(self)

    def ready(self, timeout: float = START_TIMEOUT) -> str | None:
        """Wait for the fork server to have imported the agent: None when it serves, else
        why it cannot."""
        stdout = self.proc.stdout
        if stdout is None:
            return "no pipe from the fork server"
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else b""
        if not ready:
            return f"its fork server did not import it within {timeout:g} s"
        try:
            self.info = json.loads(line)
        except ValueError:
            self.proc.wait()
            return f"its fork server failed: {self.log_tail() or 'no message'}"
        unsafe = self.info.get("unsafe")
        return str(unsafe) if unsafe else None

    def log_tail(self) -> str:
        self._log.flush()
        self._log.seek(0)
        lines = self._log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, request: dict[str, Any]) -> WarmProcess:
        """Start one run; its stdout and stderr come through pipes, as Popen's do."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.socket)
            body = json.dumps(request).encode()
            socket.send_fds(conn, [HEADER.pack(len(body))], [out_w, err_w])
            conn.sendall(body)
            reply = b""
            while not reply.endswith(b"\n"):
                ready, _, _ = select.select([conn], [], [], 10.0)
                chunk = conn.recv(4096) if ready else b""
                if not chunk:
                    raise OSError("the fork server did not start the run")
                reply += chunk
        except BaseException:
            conn.close()
            for fd in (out_r, err_r):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        first, _, rest = reply.partition(b"\n")
        stdout = open(out_r, "rb", buffering=0)  # noqa: SIM115 - closed by the capture
        stderr = open(err_r, "rb", buffering=0)  # noqa: SIM115 - closed by the capture
        proc = WarmProcess(conn, int(json.loads(first)["pid"]), stdout, stderr)
        proc._buffer = rest
        return proc

    def end(self) -> None:
        """Close the fork server's stdin: its signal to exit (its runs end with it)."""
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def close(self) -> None:
        _LIVE.discard(self)
        self.end()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)


class Zygotes:
    """Fork servers, one per agent target and environment, kept until ``close()`` (a
    ``Runner`` holds one set for its session)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, ...], threading.Lock] = {}
        self._servers: dict[tuple[str, ...], Zygote] = {}
        #: Why an agent starts cold, by target.
        self.cold: dict[tuple[str, ...], str] = {}

    def get(self, target: str, environ: dict[str, str],
            extra: tuple[str, ...] = ()) -> Zygote | str:
        """The agent's fork server, started if need be (with ``environ``, for its imports);
        or why the agent starts cold. ``extra`` tells apart agents of one target."""
        key = (target, os.getcwd(), environ.get("PYTHONPATH", ""), *extra)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key in self.cold:
                return self.cold[key]
            server = self._servers.get(key)
            if server is not None and server.alive:
                return server
            if server is not None:  # it died (killed from outside): a new one
                server.close()
            server = Zygote(target, environ)
            reason = server.ready()
            if reason is not None:
                server.close()
                self.cold[key] = reason
                return reason
            self._servers[key] = server
            return server

    def servers(self) -> list[Zygote]:
        with self._lock:
            return list(self._servers.values())

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()

