"""What a wire protocol of the mock LLM is: a request parser and a reply renderer.

Each API (Chat Completions, Responses, Anthropic Messages, Gemini) turns its request into one
neutral request, and renders the neutral reply (a ``Completion``) or error (an ``ApiError`` in
OpenAI's shape) in its own shape, plain and streamed. The neutral request is Chat Completions'
shape, the one the behaviours and token counting read:

- ``messages``: ``{role: system|user|assistant|tool, content, tool_calls?, tool_call_id?}``,
  tool calls as ``{id, type: function, function: {name, arguments}}`` with arguments a string;
- ``tools``: ``[{type: function, function: {name, description, parameters}}]``;
- ``tool_choice``: ``auto``, ``none``, ``required`` or ``{type: function, function: {name}}``;
- ``stop`` (a list), ``max_tokens``, ``stream``, ``model``, ``include_usage``.

Everything else (faults, the script, token counting, the trace) is shared, in ``exchange``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..turns import ApiError, Completion

if TYPE_CHECKING:
    from ...world.run import RunWorld

#: A fixed creation time, so traces stay byte-identical across runs (SDKs need an integer).
CREATED = 1_750_000_000


class Refused(Exception):
    """A request the real API refuses with a 400 before reading it."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass
class Meta:
    """What renders a reply besides the reply itself."""

    rid: str  # the response's id
    call_ids: list[str]
    model: str
    prompt_tokens: int
    completion_tokens: int
    neutral: dict[str, Any]  # the neutral request

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Api:
    """One wire protocol. Subclasses set the class attributes and implement the methods."""

    #: Its name in the trace (``api`` of every llm event).
    name: ClassVar[str]
    #: (method, path under ``/s/{session}``), e.g. ``("POST", "/v1/chat/completions")``.
    routes: ClassVar[tuple[tuple[str, str], ...]]
    #: How ids look: the response's and each tool call's prefix.
    id_prefix: ClassVar[str]
    call_prefix: ClassVar[str]
    #: Whether a request plays a turn of the script (all but embeddings).
    scripted: ClassVar[bool] = True

    def parse(self, body: Any, request: web.Request, run: RunWorld) -> dict[str, Any]:
        """The neutral request; raises ``Refused`` for what the real API answers with a 400."""
        raise NotImplementedError

    def render(self, reply: Completion, meta: Meta) -> dict[str, Any]:
        raise NotImplementedError

    def events(self, reply: Completion, meta: Meta) -> Iterator[tuple[bytes, bool]]:
        """The streamed reply: each SSE frame, with whether it carries a token (for delays)."""
        raise NotImplementedError

    def error(self, error: ApiError) -> ApiError:
        """``error`` (OpenAI's shape) in this API's shape, with this API's headers."""
        return error

    def context_error(self, prompt_tokens: int, window: int) -> ApiError:
        """This API's answer to a prompt larger than the model's window."""
        raise NotImplementedError

    def rate_headers(self, state: dict[str, tuple[int, int, float]]) -> dict[str, str]:
        """The provider's rate-limit headers for a quota's state (OpenAI's by default)."""
        from ..quota import openai_headers

        return openai_headers(state)

    def remember(self, run: RunWorld, reply: Completion, meta: Meta) -> None:
        """Keep what a later request may refer to (the Responses API's previous response)."""


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event: ``event:`` (when named) and a JSON ``data:`` line."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def pieces(text: str, size: int = 4) -> list[str]:
    """Split text into stream deltas of about one token each."""
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def text_of(content: Any) -> str:
    """The text of a content value: a string, or parts with ``text``."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p)
                       for p in content)
    return str(content)


def chat_tool(name: str, description: Any, parameters: Any) -> dict[str, Any]:
    """A tool offered to the model, in the neutral (Chat Completions) shape."""
    fn: dict[str, Any] = {"name": name}
    if isinstance(description, str):
        fn["description"] = description
    fn["parameters"] = parameters if isinstance(parameters, dict) else {"type": "object"}
    return {"type": "function", "function": fn}


def chat_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": arguments}}


def add_turn(messages: list[dict[str, Any]], assistant: bool, texts: list[str],
             calls: list[dict[str, Any]]) -> None:
    """Append one turn of a block-based history (Anthropic, Gemini) as a neutral message: the
    model's text and calls, or the user's text (tool results are messages of their own)."""
    if assistant:
        said: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
        if calls:
            said["tool_calls"] = calls
        messages.append(said)
    elif texts:
        messages.append({"role": "user", "content": "\n".join(texts)})


def parsed_arguments(arguments: str) -> dict[str, Any]:
    """Arguments as an object, for APIs that carry them so (Anthropic, Gemini): JSON the model
    broke cannot reach their clients as text, so it arrives as an empty object."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def require(condition: bool, message: str, param: str | None = None) -> None:
    if not condition:
        raise Refused(message, param)
