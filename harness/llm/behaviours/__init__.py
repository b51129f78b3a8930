"""Every built-in behaviour of the mock model; importing this package registers them."""

from . import (
    context_overflow,
    error,
    hallucinated_tool,
    hang,
    invalid_json_args,
    obey_injection,
    parallel_calls,
    repeat,
    replay,
    schema_invalid_args,
    text,
    tool_call,
    truncated,
)

__all__ = [
    "context_overflow",
    "error",
    "hallucinated_tool",
    "hang",
    "invalid_json_args",
    "obey_injection",
    "parallel_calls",
    "repeat",
    "replay",
    "schema_invalid_args",
    "text",
    "tool_call",
    "truncated",
]
