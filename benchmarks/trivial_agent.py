"""An agent that answers at once without calling anything: what is left to measure is the
harness (gateway, Locust, the service host)."""

from __future__ import annotations

from typing import Any


def run(task: str, env: Any) -> str:
    return f"done: {task[:40]}"
