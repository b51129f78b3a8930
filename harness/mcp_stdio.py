"""``agent-chaos mcp-stdio``: the run's MCP world for agents that launch their MCP servers as
subprocesses (``command: agent-chaos mcp-stdio``). An MCP server on stdio (the SDK's
``stdio_server`` and low-level ``Server``) whose every request is made again, with the SDK's
``Client``, on the run's streamable-HTTP endpoint: ``$CHAOS_MCP_URL``, or one API's
(``--api NAME``, from ``$CHAOS_MCP_URLS``). So the calls, their faults and their trace are
those of the HTTP endpoint; a call whose HTTP answer is lost (``lost_response``, a broken
stream) becomes a JSON-RPC error on stdio."""

from __future__ import annotations

import json
import os
from typing import Any


def endpoint(url: str | None, api: str | None, environ: dict[str, str] | None = None) -> str:
    """The streamable-HTTP endpoint to bridge to; ``ValueError`` saying what is missing."""
    env = os.environ if environ is None else environ
    if url:
        return url
    if api is not None:
        urls = json.loads(env.get("CHAOS_MCP_URLS") or "{}")
        if api not in urls:
            raise ValueError(f"no tool API {api!r} in this run (CHAOS_MCP_URLS has "
                             f"{', '.join(urls) or 'none'})")
        return str(urls[api])
    if not env.get("CHAOS_MCP_URL"):
        raise ValueError("no MCP endpoint: run it from an agent under the harness (which sets "
                         "CHAOS_MCP_URL), or pass --url")
    return env["CHAOS_MCP_URL"]


async def bridge(url: str) -> None:
    """Serve MCP on stdin/stdout until the client closes it."""
    from mcp import Client
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server
    from mcp.shared.exceptions import MCPError

    def unwrap(exc: BaseException) -> BaseException:
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]  # the SDK's task groups wrap what went wrong
        return exc

    async def list_tools(ctx: Any, params: Any) -> Any:
        async with Client(url) as upstream:
            return await upstream.list_tools()

    async def call_tool(ctx: Any, params: Any) -> Any:
        try:
            async with Client(url) as upstream:
                return await upstream.call_tool(params.name, params.arguments or {})
        except Exception as exc:
            inner = unwrap(exc)
            if isinstance(inner, MCPError):
                raise inner from None
            raise MCPError(-32603, f"the MCP world did not answer: {type(inner).__name__}: "
                                   f"{inner}") from None

    server: Server[Any] = Server("agent-chaos-stdio", on_list_tools=list_tools,
                                 on_call_tool=call_tool)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
