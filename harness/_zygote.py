"""Warm starts: a fork server ("zygote") for one Python agent.

``python -m harness._zygote module:attr NAME DIR`` imports the agent's module once, with
everything it imports, then serves runs: for each, it forks a supervisor (``harness/_guard.py``'s
loop, in its own session) that forks the agent. A run so skips the interpreter start and the
imports (``import openai`` alone is about a second) and is still the same process tree as a
cold start: killable with everything it starts, at its time and memory limits.

No state of one run reaches another: every run is forked from the zygote, which has run no
agent code but the imports. The agent's own modules (its package, and any module not installed
in site-packages) are even dropped from ``sys.modules`` after that first import, so that each
run imports them again, in its own environment: a module-level ``client = OpenAI()`` gets the
run's base URL, as in a cold start. The libraries they import stay imported: that is the warm
part.

Not forkable, so started cold (the harness shows the reason once): an agent whose import
starts threads (a fork copies only the thread that forks; locks the others held stay locked).

The protocol, on an abstract Unix socket (Linux; ``NAME``), one connection a run: the harness
sends an 8-byte length with the run's stdout and stderr pipes (``SCM_RIGHTS``), then that many
bytes of JSON (target, result file, environment, working directory, limits); the zygote
answers a line
``{"pid": PID}`` with the supervisor's pid, and a line ``{"exit": CODE}`` when it has ended.
The zygote exits when its stdin closes: when the harness exits or dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import sys
import sysconfig
from typing import Any

HEADER = struct.Struct("!Q")
#: The largest request (the environment, with a task of up to 64 KiB in it).
MAX_REQUEST = 16 * 2**20


def user_modules(target: str, before: set[str]) -> list[str]:
    """The modules imported since ``before`` that are the user's: the agent's top-level
    package, and anything not in the standard library or site-packages (the harness aside)."""
    top = target.partition(":")[0].split(".")[0]
    installed = tuple(os.path.realpath(p) + os.sep for p in {
        sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})
    found = []
    for name, module in list(sys.modules.items()):
        if name in before:
            continue
        if name == top or name.startswith(top + "."):
            found.append(name)
            continue
        if name == "harness" or name.startswith("harness."):
            continue
        path = getattr(module, "__file__", None)
        if path and not os.path.realpath(path).startswith(installed):
            found.append(name)
    return found


def threads() -> list[str]:
    """The threads of this process other than the main one (native ones too)."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        tasks = []
    import threading

    named = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    extra = max(len(tasks) - 1 - len(named), 0)
    return named + ["(a native thread)"] * extra


def preload(target: str) -> dict[str, Any]:
    """Import the agent's module, keep what it imported, drop the user's own modules."""
    import harness.agents  # noqa: F401 - what every run's host imports
    from harness._agent_host import resolve

    before = set(sys.modules)
    error = None
    try:

        resolve(target)
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
    dropped = user_modules(target, before)
    for name in dropped:
        sys.modules.pop(name, None)
    import gc

    gc.collect()
    running = threads()
    info: dict[str, Any] = {"preloaded": len(sys.modules) - len(before) - len(dropped),
                            "dropped": len(dropped)}
    if error:
        info["import_error"] = error
    if running:
        info["unsafe"] = (f"importing it starts {len(running)} thread(s) "
                          f"({', '.join(running[:3])}), which a fork would not copy")
    return info


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = conn.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise ConnectionError("the harness hung up mid-request")
        chunks += chunk
    return bytes(chunks)


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    head, fds, _, _ = socket.recv_fds(conn, HEADER.size, 2)
    if len(head) < HEADER.size:
        head += _recv_exact(conn, HEADER.size - len(head))
    (size,) = HEADER.unpack(head)
    if size > MAX_REQUEST or len(fds) != 2:
        for fd in fds:
            os.close(fd)
        raise ValueError("a malformed request")
    return json.loads(_recv_exact(conn, size)), fds


def _run(request: dict[str, Any], fds: list[int], inherited: list[int]) -> int:
    """In the forked supervisor: become the run's session and supervise the agent."""
    from harness import _guard

    for fd in inherited:  # the zygote's listener, pipes and connections
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    os.setsid()
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    for fd in fds:
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["environ"])
    os.environ[_guard.PARENT_ENV] = str(os.getppid())  # the supervisor's parent: this server

    def start() -> int:
        import random

        random.seed()  # as a new process would: forks must not share the zygote's stream
        from harness._agent_host import main

        try:
            return main(["agent", request["target"], request["result_file"]])
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()

    return _guard.supervise([sys.executable], memory=request["memory"],
                            grace=request["grace"], status_file=request["status_file"],
                            cleanup=request["cleanup"], start=start)


def serve(target: str, name: str, directory: str) -> int:
    """Serve runs on the abstract Unix socket ``name``; ``directory`` is the harness's for
    this server (its log), removed at the end."""
    os.environ.pop("CHAOS_TASK", None)
    info = preload(target)
    if "unsafe" in info:
        print(json.dumps(info), flush=True)
        return 3
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + name)
    listener.listen(64)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the harness's to handle
    print(json.dumps(info), flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # what an import prints later must not reach the harness's pipe
    os.close(devnull)
    stdin = sys.stdin.fileno()
    runs: dict[int, socket.socket] = {}  # supervisor pid → the connection it answers on
    try:
        while True:
            ready, _, _ = select.select([listener, stdin, wake_r], [], [], 1.0)
            if stdin in ready and not os.read(stdin, 4096):
                return 0  # the harness is gone (or done)
            if wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
            _reap(runs)
            if listener in ready:
                _accept(listener, runs, [listener.fileno(), stdin, wake_r, wake_w])
    finally:
        # The runs under way end with this server: each supervisor has the kernel's
        # parent-death signal, ends its agent's tree, and (the harness gone) removes the run's
        # directory.
        listener.close()
        # Its directory (the socket, the log): the harness removes it too, unless it died.
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


def _accept(listener: socket.socket, runs: dict[int, socket.socket],
            inherited: list[int]) -> None:
    conn, _ = listener.accept()
    try:
        conn.settimeout(5.0)
        request, fds = _read_request(conn)
    except (OSError, ValueError, ConnectionError):
        conn.close()
        return
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            others = [c.fileno() for c in (conn, *runs.values())]
            code = _run(request, fds, [*inherited, *others])
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    runs[pid] = conn
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _reap(runs: dict[int, socket.socket]) -> None:
    while runs:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = runs.pop(pid, None)
        if conn is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
        conn.close()


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], sys.argv[2], sys.argv[3]))
