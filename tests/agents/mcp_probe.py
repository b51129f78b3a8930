"""An agent that reports what an MCP client sees: the task is a JSON list of tool calls, each
made with the official ``mcp`` SDK's client on ``env.mcp_url`` (or ``env.mcp_urls[api]``);
the answer a JSON list of observations. For the MCP fault tests."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any


async def _call(url: str, step: dict[str, Any]) -> dict[str, Any]:
    import sys

    from mcp import Client, StdioServerParameters

    server: Any = url
    if step.get("stdio"):  # the bridge, launched as agents launch their MCP servers; the
        # SDK's stdio client passes on only a few environment variables, so the URL goes as
        # an argument
        server = StdioServerParameters(command=sys.executable,
                                       args=["-m", "harness.cli", "mcp-stdio", "--url", url])

    seen: dict[str, Any] = {}
    start = time.monotonic()
    try:
        async with asyncio.timeout(step.get("timeout", 5.0)):
            async with Client(server) as client:
                if step.get("list"):
                    listed = await client.list_tools()
                    seen["tools"] = [t.model_dump(mode="json", by_alias=True, exclude_none=True)
                                     for t in listed.tools]
                else:
                    result = await client.call_tool(step["op"], step.get("args", {}))
                    seen.update(is_error=bool(result.is_error),
                                text=[c.text for c in result.content
                                      if getattr(c, "type", "") == "text"],
                                structured=result.structured_content)
    except BaseException as exc:  # the observation is the point
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]  # the SDK's task groups wrap what went wrong
        seen["error"] = type(exc).__name__
        seen["message"] = str(exc)[:300]
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
    seen["seconds"] = round(time.monotonic() - start, 3)
    return seen


def run(task: str, env: Any) -> str:
    async def main() -> list[dict[str, Any]]:
        out = []
        for step in json.loads(task):
            api = step.get("api")
            out.append(await _call(env.mcp_urls[api] if api else env.mcp_url, step))
        return out

    return json.dumps(asyncio.run(main()))
