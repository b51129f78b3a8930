"""The harness's HTTP servers (mock LLM, tool APIs, approvals) on their own event loop, in a
dedicated thread: they serve sync and async tests alike, whatever the user's event loop.

Routes (every run has its own session in the path, so concurrent runs never mix):
- LLM:   POST /s/{session}/v1/chat/completions, GET /s/{session}/v1/models
- tools: GET /s/{session}/{tool}/tools, POST /s/{session}/{tool}/tools/{operation},
         POST /s/{session}/_approvals
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from aiohttp import web

    from .toxiproxy.server import EmbeddedToxiproxy
    from .world.run import RunWorld

T = TypeVar("T")
#: A connection that has not sent a whole request (its headers) this long after it opened or
#: after its last response is closed, as nginx closes idle keep-alive connections: a client
#: that opens connections and never finishes a request cannot hold them. Longer than any
#: latency a scenario sensibly puts on the wire.
IDLE_TIMEOUT = 75.0


def app_runner(app: web.Application) -> web.AppRunner:
    """How every HTTP server of the harness runs (mock LLM, tool APIs, Toxiproxy API)."""
    from aiohttp import web

    return web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0,
                         keepalive_timeout=IDLE_TIMEOUT)


class ServerHost:
    """Starts lazily; ``close()`` stops the servers and joins the thread."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.runs: dict[str, RunWorld] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self.llm_port = 0
        self.tools_port = 0
        self._toxiproxy: EmbeddedToxiproxy | None = None
        self._starting = threading.RLock()  # runs in parallel start it once

    def start(self) -> None:
        with self._starting:
            self._start()

    def _start(self) -> None:
        if self._thread is not None:
            return
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start_servers())
            except BaseException as exc:  # pragma: no cover - reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop_servers())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=main, name="agent-chaos-servers", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]

    async def _start_servers(self) -> None:
        from aiohttp import web

        from .llm.server import llm_app
        from .world.service import tools_app

        for app, attr in ((llm_app(self), "llm_port"), (tools_app(self), "tools_port")):
            runner = app_runner(app)
            await runner.setup()
            site = web.TCPSite(runner, self.host, 0)
            await site.start()
            self._runners.append(runner)
            setattr(self, attr, bound_port(site))

    async def _stop_servers(self) -> None:
        if self._toxiproxy is not None:
            await self._toxiproxy.stop()
            self._toxiproxy = None
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server loop and wait for its result."""
        if self._loop is None:
            raise RuntimeError("the server host is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def toxiproxy_url(self) -> str:
        """Start (once) the embedded Toxiproxy-compatible server on this loop; its API URL."""
        with self._starting:
            self.start()
            if self._toxiproxy is None:
                from .toxiproxy.server import EmbeddedToxiproxy

                server = EmbeddedToxiproxy(self.host, 0)
                self.call(server.start())
                self._toxiproxy = server
            return self._toxiproxy.url

    def close(self) -> None:
        if self._thread is None or self._loop is None:
            return
        for run in list(self.runs.values()):
            run.closed.set()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def llm_base_url(self, session: str) -> str:
        return f"http://{self.host}:{self.llm_port}/s/{session}/v1"

    def tool_url(self, session: str, tool: str) -> str:
        return f"http://{self.host}:{self.tools_port}/s/{session}/{tool}"

    def approval_url(self, session: str) -> str:
        return f"http://{self.host}:{self.tools_port}/s/{session}/_approvals"

    def register(self, run: RunWorld) -> None:
        self.runs[run.session_id] = run

    def unregister(self, run: RunWorld) -> None:
        run.closed.set()
        self.runs.pop(run.session_id, None)


async def wait_closed(closed: threading.Event, seconds: float | None) -> bool:
    """Wait until the run is closed or ``seconds`` pass; True if it was closed."""
    waited = 0.0
    while not closed.is_set():
        if seconds is not None and waited >= seconds:
            return False
        await asyncio.sleep(0.05)
        waited += 0.05
    return True


def drop_connection(request: web.Request) -> web.Response:
    """Close the agent's connection with no answer. The client may have gone already (its own
    timeout), in which case there is nothing left to close."""
    from aiohttp import web

    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=504)


def bound_port(site: web.TCPSite) -> int:
    """The port a site listens on (port 0 → the one the OS chose)."""
    sockets = getattr(site._server, "sockets", None)
    if not sockets:
        raise OSError(f"the server at {site.name} did not bind")
    return int(sockets[0].getsockname()[1])
