"""Anthropic Messages (``POST /v1/messages``), as the anthropic SDK calls it: its base URL is
the session's root (``env.anthropic_base_url``), to which the SDK appends ``/v1/messages``.

``system`` (text or text blocks), content blocks (``text``, ``tool_use``, ``tool_result``;
images and documents read as a placeholder, thinking is skipped), ``tools`` with
``input_schema``, ``tool_choice`` (``auto``, ``any``, ``tool``, ``none``), ``stop_sequences``,
and ``max_tokens``, required as in the real API. Replies end with ``stop_reason`` ``end_turn``,
``tool_use`` or ``max_tokens``. Streamed, the events carry ``event:`` lines: ``message_start``,
``ping``, per block ``content_block_start`` / ``_delta`` (``text_delta``, ``input_json_delta``) /
``_stop``, ``message_delta`` (stop reason, usage) and ``message_stop``. Errors are
``{"type": "error", "error": {"type", "message"}}``: ``rate_limit_error`` (429),
``overloaded_error`` (529 and 503), with ``retry-after`` where given and a ``request-id``.
Tool arguments travel as objects: JSON the model broke arrives as ``{}`` in a plain reply, and
as the broken text itself in the streamed ``partial_json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..quota import anthropic_headers
from ..turns import ApiError, Completion, openai_error
from .base import (
    Api,
    Meta,
    add_turn,
    chat_call,
    chat_tool,
    parsed_arguments,
    pieces,
    require,
    sse,
    text_of,
)

if TYPE_CHECKING:
    from ...world.run import RunWorld

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 408: "timeout_error",
               409: "invalid_request_error", 413: "request_too_large",
               429: "rate_limit_error", 500: "api_error", 502: "api_error",
               503: "overloaded_error", 504: "timeout_error", 529: "overloaded_error"}
STOP = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    require(isinstance(content, list) and all(isinstance(b, dict) for b in content),
            f"{where}.content: Input should be a valid list", f"{where}.content")
    return list(content)


def _messages(given: list[Any], system: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": text_of(system)})
    for i, m in enumerate(given):
        where = f"messages.{i}"
        require(isinstance(m, dict) and m.get("role") in ("user", "assistant"),
                f"{where}.role: Input should be 'user' or 'assistant'", f"{where}.role")
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        for block in _blocks(m.get("content"), where):
            kind = block.get("type")
            if kind == "text":
                texts.append(str(block.get("text", "")))
            elif kind == "tool_use":
                calls.append(chat_call(str(block.get("id", "")), str(block.get("name", "")),
                                       json.dumps(block.get("input", {}))))
            elif kind == "tool_result":
                result = block.get("content")
                text = text_of(result if not isinstance(result, list) else
                               [b for b in result if isinstance(b, dict)])
                messages.append({"role": "tool", "tool_call_id": str(block.get("tool_use_id")),
                                 "content": text})
            elif kind in ("image", "document"):
                texts.append(f"[{kind}]")
        add_turn(messages, m["role"] == "assistant", texts, calls)
    return messages


def _tool_choice(value: Any) -> Any:
    if not isinstance(value, dict):
        return "auto"
    kind = value.get("type")
    if kind == "tool" and isinstance(value.get("name"), str):
        return {"type": "function", "function": {"name": value["name"]}}
    return {"any": "required", "none": "none"}.get(str(kind), "auto")


class Anthropic(Api):
    name = "anthropic"
    routes = (("POST", "/v1/messages"),)
    id_prefix = "msg_"
    call_prefix = "toolu_"

    def parse(self, body: Any, request: web.Request, run: RunWorld) -> dict[str, Any]:
        require(isinstance(body, dict), "Request body must be a JSON object.")
        max_tokens = body.get("max_tokens")
        require(isinstance(max_tokens, int) and not isinstance(max_tokens, bool)
                and max_tokens > 0, "max_tokens: Field required", "max_tokens")
        given = body.get("messages")
        require(isinstance(given, list) and bool(given), "messages: Field required",
                "messages")
        messages = _messages(given, body.get("system"))
        tools = body.get("tools") or []
        require(isinstance(tools, list) and all(isinstance(t, dict) for t in tools),
                "tools: Input should be a valid list", "tools")
        offered = [chat_tool(t["name"], t.get("description"), t.get("input_schema"))
                   for t in tools if isinstance(t.get("name"), str) and "input_schema" in t]
        choice = body.get("tool_choice")
        stop = body.get("stop_sequences") or []
        require(isinstance(stop, list) and all(isinstance(s, str) for s in stop),
                "stop_sequences: Input should be a valid list", "stop_sequences")
        require(isinstance(body.get("stream", False), bool), "stream: Input should be a "
                                                             "valid boolean", "stream")
        return {"messages": messages, "tools": offered,
                "tool_choice": _tool_choice(choice), "stop": stop,
                "max_tokens": max_tokens, "stream": body.get("stream") is True,
                "model": body.get("model"),
                "parallel_tool_calls": not (isinstance(choice, dict) and
                                            choice.get("disable_parallel_tool_use") is True)}

    def _usage(self, meta: Meta) -> dict[str, Any]:
        return {"input_tokens": meta.prompt_tokens, "output_tokens": meta.completion_tokens,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}

    def _content(self, reply: Completion, meta: Meta) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        if reply.content:
            content.append({"type": "text", "text": reply.content})
        for call_id, call in zip(meta.call_ids, reply.tool_calls, strict=True):
            content.append({"type": "tool_use", "id": call_id, "name": call.name,
                            "input": parsed_arguments(call.arguments)})
        return content

    def render(self, reply: Completion, meta: Meta) -> dict[str, Any]:
        return {"id": meta.rid, "type": "message", "role": "assistant", "model": meta.model,
                "content": self._content(reply, meta),
                "stop_reason": STOP.get(reply.finish_reason, "end_turn"),
                "stop_sequence": None, "usage": self._usage(meta)}

    def events(self, reply: Completion, meta: Meta) -> Iterator[tuple[bytes, bool]]:
        def event(kind: str, **fields: Any) -> bytes:
            return sse({"type": kind, **fields}, kind)

        start: dict[str, Any] = {
            "id": meta.rid, "type": "message", "role": "assistant", "model": meta.model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {**self._usage(meta), "output_tokens": 1}}
        yield event("message_start", message=start), False
        yield event("ping"), False
        index = 0
        if reply.content:
            yield event("content_block_start", index=index,
                        content_block={"type": "text", "text": ""}), False
            for piece in pieces(reply.content):
                yield event("content_block_delta", index=index,
                            delta={"type": "text_delta", "text": piece}), True
            yield event("content_block_stop", index=index), False
            index += 1
        for call_id, call in zip(meta.call_ids, reply.tool_calls, strict=True):
            yield event("content_block_start", index=index, content_block={
                "type": "tool_use", "id": call_id, "name": call.name, "input": {}}), False
            for piece in pieces(call.arguments):
                if piece:
                    yield event("content_block_delta", index=index, delta={
                        "type": "input_json_delta", "partial_json": piece}), True
            yield event("content_block_stop", index=index), False
            index += 1
        yield event("message_delta",
                    delta={"stop_reason": STOP.get(reply.finish_reason, "end_turn"),
                           "stop_sequence": None},
                    usage={"output_tokens": meta.completion_tokens}), False
        yield event("message_stop"), False

    def error(self, error: ApiError) -> ApiError:
        inner = error.body.get("error") if isinstance(error.body.get("error"), dict) else {}
        message = str((inner or {}).get("message") or "error")
        kind = ERROR_TYPES.get(error.status, "api_error")
        headers = {**error.headers, "request-id": "req_agentchaos"}
        return ApiError(error.status, {"type": "error", "error": {"type": kind,
                                                                  "message": message}}, headers)

    def rate_headers(self, state: dict[str, tuple[int, int, float]]) -> dict[str, str]:
        return anthropic_headers(state)

    def context_error(self, prompt_tokens: int, window: int) -> ApiError:
        return openai_error(400, f"prompt is too long: {prompt_tokens} tokens > {window} "
                                 f"maximum", "invalid_request_error", "context_length_exceeded")
