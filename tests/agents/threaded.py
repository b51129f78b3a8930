"""An agent whose import starts a thread: a fork would not copy it, so it starts cold."""

from __future__ import annotations

import threading
import time
from typing import Any


def _beat() -> None:
    while True:
        time.sleep(1)


threading.Thread(target=_beat, name="heartbeat", daemon=True).start()


def run(task: str, env: Any) -> str:
    return f"ran in a thread-safe start: {threading.active_count()} threads"
