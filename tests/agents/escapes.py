"""Agents that start processes meant to outlive them, in the twelve ways a process can detach.

Each escaped process writes its pid to ``$CHAOS_TEST_PIDDIR/<mode>`` and sleeps. The agent waits
until all have written, then sleeps past its time limit (``escapes``) or answers at once
(``escapes_and_answers``, without the multiprocessing child, which Python itself would wait
for). Also: an agent that uses its SIGTERM grace, and one that eats memory.
"""

from __future__ import annotations

import multiprocessing
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SLEEP = ("import os, sys, time; open(os.path.join(sys.argv[1], sys.argv[2]), 'w')"
         ".write(str(os.getpid())); time.sleep(9_999)")
STUBBORN = ("import os, signal, sys, time; [signal.signal(s, signal.SIG_IGN) for s in "
            "(signal.SIGTERM, signal.SIGHUP, signal.SIGINT)]; " + SLEEP.split("; ", 1)[1])


def _sleeper(piddir: str, mode: str) -> list[str]:
    return [sys.executable, "-c", SLEEP, piddir, mode]


def _sleep_here(piddir: str, mode: str) -> None:
    """In a forked child: record the pid and sleep, never returning into the agent."""
    try:
        Path(piddir, mode).write_text(str(os.getpid()))
        time.sleep(10_000)
    finally:
        os._exit(0)


def _spawned(piddir: str, mode: str) -> None:  # multiprocessing target
    Path(piddir, mode).write_text(str(os.getpid()))
    time.sleep(10_000)


def _double_fork(piddir: str, mode: str, *, setsid: bool) -> None:
    pid = os.fork()
    if pid == 0:
        if setsid:
            os.setsid()
        if os.fork() == 0:
            _sleep_here(piddir, mode)
        os._exit(0)
    os.waitpid(pid, 0)


def _start_all(piddir: str, *, joined_at_exit: bool = True) -> list[str]:
    modes: list[str] = []

    def mode(name: str) -> str:
        modes.append(name)
        return name

    quoted = shlex.join(_sleeper(piddir, "X")[:-1])
    subprocess.Popen(_sleeper(piddir, mode("popen")))
    subprocess.Popen(_sleeper(piddir, mode("new_session")), start_new_session=True)
    subprocess.Popen(_sleeper(piddir, mode("process_group")), process_group=0)
    if os.fork() == 0:
        _sleep_here(piddir, mode("fork"))
    modes.append("fork")
    _double_fork(piddir, mode("double_fork"), setsid=False)
    _double_fork(piddir, mode("daemon"), setsid=True)
    subprocess.run(["bash", "-c", f"set -m; {quoted} bash_disown & disown"], check=True)
    modes.append("bash_disown")
    subprocess.run(["sh", "-c", f"{quoted} sh_background > /dev/null 2>&1 &"], check=True)
    modes.append("sh_background")
    subprocess.run(["setsid", "-f", "nohup", *_sleeper(piddir, mode("setsid_nohup"))],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if joined_at_exit:  # Python waits for such a child before it exits
        process = multiprocessing.get_context("spawn").Process(
            target=_spawned, args=(piddir, mode("multiprocessing")), daemon=False)
        process.start()
    os.posix_spawn(sys.executable, _sleeper(piddir, mode("posix_spawn_setsid")), os.environ,
                   setsid=True)
    subprocess.Popen([sys.executable, "-c", STUBBORN, piddir, mode("ignores_sigterm")],
                     start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(Path(piddir, m).exists() for m in modes):
        time.sleep(0.02)
    return modes


def escapes(task: Any, env: Any) -> str:
    _start_all(os.environ["CHAOS_TEST_PIDDIR"])
    time.sleep(10_000)
    return "unreachable"


def escapes_and_answers(task: Any, env: Any) -> str:
    modes = _start_all(os.environ["CHAOS_TEST_PIDDIR"], joined_at_exit=False)
    return f"started {len(modes)}"


def flushes_on_sigterm(task: Any, env: Any) -> str:
    """Sleeps past its limit; on SIGTERM writes what it has to ``$CHAOS_TEST_PIDDIR/flushed``."""
    def flush(signum: int, frame: Any) -> None:
        Path(os.environ["CHAOS_TEST_PIDDIR"], "flushed").write_text("partial work saved")
        os._exit(0)

    signal.signal(signal.SIGTERM, flush)
    time.sleep(10_000)
    return "unreachable"


def eats_memory(task: Any, env: Any) -> str:
    """Allocates (and touches) 16 MB after 16 MB, without end, in a child process."""
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\nhog = []\nwhile True:\n"
                              "    hog.append(b'x' * (16 << 20))\n    time.sleep(0.005)"],
                             start_new_session=True)
    child.wait()
    return "unreachable"
