"""The supervisor of one agent run: everything the agent starts ends with the run.

``python -I -S harness/_guard.py [options] -- COMMAND...`` (the harness starts it in a new
session) makes itself a *child subreaper* (Linux ``PR_SET_CHILD_SUBREAPER``), so that whatever
the agent starts stays below it however it detaches (a new session, a new process group, a
daemon's double fork, ``disown``); it starts COMMAND and waits. The run ends when

- COMMAND exits: whatever it left running is ended;
- the supervisor gets SIGTERM (the harness at the time limit) or its parent dies (the kernel's
  parent-death signal, also when pytest itself is SIGKILLed): every process below it gets
  SIGTERM, ``--grace`` seconds to exit, then SIGKILL;
- the processes below it hold more than ``--memory`` bytes of resident memory: all get SIGKILL.

It writes how the run ended to ``--status`` as JSON. When its parent died it removes
``--cleanup`` (the run's temporary directory): nobody else is left to.

Kept to the standard library and free of ``harness`` imports: it runs before every agent, as a
script (``-I -S``: no site, no user path). ``die_with_parent()`` is also used by the agent host.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PARENT_ENV = "CHAOS_HARNESS_PID"
#: How often the supervisor looks at its processes (exits, memory).
TICK = 0.02
#: How long it keeps killing a tree that keeps forking before it gives up.
KILL_FOR = 3.0

_stop: list[int] = []


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Have the kernel send ``sig`` to this process when its parent dies; exit at once if
    the parent (``$CHAOS_HARNESS_PID``) is already gone."""
    if not _prctl(PR_SET_PDEATHSIG, int(sig)):
        return
    # The parent may have died before the line above: then no signal will ever come.
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(137)


# --- the process tree ---------------------------------------------------------------------

def _children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:  # no /proc (macOS): the harness kills the agent's process group instead
        return tree
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) < 2 or not fields[1].isdigit():  # read as it exited
            continue
        if fields[0] == b"Z":  # a zombie holds nothing; its parent reaps it
            continue
        tree.setdefault(int(fields[1]), []).append(int(name))
    return tree


def children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    return _children_map().get(pid, [])


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (parents before children)."""
    tree = _children_map()
    found: list[int] = []
    todo = list(tree.get(root, ()))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, ()))
    return found


def resident(pids: list[int]) -> int:
    """Resident memory of ``pids`` in bytes (shared pages counted in each, as RSS is)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _reap() -> list[tuple[int, int]]:
    ended: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        ended.append((pid, status))


def end_tree(root: int, grace: float, reaped: dict[int, int] | None = None) -> int:
    """End every process below ``root``: SIGTERM and ``grace`` seconds to exit, then SIGKILL
    until none is left (a tree that forks while it is killed is killed again). Returns how
    many processes there were. With ``reaped``, the caller is their subreaper: this reaps
    its children as they end and records their wait statuses there."""
    pids = descendants(root)
    if not pids:
        return 0
    seen = set(pids)
    if grace > 0:
        _signal_all(pids, signal.SIGTERM)
        _signal_all(pids, signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            _reap_into(reaped)
            if not descendants(root):
                return len(seen)
            time.sleep(TICK)
    deadline = time.monotonic() + KILL_FOR
    while time.monotonic() < deadline:
        pids = descendants(root)
        if not pids:
            break
        seen.update(pids)
        _signal_all(pids, signal.SIGSTOP)  # no more forks while the tree is being killed
        _signal_all(descendants(root), signal.SIGKILL)
        time.sleep(TICK / 4)
        _reap_into(reaped)
    _reap_into(reaped)
    return len(seen)


def _reap_into(sink: dict[int, int] | None) -> None:
    if sink is not None:
        sink.update(_reap())


# --- the supervisor -----------------------------------------------------------------------

def _on_signal(signum: int, frame: object) -> None:
    _stop.append(signum)


def _code(status: int) -> int:
    """A wait status as Popen gives it: the exit code, or minus the killing signal."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def harness_gone(parent: int) -> bool:
    """Whether the harness that started this supervisor has died. Reparenting alone does not
    tell at once: when a process is killed, the thread that started a child exits first, the
    child is handed to another thread of the same process (the same pid) while the rest die,
    and only then to init. A process whose main thread has exited shows as a zombie."""
    if os.getppid() != parent:
        return True
    try:
        with open(f"/proc/{parent}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True
    state = stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3]
    return state in (b"Z", b"X", b"x")


def supervise(argv: list[str], *, memory: int, grace: float, status_file: str | None,
              cleanup: str | None, start: Callable[[], int] | None = None) -> int:
    """Run ``argv`` (or, in a fork, ``start()``: a warm start from ``harness/_zygote.py``)
    and end everything it starts; returns its exit code."""
    parent = os.getppid()
    die_with_parent(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    me = os.getpid()
    os.environ[PARENT_ENV] = str(me)  # the agent's parent is now this process
    started = time.monotonic()
    child = os.fork()
    if child == 0:  # the agent
        try:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            die_with_parent()
            if start is not None:
                os._exit(start())
            os.execvp(argv[0], argv)
        except OSError as exc:
            os.write(2, f"cannot start {argv[0]!r}: {exc.strerror}\n".encode())
        finally:
            os._exit(127)
    reaped: dict[int, int] = {}
    reason = "exited"
    peak = 0
    next_look = 0.0
    exited = _ExitWatch(child)
    while True:
        _reap_into(reaped)
        if child in reaped:
            break
        if _stop:
            reason = "stopped"
            break
        now = time.monotonic()
        if memory and now >= next_look:
            held = resident(descendants(me))
            peak = max(peak, held)
            if held > memory:
                reason = "memory"
                break
            # Looking costs a walk of /proc: often at first, then every 100 ms.
            next_look = now + (TICK if now - started < 1 else 0.1)
        exited(TICK)
    exited.close()
    try:
        left = end_tree(me, 0.0 if reason == "memory" else grace, reaped)
        code = _code(reaped[child]) if child in reaped else None
        if status_file and not harness_gone(parent):
            with open(status_file, "w", encoding="utf-8") as f:
                json.dump({"reason": reason, "exit_code": code, "peak_memory": peak,
                           "ended": left, "subreaper": subreaper,
                           "signal": _stop[0] if _stop else None}, f)
    finally:
        # Whatever went wrong above: with the harness gone, nobody else removes the run's dir.
        if cleanup and harness_gone(parent):
            import shutil

            shutil.rmtree(cleanup, ignore_errors=True)
    return 0 if code is None else (code if code >= 0 else 128 - code)


class _ExitWatch:
    """Waits up to a tick for a child to exit, woken the moment it does (a pidfd, Linux 5.3+):
    a run that ends is seen at once, not at the next tick. Elsewhere it sleeps the tick."""

    def __init__(self, child: int) -> None:
        try:
            self.fd: int | None = os.pidfd_open(child)
        except (AttributeError, OSError):
            self.fd = None

    def __call__(self, timeout: float) -> None:
        if self.fd is None:
            time.sleep(timeout)
            return
        import select

        select.select([self.fd], [], [], timeout)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


def main(args: list[str]) -> int:
    memory, grace = 0, 0.5
    status_file = cleanup = None
    while args and args[0] != "--":
        option, value, args = args[0], args[1] if len(args) > 1 else "", args[2:]
        if option == "--memory":
            memory = int(value)
        elif option == "--grace":
            grace = float(value)
        elif option == "--status":
            status_file = value
        elif option == "--cleanup":
            cleanup = value
        else:
            sys.stderr.write(f"harness/_guard.py: unknown option {option!r}\n")
            return 2
    if len(args) < 2:
        sys.stderr.write("usage: python harness/_guard.py [--memory BYTES] [--grace SECONDS] "
                         "[--status FILE] [--cleanup DIR] -- COMMAND [ARG...]\n")
        return 2
    return supervise(args[1:], memory=memory, grace=grace, status_file=status_file,
                     cleanup=cleanup)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
