"""Model traffic in vcrpy cassettes (recorded by vcrpy or pytest-recording): which exchanges
are model calls of which API, and what the model answered, plain or streamed.

Cassettes are read by vcrpy's own deserializer (YAML or JSON); nothing here knows the file
format. A model call is recognised by its path: ``/chat/completions`` (Chat Completions),
``/responses`` (Responses), ``/v1/messages`` (Anthropic Messages), ``:generateContent`` and
``:streamGenerateContent`` (Gemini). Anything else is listed as skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ChaosError

_APIS = ((re.compile(r"/chat/completions$"), "chat"), (re.compile(r"/responses$"), "responses"),
         (re.compile(r"/v1/messages$"), "anthropic"),
         (re.compile(r":(stream)?[gG]enerateContent$"), "gemini"))


@dataclass
class Reply:
    """What the model answered in one exchange: text and/or tool calls."""

    text: str = ""
    calls: list[tuple[str, Any]] = field(default_factory=list)  # (name, arguments)
    finish: str = ""


@dataclass
class Exchange:
    api: str
    method: str
    uri: str
    request: Any  # the request's JSON body
    status: int
    reply: Reply | None  # None: an error answer
    streamed: bool


@dataclass
class Cassette:
    exchanges: list[Exchange]
    skipped: list[str]  # "METHOD URI: why"


def api_of(uri: str) -> str | None:
    path = urlsplit(uri).path
    return next((name for pattern, name in _APIS if pattern.search(path)), None)


def read(path: Path) -> Cassette:
    """Load a cassette with vcrpy; ``ChaosError`` if vcrpy cannot read it."""
    from vcr.serialize import deserialize
    from vcr.serializers import jsonserializer, yamlserializer

    serializer = jsonserializer if path.suffix == ".json" else yamlserializer
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChaosError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    try:
        loaded = deserialize(text, serializer)
    except Exception as exc:
        raise ChaosError(f"{path}: not a cassette vcrpy can read: {type(exc).__name__}: "
                         f"{exc}") from exc
    requests, responses = loaded[0], loaded[1]
    out = Cassette([], [])
    for req, resp in zip(requests, responses, strict=True):
        where = f"{req.method} {req.uri}"
        api = api_of(req.uri)
        if api is None:
            out.skipped.append(f"{where}: not a model call")
            continue
        body = _text(req.body)
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            out.skipped.append(f"{where}: the request body is not JSON")
            continue
        status = int(resp["status"]["code"])
        answer = _text(resp["body"].get("string", b""))
        headers = {k.lower(): v for k, v in (resp.get("headers") or {}).items()}
        kind = " ".join(headers.get("content-type", []))
        streamed = "event-stream" in kind or answer.lstrip().startswith(("data:", "event:"))
        reply = None
        if 200 <= status < 300:
            try:
                reply = (_streamed if streamed else _plain)[api](answer)
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                out.skipped.append(f"{where}: an answer that cannot be read ({exc})")
                continue
        out.exchanges.append(Exchange(api, req.method, req.uri, request, status, reply,
                                      streamed))
    return out


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return str(body)


def _args(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            return raw  # broken JSON as the model sent it
    return raw if raw is not None else {}


def _sse(text: str) -> list[Any]:
    """The JSON data of each server-sent event (``[DONE]`` and non-JSON left out)."""
    out = []
    for block in re.split(r"\r?\n\r?\n", text):
        data = "\n".join(line[5:].lstrip() for line in block.splitlines()
                         if line.startswith("data:"))
        if data and data != "[DONE]":
            try:
                out.append(json.loads(data))
            except ValueError:
                continue
    return out


# --- Chat Completions ---------------------------------------------------------------------

def _chat(text: str) -> Reply:
    choice = json.loads(text)["choices"][0]
    message = choice.get("message") or {}
    calls = [(c["function"]["name"], _args(c["function"].get("arguments")))
             for c in message.get("tool_calls") or []]
    return Reply(message.get("content") or "", calls, choice.get("finish_reason") or "")


def _chat_stream(text: str) -> Reply:
    reply, calls = Reply(), dict[int, list[str]]()
    for chunk in _sse(text):
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            reply.text += delta.get("content") or ""
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call.get("index", 0), ["", ""])
                fn = call.get("function") or {}
                slot[0] += fn.get("name") or ""
                slot[1] += fn.get("arguments") or ""
            reply.finish = choice.get("finish_reason") or reply.finish
    reply.calls = [(n, _args(a)) for _, (n, a) in sorted(calls.items())]
    return reply


# --- Responses ----------------------------------------------------------------------------

def _responses(text: str) -> Reply:
    return _response_object(json.loads(text))


def _response_object(obj: dict[str, Any]) -> Reply:
    reply = Reply(finish=str(obj.get("status", "")))
    for item in obj.get("output") or []:
        if item.get("type") == "message":
            reply.text += "".join(c.get("text", "") for c in item.get("content") or []
                                  if c.get("type") == "output_text")
        elif item.get("type") == "function_call":
            reply.calls.append((item["name"], _args(item.get("arguments"))))
    return reply


def _responses_stream(text: str) -> Reply:
    events = _sse(text)
    done = [e for e in events if e.get("type") in ("response.completed", "response.incomplete")]
    if done:
        return _response_object(done[-1]["response"])
    reply = Reply()  # cut short: what the deltas say
    for e in events:
        if e.get("type") == "response.output_text.delta":
            reply.text += e.get("delta", "")
        elif e.get("type") == "response.output_item.done" and \
                (e.get("item") or {}).get("type") == "function_call":
            reply.calls.append((e["item"]["name"], _args(e["item"].get("arguments"))))
    return reply


# --- Anthropic Messages -------------------------------------------------------------------

def _anthropic(text: str) -> Reply:
    obj = json.loads(text)
    reply = Reply(finish=str(obj.get("stop_reason") or ""))
    for block in obj.get("content") or []:
        if block.get("type") == "text":
            reply.text += block.get("text", "")
        elif block.get("type") == "tool_use":
            reply.calls.append((block["name"], block.get("input") or {}))
    return reply


def _anthropic_stream(text: str) -> Reply:
    reply, blocks = Reply(), dict[int, dict[str, Any]]()
    for e in _sse(text):
        kind = e.get("type")
        if kind == "content_block_start":
            blocks[e["index"]] = dict(e.get("content_block") or {}, partial="")
        elif kind == "content_block_delta":
            delta = e.get("delta") or {}
            block = blocks.setdefault(e["index"], {"type": "text", "partial": ""})
            if delta.get("type") == "text_delta":
                reply.text += delta.get("text", "")
            elif delta.get("type") == "input_json_delta":
                block["partial"] += delta.get("partial_json", "")
        elif kind == "message_delta":
            reply.finish = (e.get("delta") or {}).get("stop_reason") or reply.finish
    for _, block in sorted(blocks.items()):
        if block.get("type") == "tool_use":
            args = _args(block["partial"]) if block["partial"] else block.get("input") or {}
            reply.calls.append((block["name"], args))
    return reply


# --- Gemini -------------------------------------------------------------------------------

def _gemini_parts(obj: dict[str, Any], reply: Reply) -> None:
    for candidate in obj.get("candidates") or []:
        for part in (candidate.get("content") or {}).get("parts") or []:
            if "text" in part and not part.get("thought"):
                reply.text += part["text"]
            elif "functionCall" in part:
                call = part["functionCall"]
                reply.calls.append((call["name"], call.get("args") or {}))
        reply.finish = candidate.get("finishReason") or reply.finish


def _gemini(text: str) -> Reply:
    reply = Reply()
    _gemini_parts(json.loads(text), reply)
    return reply


def _gemini_stream(text: str) -> Reply:
    reply = Reply()
    for chunk in _sse(text):
        _gemini_parts(chunk, reply)
    return reply


_plain = {"chat": _chat, "responses": _responses, "anthropic": _anthropic, "gemini": _gemini}
_streamed = {"chat": _chat_stream, "responses": _responses_stream,
             "anthropic": _anthropic_stream, "gemini": _gemini_stream}


def first_user_text(exchange: Exchange) -> str:
    """The user's first message in a recorded request (the task), whatever the API."""
    body = exchange.request if isinstance(exchange.request, dict) else {}
    if exchange.api == "gemini":
        for content in body.get("contents") or []:
            if content.get("role", "user") == "user":
                return "".join(p.get("text", "") for p in content.get("parts") or [])
        return ""
    items = body.get("messages") if exchange.api != "responses" else body.get("input")
    if isinstance(items, str):
        return items
    for item in items or []:
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            return "".join(c.get("text", "") for c in content or [] if isinstance(c, dict))
    return ""
