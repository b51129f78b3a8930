"""The tool protocol of the harness's mock APIs, over plain HTTP (any language can do this).

- ``GET {tool_url}/tools`` lists OpenAI function definitions with MCP-style annotations.
- ``POST {tool_url}/tools/{name}`` with the arguments as JSON runs one; an
  ``Idempotency-Key`` header makes a repeated write answer the first result instead.
- ``POST {approval_url}`` asks the human in the loop.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Tool:
    name: str
    api: str  # the tool API that serves it
    url: str
    spec: dict[str, Any]  # the OpenAI function definition
    annotations: dict[str, bool]

    def offer(self) -> dict[str, Any]:
        return {"type": "function", "function": self.spec}


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # the JSON answer; raises ValueError on reading if it was not JSON
    headers: dict[str, str] = field(default_factory=dict)


def request(url: str, body: Any = None, timeout: float | None = None,
            headers: dict[str, str] | None = None) -> Reply:
    """One HTTP exchange. ``timeout`` bounds the whole of it, the full answer included (a
    per-read socket timeout alone never fires on an answer that trickles in). Without it,
    waits forever, like most quick-start code."""
    deadline = None if timeout is None else time.monotonic() + timeout
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        conn.request("GET" if data is None else "POST", parts.path, body=data, headers=sent)
        response = conn.getresponse()
        chunks = []
        while True:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no complete answer from {url} within {timeout:g} s")
                if conn.sock is not None:
                    conn.sock.settimeout(left)
            chunk = response.read1(65536)
            if not chunk:
                break
            chunks.append(chunk)
        text = b"".join(chunks)
        if response.length:  # the connection closed before the promised body arrived
            raise http.client.IncompleteRead(text, response.length)
        answer = {k.lower(): v for k, v in response.getheaders()}
        return Reply(response.status, json.loads(text), answer)
    finally:
        conn.close()


def discover(tool_urls: dict[str, str], timeout: float | None = None) -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    for api, url in tool_urls.items():
        listing = request(f"{url}/tools", timeout=timeout).body
        for item in listing.get("tools", []):
            spec = item["function"]
            tools[spec["name"]] = Tool(spec["name"], api, url, spec, item.get("annotations", {}))
    return tools
