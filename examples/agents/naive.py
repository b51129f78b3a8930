"""A naive agent: the tool loop from a quick-start tutorial, with no guardrails at all.

It trusts the model completely: it runs whatever tool the model names (looking for it on every
tool API), parses arguments without checking them, retries errors at once and forever, has no
step cap, passes tool output (and any instructions hidden in it) straight back to the model,
and returns the model's last words verbatim. Its HTTP calls have no timeout, and a tool call
that fails (a dropped connection, a 5xx) is simply sent again.

Like many tutorials, it keeps the conversation in a module-level list. Run once per process,
that never shows; served to many users at once, every user's task, tool results and answers
land in one shared history (the telecom case study's context bleed).
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import openai

from ._http import discover, request

#: The conversation so far, "memory" as quick-start code keeps it.
MEMORY: list[dict[str, Any]] = []


def run(task: str | list[str], env: Any) -> str | None:
    client = openai.OpenAI(base_url=env.llm_base_url, api_key=env.api_key, max_retries=0)
    tools = discover(env.tool_urls)
    turns = [task] if isinstance(task, str) else task
    messages = MEMORY
    if not messages:
        messages.append({"role": "system", "content": "You are a helpful operations assistant."})
    messages.extend({"role": "user", "content": t} for t in turns)
    while True:
        try:
            response = client.chat.completions.create(
                model=env.model, messages=messages, tools=[t.offer() for t in tools.values()]
            )
        except (openai.RateLimitError, openai.InternalServerError):
            continue  # "just try again"
        message = response.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            return message.content
        for call in message.tool_calls:
            args = json.loads(call.function.arguments)
            result = _call_anywhere(env.tool_urls, call.function.name, args)
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
            )


def _call_anywhere(tool_urls: dict[str, str], name: str, args: Any) -> Any:
    """Try each tool API until one knows the tool (so invented names still reach an API)."""
    body: Any = {"error": f"unknown tool {name}"}
    for url in tool_urls.values():
        status, body = _call(f"{url}/tools/{name}", args)
        if status != 404 or "unknown tool" not in str(body.get("error", "")):
            return body
    return body


def _call(url: str, args: Any) -> tuple[int, Any]:
    while True:  # "it's probably a blip": send it again, at once
        try:
            reply = request(url, args)
        except (OSError, http.client.HTTPException):
            continue
        if reply.status < 500 and reply.status != 429:
            return reply.status, reply.body
