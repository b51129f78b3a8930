"""A small client of every API the mock LLM speaks, for table tests: the request each sends,
and its answer read back into one shape: ``{status, text, calls, finish, error}`` with
``finish`` in Chat Completions' words (stop, tool_calls, length)."""

from __future__ import annotations

import json
from typing import Any

APIS = ["chat", "responses", "anthropic", "gemini"]
SCHEMA = {"type": "object", "properties": {"sku": {"type": "string"},
                                           "warehouse": {"type": "string"}},
          "required": ["sku", "warehouse"]}
TOOL = {"name": "get_stock", "description": "Current stock.", "parameters": SCHEMA}


def request(api: str, base: str, text: str, stream: bool) -> tuple[str, dict[str, Any]]:
    """(url, body) of a one-message request offering ``get_stock``; ``base`` ends in /v1."""
    root = base.removesuffix("/v1")
    if api == "chat":
        return f"{base}/chat/completions", {
            "model": "m", "messages": [{"role": "user", "content": text}], "stream": stream,
            "tools": [{"type": "function", "function": TOOL}]}
    if api == "responses":
        return f"{base}/responses", {"model": "m", "input": text, "stream": stream,
                                     "tools": [{"type": "function", **TOOL}]}
    if api == "anthropic":
        return f"{root}/v1/messages", {
            "model": "c", "max_tokens": 1024, "stream": stream,
            "messages": [{"role": "user", "content": text}],
            "tools": [{"name": TOOL["name"], "description": TOOL["description"],
                       "input_schema": SCHEMA}]}
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"{root}/v1beta/models/g:{method}", {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "tools": [{"functionDeclarations": [TOOL]}]}


def _events(raw: str) -> list[tuple[str | None, Any]]:
    out = []
    for frame in raw.split("\n\n"):
        if not frame.strip():
            continue
        name, data = None, ""
        for line in frame.split("\n"):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
        out.append((name, data if data == "[DONE]" else json.loads(data)))
    return out


def _error(api: str, body: Any) -> str:
    err = body.get("error", {}) if isinstance(body, dict) else {}
    if api == "anthropic":
        return str(err.get("type"))
    if api == "gemini":
        return str(err.get("status"))
    return str(err.get("code") or err.get("type"))


def read(api: str, status: int, raw: str, stream: bool) -> dict[str, Any]:
    """The answer in one shape; ``calls`` as (name, arguments text or object)."""
    if status != 200:
        body = json.loads(raw) if raw else {}
        message = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
        return {"status": status, "error": _error(api, body), "message": message}
    text, calls, finish = "", [], "stop"
    if api == "chat":
        if stream:
            args: dict[int, list[str]] = {}
            names: dict[int, str] = {}
            for _, chunk in _events(raw):
                if chunk == "[DONE]" or not chunk["choices"]:
                    continue
                choice = chunk["choices"][0]
                text += choice["delta"].get("content") or ""
                for call in choice["delta"].get("tool_calls") or []:
                    if "id" in call:
                        names[call["index"]] = call["function"]["name"]
                    args.setdefault(call["index"], []).append(call["function"]["arguments"])
                finish = choice["finish_reason"] or finish
            calls = [(names[i], "".join(args[i])) for i in sorted(names)]
        else:
            choice = json.loads(raw)["choices"][0]
            text = choice["message"]["content"] or ""
            calls = [(c["function"]["name"], c["function"]["arguments"])
                     for c in choice["message"].get("tool_calls") or []]
            finish = choice["finish_reason"]
        return {"status": 200, "text": text, "calls": calls, "finish": finish}
    if api == "responses":
        if stream:
            events = _events(raw)
            kinds = [e["type"] for _, e in events]
            assert kinds[0] == "response.created" and kinds[-1] in (
                "response.completed", "response.incomplete")
            deltas = "".join(e["delta"] for _, e in events
                             if e["type"] == "response.output_text.delta")
            response = events[-1][1]["response"]
        else:
            response = json.loads(raw)
        for item in response["output"]:
            if item["type"] == "message":
                text += "".join(p["text"] for p in item["content"])
            else:
                calls.append((item["name"], item["arguments"]))
        if stream:
            assert deltas == text
        finish = ("length" if response["status"] == "incomplete" else
                  "tool_calls" if calls else "stop")
        return {"status": 200, "text": text, "calls": calls, "finish": finish}
    stops = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length",
             "STOP": "stop", "MAX_TOKENS": "length"}
    if api == "anthropic":
        if stream:
            blocks: dict[int, dict[str, Any]] = {}
            for name, event in _events(raw):
                assert name == event["type"]
                if name == "content_block_start":
                    blocks[event["index"]] = {**event["content_block"], "json": ""}
                elif name == "content_block_delta":
                    delta = event["delta"]
                    block = blocks[event["index"]]
                    if delta["type"] == "text_delta":
                        block["text"] += delta["text"]
                    else:
                        block["json"] += delta["partial_json"]
                elif name == "message_delta":
                    finish = stops[event["delta"]["stop_reason"]]
            for _, block in sorted(blocks.items()):
                if block["type"] == "text":
                    text += block["text"]
                else:
                    calls.append((block["name"], block["json"]))
        else:
            body = json.loads(raw)
            for block in body["content"]:
                if block["type"] == "text":
                    text += block["text"]
                else:
                    calls.append((block["name"], block["input"]))
            finish = stops[body["stop_reason"]]
        return {"status": 200, "text": text, "calls": calls, "finish": finish}
    chunks = [c for _, c in _events(raw)] if stream else [json.loads(raw)]
    for chunk in chunks:
        candidate = chunk["candidates"][0]
        for part in candidate["content"]["parts"]:
            if "text" in part:
                text += part["text"]
            else:
                calls.append((part["functionCall"]["name"], part["functionCall"]["args"]))
        if "finishReason" in candidate:
            finish = stops[candidate["finishReason"]]
    if calls and finish == "stop":
        finish = "tool_calls"  # Gemini says STOP after a call
    return {"status": 200, "text": text, "calls": calls, "finish": finish}


def arguments(value: Any) -> Any:
    """A call's arguments as data: parsed when text (None when not JSON)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
