"""The mock LLM's HTTP app (aiohttp). One app serves every run; the session in the path picks
the run's world and script. Each wire protocol is a module under ``apis/``; a request under a
session's path that no API serves is traced and answered with a 404 that names what is served.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from .apis import APIS
from .apis.base import Api
from .exchange import DEFAULT_MODEL, exchange, send_error
from .turns import openai_error

if TYPE_CHECKING:
    from ..servers import ServerHost
    from ..world.run import RunWorld

__all__ = ["DEFAULT_MODEL", "llm_app"]


def served() -> list[str]:
    return [f"{method} {path}" for api in APIS for method, path in api.routes] + \
        ["GET /v1/models"]


def llm_app(host: ServerHost) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    def find_run(request: web.Request) -> RunWorld | None:
        return host.runs.get(request.match_info["session"])

    def gone(api: Api) -> web.Response:
        return send_error(api, openai_error(404, "unknown session (the run has ended)",
                                            "invalid_request_error", None))

    def handler(api: Api) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            run = find_run(request)
            if run is None:
                return gone(api)
            if run.recorder is not None:
                return await run.recorder.forward(api, request, run)
            return await exchange(api, request, run)

        return handle

    async def models(request: web.Request) -> web.Response:
        if find_run(request) is None:
            return gone(APIS[0])
        return web.json_response({"object": "list", "data": [
            {"id": DEFAULT_MODEL, "object": "model", "created": 0, "owned_by": "agent-chaos"}]})

    async def unserved(request: web.Request) -> web.Response:
        run = find_run(request)
        path = "/" + request.match_info["tail"]
        message = (f"{request.method} {path} is not served by the agent-chaos mock LLM; it "
                   f"serves: {', '.join(served())}")
        if run is not None:
            start = run.trace.now()
            event = run.trace.add("llm", {"api": None, "unserved": True,
                                          "method": request.method, "path": path,
                                          "status": 404}, start)
            event.end = start
        return web.json_response({"error": {"message": message, "type": "invalid_request_error",
                                            "param": None, "code": "unknown_url"}}, status=404)

    for api in APIS:
        for method, path in api.routes:
            app.router.add_route(method, "/s/{session}" + path, handler(api))
    app.router.add_get("/s/{session}/v1/models", models)
    app.router.add_route("*", "/s/{session}/{tail:.*}", unserved)
    return app
