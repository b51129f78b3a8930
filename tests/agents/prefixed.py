"""An agent whose framework renames the world's tools: it offers each operation as
``mcp__{api}__{operation}`` (as Claude Code names MCP tools), and carries a call out by the
name's last part. For the rule by which scripts meet such agents (harness/world/naming.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from openai import OpenAI


def _post(url: str, args: Any) -> str:
    req = urllib.request.Request(url, data=json.dumps(args).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=3) as resp:
            return str(resp.read().decode())
    except urllib.error.HTTPError as err:
        with err:
            return f"HTTP {err.code}: {err.read().decode()}"
    except OSError as exc:
        return f"error: {exc}"


def run(task: str | list[str], env: Any) -> str:
    client = OpenAI(base_url=env.llm_base_url, api_key=env.api_key, timeout=3, max_retries=0)
    tools: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for api, url in env.tool_urls.items():
        with urllib.request.urlopen(f"{url}/tools", timeout=3) as resp:
            for item in json.loads(resp.read())["tools"]:
                fn = item["function"]
                name = f"mcp__{api}__{fn['name']}"
                tools[name] = (url, fn["name"], {**fn, "name": name})
    text = task if isinstance(task, str) else "\n".join(task)
    messages: list[Any] = [{"role": "user", "content": text}]
    for _ in range(8):
        try:
            reply = client.chat.completions.create(
                model=env.model, messages=messages,
                tools=[{"type": "function", "function": spec} for *_, spec in tools.values()])
        except Exception as exc:  # a test agent: any model failure ends the run
            return f"gave up: {type(exc).__name__}"
        if not reply.choices:
            return "gave up: no choices"
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            url, op, _ = tools.get(call.function.name, ("", "", {}))
            try:
                args = json.loads(call.function.arguments or "{}")
            except ValueError:
                args = None
            out = _post(f"{url}/tools/{op}", args) if url and isinstance(args, dict) else \
                "error: no such tool, or arguments that are not JSON"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": out})
    return "gave up: step cap"
