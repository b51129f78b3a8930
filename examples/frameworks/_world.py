"""The world's tools as data, for wiring into any framework: name, description, JSON Schema,
and a function that carries out a call over HTTP and returns the answer's text."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

#: Steps a framework agent may take (its own loop cap, where it has one).
MAX_STEPS = 10


@dataclass(frozen=True)
class WorldTool:
    name: str
    description: str
    parameters: dict[str, Any]
    url: str

    def call(self, arguments: dict[str, Any]) -> str:
        """Carry out the call; an HTTP error comes back as its text, as a tool result."""
        req = urllib.request.Request(f"{self.url}/tools/{self.name}",
                                     data=json.dumps(arguments).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return str(resp.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as err:
            with err:
                return f"HTTP {err.code}: {err.read().decode('utf-8', 'replace')}"


def world_tools(tool_urls: dict[str, str]) -> list[WorldTool]:
    out = []
    for url in tool_urls.values():
        with urllib.request.urlopen(f"{url}/tools", timeout=30) as resp:
            listing = json.loads(resp.read())
        for tool in listing["tools"]:
            fn = tool["function"]
            out.append(WorldTool(fn["name"], fn.get("description", ""),
                                 fn.get("parameters") or {"type": "object"}, url))
    return out


def user_text(task: str | list[str]) -> str:
    return task if isinstance(task, str) else "\n\n".join(task)
