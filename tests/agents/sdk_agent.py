"""Minimal agents written directly on the openai SDK, one streaming and one not: they run
whatever tools the model asks for and return its final text."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from openai import OpenAI


def _tools(env: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    offered, where = [], {}
    for url in env.tool_urls.values():
        with urllib.request.urlopen(url + "/tools") as resp:
            for tool in json.load(resp)["tools"]:
                offered.append({"type": "function", "function": tool["function"]})
                where[tool["function"]["name"]] = url
    return offered, where


def _call(url: str, name: str, arguments: str) -> str:
    req = urllib.request.Request(f"{url}/tools/{name}", data=arguments.encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return resp.read().decode()


def run_streaming(task: str, env: Any) -> str:
    client = OpenAI(base_url=env.llm_base_url, api_key=env.api_key, max_retries=0)
    tools, where = _tools(env)
    messages: list[dict[str, Any]] = [{"role": "user", "content": task}]
    for _ in range(10):
        stream = client.chat.completions.create(model=env.model, messages=messages, tools=tools,
                                                stream=True,
                                                stream_options={"include_usage": True})
        text, calls = "", {}
        for chunk in stream:
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            text += delta.content or ""
            for tc in delta.tool_calls or []:
                call = calls.setdefault(tc.index, {"id": tc.id, "name": "", "arguments": ""})
                call["name"] += tc.function.name or ""
                call["arguments"] += tc.function.arguments or ""
        if not calls:
            return text
        messages.append({"role": "assistant", "tool_calls": [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in calls.values()]})
        for c in calls.values():
            messages.append({"role": "tool", "tool_call_id": c["id"],
                             "content": _call(where[c["name"]], c["name"], c["arguments"])})
    return "too many steps"


def run_plain(task: str, env: Any) -> str:
    client = OpenAI(base_url=env.llm_base_url, api_key=env.api_key, max_retries=0)
    tools, where = _tools(env)
    messages: list[Any] = [{"role": "user", "content": task}]
    for _ in range(10):
        message = client.chat.completions.create(model=env.model, messages=messages,
                                                 tools=tools).choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message)
        for call in message.tool_calls:
            messages.append({"role": "tool", "tool_call_id": call.id,
                             "content": _call(where[call.function.name], call.function.name,
                                              call.function.arguments)})
    return "too many steps"


def crashes(task: str, env: Any) -> str:
    raise RuntimeError("the agent fell over")


async def async_answer(task: str, env: Any) -> str:
    return f"async agent saw: {task}"
