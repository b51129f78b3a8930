"""The world over MCP: every run's tool APIs served as an MCP server (streamable HTTP), on the
official ``mcp`` SDK, beside their REST form on the tools port.

- ``{tool_url}/mcp`` serves one tool API (through that API's Toxiproxy proxy, so its network
  faults apply exactly); ``env.mcp_url`` (``/s/{session}/mcp``, through the run's ``mcp``
  proxy) serves all of the run's APIs on one endpoint.
- Tools are the APIs' listed operations, under their names, with their argument schemas and
  annotations (readOnlyHint, destructiveHint, idempotentHint, openWorldHint). Results are
  structured content (the REST answer's ``result``) with the same JSON as text.
- A call is carried out by the same code as a REST call (``service.tool_call``), so it is a
  ``tool`` trace event (``via: mcp``) and every check works unchanged.
- The SDK does the protocol (JSON-RPC framing, sessions, SSE); this module only bridges its
  ASGI app into the harness's aiohttp server and maps answers and faults to their MCP form
  (``MCP_FORMS``, documented in the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..servers import drop_connection, wait_closed
from .service import Done, tool_call

if TYPE_CHECKING:
    from aiohttp import web

    from ..servers import ServerHost
    from .run import RunWorld

#: What each HTTP fault becomes on an MCP tool call (the README's table).
MCP_FORMS = {
    "http_error": "a result with isError: true whose text is the error, its HTTP status and "
                  "Retry-After (the call is not carried out)",
    "hang": "no answer: the call's response stream stays open (for `seconds`, then it "
            "breaks) and the call is not carried out",
    "lost_response": "the call is carried out, then the response stream breaks before the "
                     "result",
    "empty_body": "the call is carried out; the result has no content (isError: true if "
                  "`status` is 400 or more)",
    "malformed_json": "the call is carried out; the result's text is its JSON cut in half, "
                      "with no structured content",
    "slow_body": "the call is carried out; the result arrives as late as its JSON would at "
                 "`bytes_per_second`",
}

_REASONS = {400: "Bad Request", 404: "Not Found", 408: "Request Timeout", 409: "Conflict",
            422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}


class McpWorld:
    """The MCP endpoints of every run on one ``ServerHost``. The SDK is imported, and its
    session manager started, on the first MCP request."""

    def __init__(self, host: ServerHost) -> None:
        self.host = host
        self._app: Callable[..., Awaitable[None]] | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        run = self.host.runs.get(request.match_info["session"])
        tool = request.match_info.get("tool")
        if run is None or (tool is not None and tool not in run.tools):
            what = "unknown session (the run has ended)" if run is None else \
                f"no tool API {tool!r} in this scenario"
            return web.json_response({"error": what}, status=404)
        app = await self._ensure()
        return await _serve_asgi(app, request)

    async def _ensure(self) -> Callable[..., Awaitable[None]]:
        async with self._starting:
            if self._app is None:
                self._app = await self._start()
            return self._app

    async def _start(self) -> Callable[..., Awaitable[None]]:
        from mcp.server.lowlevel import Server
        from mcp.server.streamable_http_manager import (
            StreamableHTTPASGIApp,
            StreamableHTTPSessionManager,
        )
        from mcp.server.transport_security import TransportSecuritySettings

        server: Server[Any] = Server("agent-chaos", on_list_tools=self._list_tools,
                                     on_call_tool=self._call_tool)
        manager = StreamableHTTPSessionManager(
            app=server, stateless=True,
            # Loopback only, like every server of the harness; Host is checked by the SDK.
            security_settings=TransportSecuritySettings(
                enable_dns_rebinding_protection=True,
                allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
                allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]),
        )
        started = asyncio.Event()
        self._stop = asyncio.Event()
        stop = self._stop

        async def keep() -> None:
            async with manager.run():
                started.set()
                await stop.wait()

        self._task = asyncio.create_task(keep())
        await started.wait()
        return StreamableHTTPASGIApp(manager)

    async def close(self) -> None:
        if self._stop is not None and self._task is not None:
            self._stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 5)

    # --- the MCP handlers ---------------------------------------------------------------

    def _scope(self, ctx: Any) -> tuple[RunWorld, list[str], web.Request]:
        from mcp.shared.exceptions import MCPError

        request = ctx.request
        aio: web.Request = request.scope["extensions"]["agent_chaos.request"]
        run = self.host.runs.get(aio.match_info["session"])
        if run is None:
            raise MCPError(-32001, "the run has ended")
        tool = aio.match_info.get("tool")
        return run, [tool] if tool else list(run.tools), aio

    async def _list_tools(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types

        run, apis, _ = self._scope(ctx)
        tools = []
        for name in apis:
            for oname, op in run.tools[name].api.operations.items():
                if op.hidden:
                    continue
                hints = op.annotations
                tools.append(types.Tool(
                    name=oname, description=op.description, input_schema=op.parameters,
                    annotations=types.ToolAnnotations(
                        read_only_hint=hints.readOnlyHint, destructive_hint=hints.destructiveHint,
                        idempotent_hint=hints.idempotentHint, open_world_hint=hints.openWorldHint),
                ))
        return types.ListToolsResult(tools=tools)

    async def _call_tool(self, ctx: Any, params: Any) -> Any:
        import mcp_types as types
        from mcp.shared.exceptions import MCPError

        run, apis, aio = self._scope(ctx)
        name = params.name
        # A hidden operation is served but not listed: callable by name, as over REST.
        api = next((a for a in apis if name in run.tools[a].api.operations), apis[0])
        payload = json.dumps(params.arguments if params.arguments is not None else {}).encode()
        key = aio.headers.get("Idempotency-Key")
        async with tool_call(run, api, name, payload, key, "mcp") as done:
            if done.status == 404 and name not in run.tools[api].api.operations:
                raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {name}")
            fault = done.fault.key if done.fault is not None and done.capacity is None else None
            if fault in ("hang", "lost_response"):
                if fault == "lost_response":
                    drop_connection(aio)
                seconds = getattr(done.fault, "seconds", None)
                await wait_closed(run.closed, seconds)
                drop_connection(aio)
                raise MCPError(-32001, "the response was lost")
            text = json.dumps(done.body)
            if done.status >= 400 or done.status == 0:
                return types.CallToolResult(
                    content=[types.TextContent(type="text", text=_error_text(done))],
                    is_error=True)
            result = done.body.get("result") if isinstance(done.body, dict) else done.body
            structured = result if isinstance(result, dict) else {"result": result}
            if fault == "empty_body":
                status = getattr(done.fault, "status", 200)
                return types.CallToolResult(content=[], is_error=status >= 400)
            if fault == "malformed_json":
                return types.CallToolResult(
                    content=[types.TextContent(type="text", text=text[:max(1, len(text) // 2)])])
            if fault == "slow_body":
                rate = float(getattr(done.fault, "bytes_per_second", 100))
                await wait_closed(run.closed, len(text) / rate)
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=json.dumps(result))],
                structured_content=structured)


def _error_text(done: Done) -> str:
    """An error result's text: what the REST answer would say, with its status."""
    error = done.body.get("error") if isinstance(done.body, dict) else None
    out: dict[str, Any] = {"error": error or "no answer", "status": done.status}
    retry = {k.lower(): v for k, v in done.headers.items()}.get("retry-after")
    if retry is not None:
        out["retry_after"] = float(retry)
    reason = _REASONS.get(done.status, "")
    return f"{done.status} {reason}: {json.dumps(out)}".replace("  ", " ")


async def _serve_asgi(app: Callable[..., Awaitable[None]],
                      request: web.Request) -> web.StreamResponse:
    """Hand one aiohttp request to an ASGI app (the SDK's) and stream its answer back."""
    from aiohttp import web

    body = await request.read()
    peer = request.transport.get_extra_info("peername") if request.transport else None
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method, "scheme": "http", "path": request.path,
        "raw_path": request.raw_path.split("?", 1)[0].encode(),
        "query_string": request.query_string.encode(), "root_path": "",
        "headers": [(k.lower(), v) for k, v in request.raw_headers],
        "client": tuple(peer[:2]) if peer else None,
        "server": tuple(sock[:2]) if sock else None,
        "extensions": {"agent_chaos.request": request},
    }
    finished = asyncio.Event()
    received = False
    response: web.StreamResponse | None = None

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal response
        if message["type"] == "http.response.start":
            response = web.StreamResponse(status=message["status"])
            for k, v in message.get("headers", []):
                name = k.decode("latin-1")
                if name.lower() not in ("content-length", "transfer-encoding"):
                    response.headers.add(name, v.decode("latin-1"))
            await response.prepare(request)
        elif message["type"] == "http.response.body" and response is not None:
            chunk = message.get("body", b"")
            if chunk:
                await response.write(chunk)
            if not message.get("more_body", False):
                await response.write_eof()
                finished.set()

    try:
        await app(scope, receive, send)
    except (ConnectionResetError, asyncio.CancelledError):
        finished.set()
        raise
    finally:
        finished.set()
    if response is None:
        return web.Response(status=500, text="the MCP server sent no answer")
    return response
