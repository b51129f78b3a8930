"""A tool loop that "repairs" tool arguments it cannot parse, as some frameworks do with partial
JSON: it drops the half-written key at the end, closes the braces, and runs the call. On a reply
cut at the length limit, that executes an order the model never finished."""

from __future__ import annotations

import json
from typing import Any

import openai

from examples.agents._http import discover, request


def repair(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
        return value if isinstance(value, dict) else {}
    except json.JSONDecodeError:
        pass
    cut = text
    while cut:
        cut = cut[:max(cut.rfind(","), 0)]
        try:
            value = json.loads(cut + "}")
            return value if isinstance(value, dict) else {}
        except json.JSONDecodeError:
            continue
    return {}


def run(task: str | list[str], env: Any) -> str | None:
    client = openai.OpenAI(base_url=env.llm_base_url, api_key=env.api_key, max_retries=0)
    tools = discover(env.tool_urls)
    messages: list[dict[str, Any]] = [{"role": "user", "content": task if isinstance(task, str)
                                       else "\n".join(task)}]
    for _ in range(10):
        response = client.chat.completions.create(
            model=env.model, messages=messages,  # type: ignore[arg-type]
            tools=[t.offer() for t in tools.values()])  # type: ignore[misc]
        message = response.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            return message.content
        for call in message.tool_calls:
            tool = tools[call.function.name]
            reply = request(f"{tool.url}/tools/{tool.name}", repair(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id,
                             "content": json.dumps(reply.body)})
    return "gave up"
