"""Running the embedded Toxiproxy-compatible server: on a harness event loop, or standalone
(``agent-chaos toxiproxy``)."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from ..servers import app_runner, bound_port
from .api import ToxiproxyAPI


class EmbeddedToxiproxy:
    """The API server plus its proxies, on the running event loop."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 0) -> None:
        self.host = host
        self.port = port
        self.api = ToxiproxyAPI(seed)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = app_runner(self.api.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = bound_port(site)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # also stops every proxy
            self._runner = None


def serve_forever(host: str, port: int) -> None:
    """Run standalone until interrupted."""

    async def main() -> None:
        server = EmbeddedToxiproxy(host, port)
        await server.start()
        print(f"Toxiproxy-compatible API on {server.url} (Ctrl-C to stop)", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
