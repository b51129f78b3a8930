"""The anthropic SDK's tool-use loop on the Messages API."""

from __future__ import annotations

from typing import Any

import anthropic

from ._world import MAX_STEPS, user_text, world_tools


def run(task: str | list[str], env: Any) -> str:
    client = anthropic.Anthropic(base_url=env.anthropic_base_url, api_key=env.api_key)
    tools = {t.name: t for t in world_tools(env.tool_urls)}
    offered: Any = [{"name": t.name, "description": t.description, "input_schema": t.parameters}
                    for t in tools.values()]
    messages: list[Any] = [{"role": "user", "content": user_text(task)}]
    for _ in range(MAX_STEPS):
        reply = client.messages.create(model=env.model, max_tokens=1024, tools=offered,
                                       system="You are a helpful operations assistant.",
                                       messages=messages)
        messages.append({"role": "assistant", "content": reply.content})
        uses = [b for b in reply.content if b.type == "tool_use"]
        if reply.stop_reason != "tool_use" or not uses:
            return "".join(b.text for b in reply.content if b.type == "text")
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": u.id,
             "content": tools[u.name].call(dict(u.input)) if u.name in tools else
             f"unknown tool {u.name}"} for u in uses]})
    return "I stopped after too many steps."
