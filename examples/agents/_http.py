"""The tool protocol of the harness's mock APIs, over plain HTTP (any language can do this).

- ``GET {tool_url}/tools`` lists OpenAI function definitions with MCP-style annotations.
- ``POST {tool_url}/tools/{name}`` with the arguments as JSON runs one.
- ``POST {approval_url}`` asks the human in the loop.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tool:
    name: str
    url: str
    spec: dict[str, Any]  # the OpenAI function definition
    annotations: dict[str, bool]

    def offer(self) -> dict[str, Any]:
        return {"type": "function", "function": self.spec}


def request(url: str, body: Any = None, timeout: float = 10.0) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        with err:
            try:
                return err.code, json.load(err)
            except json.JSONDecodeError:
                return err.code, {"error": err.reason}


def discover(tool_urls: dict[str, str]) -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    for url in tool_urls.values():
        _, listing = request(f"{url}/tools")
        for item in listing.get("tools", []):
            spec = item["function"]
            tools[spec["name"]] = Tool(spec["name"], url, spec, item.get("annotations", {}))
    return tools
