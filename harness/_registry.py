"""A registry keyed by the YAML name: one small class per behaviour, check or fault."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


def did_you_mean(word: str, choices: list[str]) -> str:
    """``" (did you mean 'x'?)"`` when a choice is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def where(item: object) -> str:
    """``module.Class``: where a registered class was defined."""
    return f"{getattr(item, '__module__', '?')}.{getattr(item, '__qualname__', item)}"


class Registry(Generic[T]):
    """Maps a YAML key to the class that implements it. Registering a key twice is an error."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, key: str, item: T) -> None:
        """Add ``item`` under ``key``. Another definition of the same key is an error naming
        both; the same class defined again (a module imported anew) replaces itself."""
        old = self._items.get(key)
        if old is not None and where(old) != where(item):
            raise ValueError(f"{self.kind} {key!r} is registered twice: by {where(old)} and by "
                             f"{where(item)}; give one of them another key")
        self._items[key] = item

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def names(self) -> list[str]:
        return sorted(self._items)

    def unknown_message(self, key: str) -> str:
        names = self.names()
        return (
            f"unknown {self.kind} {key!r}{did_you_mean(key, names)};"
            f" valid {self.kind}s: {', '.join(names)}"
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
