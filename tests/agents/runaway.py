"""Agents that never finish on their own: the harness must stop each at the time limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from typing import Any


def busy_loop(task: Any, env: Any) -> str:
    while True:
        pass


def sleeps_forever(task: Any, env: Any) -> str:
    time.sleep(10_000)
    return "unreachable"


def tool_loop(task: Any, env: Any) -> str:
    """Calls a tool again and again without ever asking the model."""
    url = env.tool_urls["inventory"] + "/tools/get_stock"
    body = json.dumps({"sku": "COAT-01", "warehouse": "BER"}).encode()
    while True:
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            resp.read()


def spawns_child(task: Any, env: Any) -> str:
    """Starts a grandchild that would outlive a careless kill."""
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10_000)"])
    time.sleep(10_000)
    return "unreachable"


def records_pid(task: Any, env: Any) -> str:
    """Writes its pid where the test says, then sleeps: for killing pytest under it."""
    import os
    from pathlib import Path

    Path(os.environ["CHAOS_TEST_PIDFILE"]).write_text(str(os.getpid()))
    time.sleep(10_000)
    return "unreachable"


def floods_stdout(task: Any, env: Any) -> str:
    """Writes 2 GiB to stdout and stderr as fast as it can, then answers."""
    import os

    chunk = b"x" * (1 << 20)
    for _ in range(1024):
        os.write(1, chunk)
        os.write(2, chunk)
    return "flooded"


def echoes_task_size(task: Any, env: Any) -> str:
    return str(len(task))
