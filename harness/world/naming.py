"""Which of the agent's offered tools is a world operation: the rule by which a scenario's
script, written against the world's operations, meets an agent whose framework renamed them.

An offered tool is operation ``op`` when its name is ``op`` exactly, or ends with ``op`` after
a separator (``_``, ``.``, ``-``, ``/`` or ``:``): ``inventory_get_stock``,
``mcp__inventory__get_stock``, ``inventory.get_stock``, ``world-get_stock``. When several
offered names fit, the shortest wins (then the first offered).
"""

from __future__ import annotations

from collections.abc import Iterable

SEPARATORS = ("_", ".", "-", "/", ":")


def is_operation(offered: str, operation: str) -> bool:
    """Whether the offered name ``offered`` is ``operation`` under the rule."""
    if offered == operation:
        return True
    return offered.endswith(operation) and len(offered) > len(operation) and \
        offered[-len(operation) - 1] in SEPARATORS


def offered_for(operation: str, offered: Iterable[str]) -> str | None:
    """The agent's name for ``operation`` among the offered tools, or None."""
    fits = [n for n in offered if is_operation(n, operation)]
    return min(fits, key=len) if fits else None


def operation_for(offered: str, operations: Iterable[str]) -> str | None:
    """The world operation an offered name stands for (the longest that fits), or None."""
    fits = [op for op in operations if is_operation(offered, op)]
    return max(fits, key=len) if fits else None
