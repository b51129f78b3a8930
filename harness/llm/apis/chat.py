"""OpenAI Chat Completions (``POST /v1/chat/completions``), exactly as real SDKs and frameworks
require it (ARCHITECTURE.md: ids, ``type: function``, arguments as a JSON *string*, ``usage``
always, ``index`` on every tool-call delta, name and id only in a call's first delta, the usage
chunk with ``choices: []``, ``data: [DONE]``). Its request is the neutral one already."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..turns import Completion
from .base import CREATED, Api, Meta, Refused, chat_call, pieces, sse

if TYPE_CHECKING:
    from ...world.run import RunWorld

FINGERPRINT = "fp_agentchaos"
ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def usage(meta: Meta) -> dict[str, int]:
    return {"prompt_tokens": meta.prompt_tokens, "completion_tokens": meta.completion_tokens,
            "total_tokens": meta.total_tokens}


class Chat(Api):
    name = "chat"
    routes = (("POST", "/v1/chat/completions"),)
    id_prefix = "chatcmpl-"
    call_prefix = "call_"

    def parse(self, body: Any, request: web.Request, run: RunWorld) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            raise Refused("Request body must be JSON with a 'messages' array.", "messages")
        messages = body["messages"]
        if not messages:
            raise Refused("[] is too short - 'messages'", "messages")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                raise Refused(f"Invalid value for 'messages[{i}]': each message is an object "
                              f"with a 'role' of {', '.join(ROLES)}.", f"messages[{i}]")
        tools = body.get("tools")
        if tools is not None and not (isinstance(tools, list) and all(
                isinstance(t, dict) and isinstance(t.get("function"), dict)
                and isinstance(t["function"].get("name"), str) for t in tools)):
            raise Refused("Invalid 'tools': expected an array of {\"type\": \"function\", "
                          "\"function\": {\"name\": ...}} objects.", "tools")
        kinds = {"model": str, "stream": bool, "stream_options": dict, "tool_choice": str | dict,
                 "stop": str | list, "max_tokens": int, "max_completion_tokens": int}
        for key, kind in kinds.items():
            value = body.get(key)
            if value is not None and (not isinstance(value, kind) or
                                      (kind is int and isinstance(value, bool))):
                raise Refused(f"Invalid type for '{key}'.", key)
        options = body.get("stream_options")
        stop = body.get("stop")
        return {
            "messages": messages,
            "tools": tools or [],
            "tool_choice": body.get("tool_choice", "auto"),
            "stop": [stop] if isinstance(stop, str) else list(stop or []),
            "max_tokens": body.get("max_completion_tokens", body.get("max_tokens")),
            "stream": body.get("stream") is True,
            "model": body.get("model"),
            "include_usage": isinstance(options, dict) and options.get("include_usage") is True,
            "parallel_tool_calls": body.get("parallel_tool_calls"),
        }

    def render(self, reply: Completion, meta: Meta) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content,
                                   "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = [chat_call(i, c.name, c.arguments)
                                     for i, c in zip(meta.call_ids, reply.tool_calls,
                                                     strict=True)]
        return {
            "id": meta.rid, "object": "chat.completion", "created": CREATED,
            "model": meta.model, "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": reply.finish_reason}],
            "usage": usage(meta),
        }

    def events(self, reply: Completion, meta: Meta) -> Iterator[tuple[bytes, bool]]:
        include_usage = bool(meta.neutral.get("include_usage"))

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            body: dict[str, Any] = {
                "id": meta.rid, "object": "chat.completion.chunk", "created": CREATED,
                "model": meta.model, "system_fingerprint": FINGERPRINT,
                "choices": [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish}],
            }
            if include_usage:
                body["usage"] = None
            return sse(body)

        if reply.tool_calls:
            yield chunk({"role": "assistant", "content": None}), False
            for index, (call_id, call) in enumerate(zip(meta.call_ids, reply.tool_calls,
                                                        strict=True)):
                first = {"index": index, "id": call_id, "type": "function",
                         "function": {"name": call.name, "arguments": ""}}
                yield chunk({"tool_calls": [first]}), False
                for piece in pieces(call.arguments):
                    if piece:
                        yield chunk({"tool_calls": [{"index": index, "function": {
                            "arguments": piece}}]}), True
        else:
            yield chunk({"role": "assistant", "content": "", "refusal": None}), False
        if reply.content:
            for piece in pieces(reply.content):
                yield chunk({"content": piece}), True
        yield chunk({}, reply.finish_reason), False
        if include_usage:
            yield sse({"id": meta.rid, "object": "chat.completion.chunk", "created": CREATED,
                       "model": meta.model, "system_fingerprint": FINGERPRINT, "choices": [],
                       "usage": usage(meta)}), False
        yield sse("[DONE]"), False

    def context_error(self, prompt_tokens: int, window: int) -> Any:
        from ..behaviours.context_overflow import context_length_error

        return context_length_error(prompt_tokens, window)
