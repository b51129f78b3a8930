"""Serves a Python agent ``run(task, env)`` to many users at once, in one process
(``python -m harness._agent_service module:attr``), so that state the agent shares between
tasks is shared for real, as in production.

- ``POST /run`` with ``{"task": ...}`` → 200 ``{"output": ...}``, or 500 ``{"error": ...}``
  when the agent raised (the traceback goes to stderr).
- ``GET /health`` → 200 once the agent is imported.

A sync agent runs each task in a thread of its own (up to ``MAX_THREADS`` at once); an async
agent runs each task as a task on the one event loop. It listens on 127.0.0.1 at
``CHAOS_AGENT_PORT`` and takes the world's settings from the environment like any agent.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness._agent_host import MAX_OUTPUT, resolve
from harness._guard import die_with_parent

#: Tasks of a sync agent running at once; more wait for a thread.
MAX_THREADS = 512


def _shape(output: Any) -> Any:
    if output is not None and not isinstance(output, str):
        output = json.dumps(output, default=str)
    if output is not None and len(output) > MAX_OUTPUT:
        output = output[:MAX_OUTPUT] + f"… [{len(output) - MAX_OUTPUT} more characters]"
    return output


def main(argv: list[str]) -> int:
    die_with_parent()
    from aiohttp import web

    from harness.agents import AgentEnv

    try:
        run = resolve(argv[1])
    except LookupError as exc:
        print(f"agent-chaos: {exc}", file=sys.stderr)
        return 2
    env = AgentEnv.from_environ()
    port = int(os.environ["CHAOS_AGENT_PORT"])
    pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="agent-task")
    is_async = inspect.iscoroutinefunction(run) or (
        not inspect.isroutine(run) and inspect.iscoroutinefunction(type(run).__call__))

    def call_sync(task: Any) -> Any:
        output = run(task, env)
        if inspect.isawaitable(output):  # a sync function that returned a coroutine
            return asyncio.run(_await(output))
        return output

    async def handle(request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "task" not in body:
            return web.json_response({"error": "send {\"task\": ...}"}, status=400)
        try:
            if is_async:
                output = await run(body["task"], env)
            else:
                output = await asyncio.get_running_loop().run_in_executor(
                    pool, call_sync, body["task"])
        except Exception as exc:  # the agent failed this task: a finding, not a crash
            traceback.print_exc()
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=500)
        return web.json_response({"output": _shape(output)})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=16 * 2**20)
    app.router.add_post("/run", handle)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None,
                handle_signals=True, shutdown_timeout=0.5)
    return 0


async def _await(awaitable: Any) -> Any:
    return await awaitable


if __name__ == "__main__":
    sys.exit(main(sys.argv))
