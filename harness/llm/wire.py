"""OpenAI Chat Completions wire format, exactly as real SDKs and frameworks require it
(see ARCHITECTURE.md: ids, ``type: function``, arguments as a JSON *string*, ``usage`` always,
``index`` on every tool-call delta, name and id only in a call's first delta, the usage chunk
with ``choices: []``, ``data: [DONE]``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .tokens import count_text
from .turns import Completion

#: A fixed ``created`` so traces stay byte-identical across runs (SDKs only need an integer).
CREATED = 1_750_000_000
FINGERPRINT = "fp_agentchaos"


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def completion_tokens(reply: Completion) -> int:
    total = count_text(reply.content or "")
    for call in reply.tool_calls:
        total += count_text(call.name) + count_text(call.arguments)
    return total


def completion_body(cid: str, model: str, reply: Completion, call_ids: list[str],
                    prompt_tokens: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function",
             "function": {"name": call.name, "arguments": call.arguments}}
            for call_id, call in zip(call_ids, reply.tool_calls, strict=True)
        ]
    return {
        "id": cid,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": reply.finish_reason}],
        "usage": usage(prompt_tokens, completion_tokens(reply)),
    }


def pieces(text: str, size: int = 4) -> list[str]:
    """Split text into stream deltas of about one token each."""
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def stream_chunks(cid: str, model: str, reply: Completion, call_ids: list[str],
                  prompt_tokens: int, include_usage: bool) -> Iterator[tuple[str, bool]]:
    """SSE ``data:`` payloads, each with whether it carries a token (for per-token delays)."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        body: dict[str, Any] = {
            "id": cid, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            body["usage"] = None
        return json.dumps(body)

    if reply.tool_calls:
        yield chunk({"role": "assistant", "content": None}), False
        for index, (call_id, call) in enumerate(zip(call_ids, reply.tool_calls, strict=True)):
            first = {"index": index, "id": call_id, "type": "function",
                     "function": {"name": call.name, "arguments": ""}}
            yield chunk({"tool_calls": [first]}), False
            for piece in pieces(call.arguments):
                if piece:
                    yield chunk({"tool_calls": [{"index": index,
                                                 "function": {"arguments": piece}}]}), True
    else:
        yield chunk({"role": "assistant", "content": "", "refusal": None}), False
    if reply.content:
        for piece in pieces(reply.content):
            yield chunk({"content": piece}), True
    yield chunk({}, reply.finish_reason), False
    if include_usage:
        yield json.dumps({
            "id": cid, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "system_fingerprint": FINGERPRINT, "choices": [],
            "usage": usage(prompt_tokens, completion_tokens(reply)),
        }), False
    yield "[DONE]", False
