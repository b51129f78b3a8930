"""JSON at the edges: strict parsing of what clients send, and output that is always valid.

Requests: UTF-8 only, no NaN or Infinity, at most ``MAX_DEPTH`` levels of nesting, integers of
sane length, a size cap. Anything else is the client's mistake (a 4xx), never a crash.

Output (results.json, the report): lone surrogates become U+FFFD, NaN and Infinity become
text, nesting below ``MAX_DEPTH`` and strings over ``MAX_TEXT`` characters are clipped, so one
hostile value cannot make the whole session's output invalid, huge or unwritable.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .trace import MAX_TEXT  # the longest string kept in output, as in traces

#: Nesting accepted in a request body, and kept in output.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadJSON(ValueError):
    """A request body that is not acceptable JSON; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise BadJSON(f"{name} is not JSON")


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (level by level: no recursion limit)."""
    deepest, current = 0, [value]
    while True:
        below: list[Any] = []
        containers = False
        for item in current:
            if isinstance(item, list):
                below.extend(item)
                containers = True
            elif isinstance(item, dict):
                below.extend(item.values())
                containers = True
        if not containers:
            return deepest
        deepest += 1
        current = below


def loads_strict(raw: bytes | str, max_depth: int = MAX_DEPTH, lenient: bool = False) -> Any:
    """Parse a request body, or raise ``BadJSON`` saying what is wrong with it. ``lenient``
    replaces invalid UTF-8 and lone surrogates with U+FFFD instead, as Go's decoder does (the
    real Toxiproxy)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8", errors="replace" if lenient else "strict")
        except UnicodeDecodeError as exc:
            raise BadJSON(f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except BadJSON:
        raise
    except RecursionError:
        raise BadJSON(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError, and integers too long to convert
        raise BadJSON(f"not valid JSON: {exc}") from None
    if depth(value) > max_depth:  # the parser itself stops (RecursionError) far deeper
        raise BadJSON(f"JSON nested deeper than {max_depth} levels")
    if ("\\u" in raw or _SURROGATE.search(raw)) and _has_surrogate(value):
        if lenient:
            return safe(value, max_text=len(raw))
        raise BadJSON("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not "
                      "valid Unicode")
    return value


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def safe(value: Any, max_depth: int = MAX_DEPTH, max_text: int = MAX_TEXT,
         _level: int = 0) -> Any:
    """``value`` made fit for output: always valid JSON, bounded in depth and string size."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            value = _SURROGATE.sub("\ufffd", value)
        if len(value) > max_text:
            value = value[:max_text] + f"… [{len(value) - max_text} more characters]"
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf", "-inf"
    if isinstance(value, dict | list | tuple):
        if _level >= max_depth:
            return f"[clipped: nested deeper than {max_depth} levels]"
        if isinstance(value, dict):
            return {safe(str(k), max_depth, max_text, _level + 1):
                    safe(v, max_depth, max_text, _level + 1) for k, v in value.items()}
        return [safe(v, max_depth, max_text, _level + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return safe(str(value), max_depth, max_text, _level)


def dumps_safe(value: Any, **kwargs: Any) -> str:
    """JSON text that any strict parser reads."""
    return json.dumps(safe(value), ensure_ascii=False, allow_nan=False, **kwargs)


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename: a failed write leaves
    the previous file as it was, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as open() would make it, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
