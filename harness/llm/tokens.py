"""Deterministic token counting (the same numbers on every machine, no tokenizer download).

- A text costs ``ceil(characters / 4)`` tokens (OpenAI's rule of thumb for English).
- Each message costs 4 tokens of framing plus its text and, for tool calls, the name and the
  argument JSON.
- The offered tools cost the length of their JSON definitions, by the same rule.
"""

from __future__ import annotations

import json
import math
from typing import Any


def count_text(text: str) -> int:
    return math.ceil(len(text) / 4)


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return " ".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return str(content)


def count_message(message: Any) -> int:
    if not isinstance(message, dict):
        return 4 + count_text(str(message))
    total = 4 + count_text(_content_text(message.get("content")))
    for fn in _functions(message):
        total += count_text(str(fn.get("name", ""))) + count_text(str(fn.get("arguments", "")))
    return total


def _functions(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``function`` parts of a message's tool calls, skipping malformed ones."""
    calls = message.get("tool_calls")
    return [c["function"] for c in calls if isinstance(c, dict) and
            isinstance(c.get("function"), dict)] if isinstance(calls, list) else []


def count_prompt(messages: list[Any], tools: list[Any] | None) -> int:
    total = sum(count_message(m) for m in messages)
    if tools:
        total += count_text(json.dumps(tools, sort_keys=True))
    return total


def message_text(message: Any) -> str:
    """All the text a model would read in one message (content and tool-call arguments)."""
    if not isinstance(message, dict):
        return str(message)
    parts = [_content_text(message.get("content"))]
    for fn in _functions(message):
        parts.append(str(fn.get("arguments", "")))
    return "\n".join(parts)
