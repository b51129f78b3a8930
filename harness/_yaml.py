"""Safe YAML loading that keeps the line and column of every key and value.

ruamel.yaml parses (it rejects duplicate keys itself); this module turns its result into plain
Python data, refuses tags that would build objects (``!!python/...``), caps how far aliases may
expand (a "billion laughs" document), and records positions for error messages.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import Problem, ScenarioError

#: More nodes than this (counted while parsing, and again after alias expansion) means a
#: hostile or broken document. The built-in scenarios have a few hundred.
MAX_NODES = 50_000

Path = tuple[str | int, ...]
_STANDARD_TAGS = {
    None,
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


class Positions:
    """Line/column (1-based) of each key and value in a loaded document, by field path."""

    def __init__(self) -> None:
        self.keys: dict[Path, tuple[int, int]] = {}
        self.values: dict[Path, tuple[int, int]] = {}

    def locate(self, path: Path, *, key: bool = False) -> tuple[int | None, int | None]:
        """The position of ``path`` (its key if ``key``), else of its nearest located parent."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        for end in range(len(path) - 1, -1, -1):
            sub = path[:end]
            if sub in self.values:
                return self.values[sub]
        return (1, 1)


def format_path(path: Path) -> str:
    """``("llm", 0, "tool_call")`` → ``llm[0].tool_call``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _tag_of(node: Any) -> str | None:
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", tag)
    return value if isinstance(value, str) or value is None else str(value)


class _Converter:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.positions = Positions()
        self.problems: list[Problem] = []
        self.nodes = 0

    def problem(self, path: Path, message: str) -> None:
        line, col = self.positions.locate(path)
        self.problems.append(Problem(self.filename, line, col, format_path(path), message))

    def convert(self, node: Any, path: Path) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge
        tag = _tag_of(node)
        if tag not in _STANDARD_TAGS:
            self.problem(path, f"YAML tag {tag!r} is not allowed (scenarios are plain data)")
            return None
        if isinstance(node, CommentedMap):
            out: dict[str, Any] = {}
            for key in node:
                if not isinstance(key, str | int | float | bool) or isinstance(key, bool):
                    self.problem(path, f"mapping keys must be strings, got {key!r}")
                    continue
                k = str(key)
                child = (*path, k)
                kl, kc = node.lc.key(key)
                vl, vc = node.lc.value(key)
                self.positions.keys[child] = (kl + 1, kc + 1)
                self.positions.values[child] = (vl + 1, vc + 1)
                out[k] = self.convert(node[key], child)
            return out
        if isinstance(node, CommentedSeq):
            items = []
            for i, item in enumerate(node):
                child = (*path, i)
                line, col = node.lc.item(i)
                self.positions.values[child] = (line + 1, col + 1)
                items.append(self.convert(item, child))
            return items
        if isinstance(node, TaggedScalar):
            return str(node.value)
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        if isinstance(node, str):
            return str(node)
        if isinstance(node, datetime.date):
            # Keep dates as text: the schema decides whether text is acceptable.
            return node.isoformat()
        if isinstance(node, Mapping | Sequence):  # pragma: no cover - ruamel gives Commented*
            self.problem(path, "unsupported YAML structure")
            return None
        return node


class _TooLarge(Exception):
    pass


class _CountingComposer(Composer):
    """Counts nodes as the parser makes them, so that a huge document is refused after
    ``MAX_NODES`` of work, not after all of it has been read into memory."""

    nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge
        return super().compose_node(parent, index)


def load_yaml(text: str, filename: str) -> tuple[Any, Positions]:
    """Parse ``text``; raise ``ScenarioError`` (with positions) for any YAML-level mistake."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Composer = _CountingComposer
    try:
        raw = yaml.load(io.StringIO(text))
    except _TooLarge:
        message = f"document has more than {MAX_NODES} nodes (a scenario has hundreds)"
        raise ScenarioError([Problem(filename, 1, 1, "", message)]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = (exc.problem or "invalid YAML").strip()
        if "duplicate key" in what and exc.context_mark is not None:
            what += f" (first defined at line {exc.context_mark.line + 1})"
        raise ScenarioError([Problem(filename, line, col, "", f"YAML error: {what}")]) from None
    except YAMLError as exc:
        raise ScenarioError([Problem(filename, None, None, "", f"YAML error: {exc}")]) from None
    converter = _Converter(filename)
    try:
        data = converter.convert(raw, ())
    except _TooLarge:
        message = f"document expands to more than {MAX_NODES} nodes (an alias bomb?)"
        raise ScenarioError([Problem(filename, 1, 1, "", message)]) from None
    except RecursionError:
        message = "document is nested too deeply (a recursive alias?)"
        raise ScenarioError([Problem(filename, 1, 1, "", message)]) from None
    if converter.problems:
        raise ScenarioError(converter.problems)
    return data, converter.positions
