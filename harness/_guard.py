"""Agents die with the harness, however it ends.

``die_with_parent()`` asks the kernel (Linux ``PR_SET_PDEATHSIG``) to SIGKILL this process when
the thread that started it exits, also when pytest itself is SIGKILLed; elsewhere it does
nothing. ``python -m harness._guard COMMAND...`` does so and then becomes COMMAND (the signal
survives ``exec``): that is how command agents are started. Kept free of heavy imports: it runs
before every agent.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PARENT_ENV = "CHAOS_HARNESS_PID"


def die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    # The harness may have died before the line above: then no signal will ever come.
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(137)


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m harness._guard COMMAND [ARG...]")
    die_with_parent()
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        sys.stderr.write(f"cannot start {argv[0]!r}: {exc.strerror}\n")
        os._exit(127)


if __name__ == "__main__":
    main(sys.argv[1:])
