"""The OpenAI Responses API (``POST /v1/responses``), openai-agents' default model.

``input`` is a string or items (messages, ``function_call``, ``function_call_output``; others,
such as ``reasoning``, are skipped); ``instructions`` come first as a system message.
``previous_response_id`` continues a stored response: the mock keeps every response of the run,
so a client that sends only the new items gets the whole history. A reply cut at
``max_output_tokens`` is ``status: incomplete`` with ``incomplete_details.reason``. Streamed,
the events are those the openai SDK and openai-agents consume, each with its
``sequence_number``: ``response.created``, ``response.in_progress``, per output item
``response.output_item.added``, the text's ``content_part.added`` / ``output_text.delta`` /
``output_text.done`` / ``content_part.done`` or the call's ``function_call_arguments.delta`` /
``.done``, ``response.output_item.done``, and ``response.completed`` (``response.incomplete``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..turns import ApiError, Completion, openai_error
from .base import CREATED, Api, Meta, Refused, chat_call, chat_tool, pieces, require, sse, text_of

if TYPE_CHECKING:
    from ...world.run import RunWorld

ROLES = ("user", "system", "developer", "assistant")




def _messages(items: list[Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        require(isinstance(item, dict), f"Invalid 'input[{i}]': expected an object.",
                f"input[{i}]")
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "message":
            role = item.get("role")
            require(role in ROLES, f"Invalid value for 'input[{i}].role': expected one of "
                                   f"{', '.join(ROLES)}.", f"input[{i}].role")
            messages.append({"role": role, "content": text_of(item.get("content"))})
        elif kind == "function_call":
            require(isinstance(item.get("name"), str) and isinstance(item.get("call_id"), str),
                    f"Invalid 'input[{i}]': a function_call needs 'name' and 'call_id'.",
                    f"input[{i}]")
            call = chat_call(item["call_id"], item["name"], str(item.get("arguments", "")))
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            require(isinstance(item.get("call_id"), str),
                    f"Invalid 'input[{i}]': a function_call_output needs 'call_id'.",
                    f"input[{i}]")
            messages.append({"role": "tool", "tool_call_id": item["call_id"],
                             "content": text_of(item.get("output"))})
    return messages


def _tool_choice(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return {"type": "function", "function": {"name": value["name"]}}
    return value if isinstance(value, str) else "auto"


class Responses(Api):
    name = "responses"
    routes = (("POST", "/v1/responses"),)
    id_prefix = "resp_"
    call_prefix = "call_"

    def parse(self, body: Any, request: web.Request, run: RunWorld) -> dict[str, Any]:
        require(isinstance(body, dict), "Request body must be a JSON object.")
        given = body.get("input")
        require(isinstance(given, str | list), "Missing required parameter: 'input'.", "input")
        items = [{"role": "user", "content": given}] if isinstance(given, str) else given
        messages = _messages(items)
        instructions = body.get("instructions")
        if isinstance(instructions, str) and instructions:
            messages.insert(0, {"role": "system", "content": instructions})
        previous = body.get("previous_response_id")
        if previous is not None:
            before = run.responses.get(previous) if isinstance(previous, str) else None
            if before is None:
                raise Refused(f"Previous response with id '{previous}' not found.",
                              "previous_response_id")
            messages = [m for m in before if m["role"] != "system" or not instructions] + \
                messages
        require(bool(messages), "Invalid 'input': empty.", "input")
        tools = body.get("tools") or []
        require(isinstance(tools, list) and all(isinstance(t, dict) for t in tools),
                "Invalid 'tools': expected an array of objects.", "tools")
        offered = [chat_tool(t["name"], t.get("description"), t.get("parameters"))
                   for t in tools if t.get("type") == "function" and isinstance(t.get("name"), str)]
        for key, kind in {"model": str, "stream": bool, "max_output_tokens": int,
                          "instructions": str}.items():
            value = body.get(key)
            require(value is None or (isinstance(value, kind) and not (
                kind is int and isinstance(value, bool))), f"Invalid type for '{key}'.", key)
        return {
            "messages": messages,
            "tools": offered,
            "tool_choice": _tool_choice(body.get("tool_choice", "auto")),
            "stop": [],
            "max_tokens": body.get("max_output_tokens"),
            "stream": body.get("stream") is True,
            "model": body.get("model"),
            "echo": {k: body.get(k) for k in ("instructions", "previous_response_id",
                                               "max_output_tokens")},
            "raw_tools": tools,
            "raw_tool_choice": body.get("tool_choice", "auto"),
            "parallel_tool_calls": body.get("parallel_tool_calls"),
        }

    def remember(self, run: RunWorld, reply: Completion, meta: Meta) -> None:
        said: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            said["tool_calls"] = [chat_call(i, c.name, c.arguments)
                                  for i, c in zip(meta.call_ids, reply.tool_calls, strict=True)]
        run.responses[meta.rid] = [*meta.neutral["messages"], said]

    # --- rendering --------------------------------------------------------------------------

    def _items(self, reply: Completion, meta: Meta) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if reply.content is not None:
            items.append({"type": "message", "id": "msg_" + meta.rid.removeprefix("resp_"),
                          "status": "completed", "role": "assistant",
                          "content": [self._text(reply.content)]})
        for call_id, call in zip(meta.call_ids, reply.tool_calls, strict=True):
            items.append({"type": "function_call", "id": "fc_" + call_id.removeprefix("call_"),
                          "call_id": call_id, "name": call.name, "arguments": call.arguments,
                          "status": "completed"})
        return items

    @staticmethod
    def _text(text: str) -> dict[str, Any]:
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}

    def _response(self, reply: Completion | None, meta: Meta,
                  output: list[dict[str, Any]]) -> dict[str, Any]:
        cut = reply is not None and reply.finish_reason == "length"
        status = "in_progress" if reply is None else ("incomplete" if cut else "completed")
        echo = meta.neutral.get("echo", {})
        return {
            "id": meta.rid, "object": "response", "created_at": CREATED, "status": status,
            "model": meta.model, "output": output, "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
            "instructions": echo.get("instructions"),
            "max_output_tokens": echo.get("max_output_tokens"),
            "previous_response_id": echo.get("previous_response_id"),
            "metadata": {}, "parallel_tool_calls": True, "temperature": 1.0, "top_p": 1.0,
            "tool_choice": meta.neutral.get("raw_tool_choice", "auto"),
            "tools": meta.neutral.get("raw_tools", []),
            "text": {"format": {"type": "text"}}, "truncation": "disabled", "store": True,
            "usage": None if reply is None else {
                "input_tokens": meta.prompt_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": meta.completion_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": meta.total_tokens},
        }

    def render(self, reply: Completion, meta: Meta) -> dict[str, Any]:
        return self._response(reply, meta, self._items(reply, meta))

    def events(self, reply: Completion, meta: Meta) -> Iterator[tuple[bytes, bool]]:
        seq = 0

        def event(kind: str, **fields: Any) -> bytes:
            nonlocal seq
            frame = sse({"type": kind, "sequence_number": seq, **fields}, kind)
            seq += 1
            return frame

        yield event("response.created", response=self._response(None, meta, [])), False
        yield event("response.in_progress", response=self._response(None, meta, [])), False
        items = self._items(reply, meta)
        for index, item in enumerate(items):
            if item["type"] == "message":
                text = reply.content or ""
                yield event("response.output_item.added", output_index=index,
                            item={**item, "status": "in_progress", "content": []}), False
                where = {"item_id": item["id"], "output_index": index, "content_index": 0}
                yield event("response.content_part.added", **where,
                            part=self._text("")), False
                for piece in pieces(text):
                    if piece:
                        yield event("response.output_text.delta", **where, delta=piece,
                                    logprobs=[]), True
                yield event("response.output_text.done", **where, text=text, logprobs=[]), False
                yield event("response.content_part.done", **where, part=self._text(text)), False
            else:
                yield event("response.output_item.added", output_index=index,
                            item={**item, "arguments": "", "status": "in_progress"}), False
                where = {"item_id": item["id"], "output_index": index}
                for piece in pieces(item["arguments"]):
                    if piece:
                        yield event("response.function_call_arguments.delta", **where,
                                    delta=piece), True
                yield event("response.function_call_arguments.done", **where,
                            name=item["name"], arguments=item["arguments"]), False
            yield event("response.output_item.done", output_index=index, item=item), False
        final = self._response(reply, meta, items)
        done = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        yield event(done, response=final), False

    def context_error(self, prompt_tokens: int, window: int) -> ApiError:
        return openai_error(400, f"Your input exceeds the context window of this model "
                                 f"({prompt_tokens} tokens > {window}). Please adjust your "
                                 f"input and try again.", "invalid_request_error",
                            "context_length_exceeded", param="input")
