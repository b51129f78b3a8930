"""Gemini's generateContent, as the google-genai SDK calls it with a custom base URL
(``env.gemini_base_url``, ``GOOGLE_GEMINI_BASE_URL``): ``POST /v1beta/models/{model}:
generateContent`` and ``:streamGenerateContent?alt=sse`` (``/v1/`` too).

``contents`` with ``parts`` (``text``, ``functionCall``, ``functionResponse``; others read as a
placeholder), ``systemInstruction``, ``tools[].functionDeclarations`` (``parameters`` or
``parametersJsonSchema``), ``toolConfig.functionCallingConfig`` (``mode`` AUTO, ANY, NONE,
VALIDATED; ``allowedFunctionNames``), ``generationConfig`` (``maxOutputTokens``,
``stopSequences``). Replies: ``candidates[0].content.parts``, ``finishReason`` STOP or
MAX_TOKENS, ``usageMetadata``. Streamed: one ``data:`` chunk per piece, the last with the finish
reason and usage. Errors: ``{"error": {"code", "message", "status"}}`` (RESOURCE_EXHAUSTED,
UNAVAILABLE, ...). A function call's ``args`` is an object: JSON the model broke arrives as
``{}``; Gemini's calls carry no id, so the mock names them ``<name>`` in the neutral history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..turns import ApiError, Completion, openai_error
from .base import Api, Meta, add_turn, chat_call, chat_tool, parsed_arguments, pieces, require, sse

if TYPE_CHECKING:
    from ...world.run import RunWorld

STATUSES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
            404: "NOT_FOUND", 408: "DEADLINE_EXCEEDED", 409: "ABORTED",
            429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE",
            503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED", 529: "UNAVAILABLE"}


def _text(parts: Any) -> str:
    if not isinstance(parts, list):
        return ""
    return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def _messages(contents: list[Any], system: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if isinstance(system, dict) and _text(system.get("parts")):
        messages.append({"role": "system", "content": _text(system.get("parts"))})
    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        require(isinstance(content, dict) and isinstance(content.get("parts"), list),
                f"Invalid JSON payload received. {where}: each content needs 'parts'.", where)
        role = content.get("role", "user")
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        for part in content["parts"]:
            if not isinstance(part, dict):
                continue
            if "text" in part:
                texts.append(str(part["text"]))
            elif isinstance(part.get("functionCall"), dict):
                call = part["functionCall"]
                name = str(call.get("name", ""))
                calls.append(chat_call(str(call.get("id") or name), name,
                                       json.dumps(call.get("args", {}))))
            elif isinstance(part.get("functionResponse"), dict):
                answer = part["functionResponse"]
                name = str(answer.get("name", ""))
                messages.append({"role": "tool", "tool_call_id": str(answer.get("id") or name),
                                 "content": json.dumps(answer.get("response", {}))})
            elif part and not part.keys() <= {"thought", "thoughtSignature"}:
                texts.append(f"[{next(iter(part))}]")
        add_turn(messages, role == "model", texts, calls)
    return messages


def _tool_choice(config: Any) -> Any:
    calling = config.get("functionCallingConfig") if isinstance(config, dict) else None
    if not isinstance(calling, dict):
        return "auto"
    mode = str(calling.get("mode", "AUTO")).upper()
    allowed = calling.get("allowedFunctionNames")
    if mode in ("ANY", "VALIDATED") and isinstance(allowed, list) and len(allowed) == 1:
        return {"type": "function", "function": {"name": str(allowed[0])}}
    return {"ANY": "required", "NONE": "none"}.get(mode, "auto")


class Gemini(Api):
    name = "gemini"
    routes = tuple(("POST", f"/{version}/models/{{model}}:{method}")
                   for version in ("v1beta", "v1")
                   for method in ("generateContent", "streamGenerateContent"))
    id_prefix = "resp-"
    call_prefix = "call-"

    def parse(self, body: Any, request: web.Request, run: RunWorld) -> dict[str, Any]:
        require(isinstance(body, dict), "Invalid JSON payload received.")
        contents = body.get("contents")
        require(isinstance(contents, list) and bool(contents),
                "* GenerateContentRequest.contents: contents is not specified", "contents")
        messages = _messages(contents, body.get("systemInstruction"))
        tools = body.get("tools") or []
        require(isinstance(tools, list), "Invalid JSON payload received. 'tools' is not a "
                                         "list.", "tools")
        offered = []
        for tool in tools:
            declarations = tool.get("functionDeclarations") if isinstance(tool, dict) else None
            for fn in declarations if isinstance(declarations, list) else []:
                if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                    schema = fn.get("parametersJsonSchema", fn.get("parameters"))
                    offered.append(chat_tool(fn["name"], fn.get("description"), schema))
        config = body.get("generationConfig") or {}
        require(isinstance(config, dict), "Invalid 'generationConfig'.", "generationConfig")
        stop = config.get("stopSequences") or []
        model = request.match_info.get("model", "")
        return {"messages": messages, "tools": offered,
                "tool_choice": _tool_choice(body.get("toolConfig")),
                "stop": [s for s in stop if isinstance(s, str)] if isinstance(stop, list) else [],
                "max_tokens": config.get("maxOutputTokens"),
                "stream": request.path.endswith(":streamGenerateContent"),
                "model": model.removeprefix("models/")}

    def _usage(self, meta: Meta) -> dict[str, int]:
        return {"promptTokenCount": meta.prompt_tokens,
                "candidatesTokenCount": meta.completion_tokens,
                "totalTokenCount": meta.total_tokens}

    def _chunk(self, parts: list[dict[str, Any]], meta: Meta,
               finish: str | None) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        body: dict[str, Any] = {"candidates": [candidate], "modelVersion": meta.model,
                                "responseId": meta.rid}
        if finish is not None:
            candidate["finishReason"] = finish
            body["usageMetadata"] = self._usage(meta)
        return body

    @staticmethod
    def _finish(reply: Completion) -> str:
        return "MAX_TOKENS" if reply.finish_reason == "length" else "STOP"

    @staticmethod
    def _calls(reply: Completion) -> list[dict[str, Any]]:
        return [{"functionCall": {"name": c.name, "args": parsed_arguments(c.arguments)}}
                for c in reply.tool_calls]

    def render(self, reply: Completion, meta: Meta) -> dict[str, Any]:
        parts = ([{"text": reply.content}] if reply.content else []) + self._calls(reply)
        return self._chunk(parts, meta, self._finish(reply))

    def events(self, reply: Completion, meta: Meta) -> Iterator[tuple[bytes, bool]]:
        texts = pieces(reply.content) if reply.content else []
        calls = self._calls(reply)
        if not texts and not calls:
            yield sse(self._chunk([], meta, self._finish(reply))), False
            return
        for i, piece in enumerate(texts):
            last = i == len(texts) - 1 and not calls
            yield sse(self._chunk([{"text": piece}], meta,
                                  self._finish(reply) if last else None)), True
        if calls:
            yield sse(self._chunk(calls, meta, self._finish(reply))), True

    def error(self, error: ApiError) -> ApiError:
        inner = error.body.get("error") if isinstance(error.body.get("error"), dict) else {}
        message = str((inner or {}).get("message") or "error")
        return ApiError(error.status, {"error": {
            "code": error.status, "message": message,
            "status": STATUSES.get(error.status, "UNKNOWN")}}, dict(error.headers))

    def rate_headers(self, state: dict[str, tuple[int, int, float]]) -> dict[str, str]:
        return {}  # Gemini sends none; a 429 says RESOURCE_EXHAUSTED with retry-after

    def context_error(self, prompt_tokens: int, window: int) -> ApiError:
        return openai_error(400, f"The input token count ({prompt_tokens}) exceeds the maximum "
                                 f"number of tokens allowed ({window}).",
                            "invalid_request_error", "context_length_exceeded")
