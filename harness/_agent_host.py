"""Runs a Python agent ``run(task, env)`` in a child process (``python -m harness._agent_host
module:attr RESULT_FILE``) and writes how it ended as JSON."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import sys
import traceback
from typing import Any

from harness._guard import die_with_parent

#: Longest answer handed back (as harness.agents.MAX_ANSWER for command agents).
MAX_OUTPUT = 1_000_000


def _write(path: str, result: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f)


def resolve(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise LookupError(f"cannot import agent module {module_name!r}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LookupError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise LookupError(f"agent {target!r} is not callable")
    return obj


def main(argv: list[str]) -> int:
    die_with_parent()
    target, result_file = argv[1], argv[2]
    from harness.agents import AgentEnv

    try:
        run = resolve(target)
    except LookupError as exc:
        _write(result_file, {"status": "config_error", "error": str(exc)})
        return 2
    task_file = os.environ.get("CHAOS_TASK_FILE")
    if task_file:
        with open(task_file, encoding="utf-8") as f:
            task = json.load(f)
    else:
        task = json.loads(os.environ["CHAOS_TASK"])
    env = AgentEnv.from_environ()
    try:
        output = run(task, env)
        if inspect.isawaitable(output):
            output = asyncio.run(_await(output))
    except Exception as exc:  # the agent crashed: that is a finding, not a harness error
        traceback.print_exc()
        _write(result_file, {"status": "crashed", "error": f"{type(exc).__name__}: {exc}"})
        return 1
    if output is not None and not isinstance(output, str):
        output = json.dumps(output, default=str)
    if output is not None and len(output) > MAX_OUTPUT:  # the harness keeps no more
        output = output[:MAX_OUTPUT] + f"… [{len(output) - MAX_OUTPUT} more characters]"
    _write(result_file, {"status": "completed", "output": output})
    return 0


async def _await(awaitable: Any) -> Any:
    return await awaitable


if __name__ == "__main__":
    sys.exit(main(sys.argv))
