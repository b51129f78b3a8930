"""Where the built-in scenarios and mocks live: inside the wheel, or in the source tree."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """``scenarios`` or ``mocks``: the copy shipped in the wheel, else the repository's."""
    shipped = _PACKAGE / "_data" / name
    return shipped if shipped.is_dir() else _PACKAGE.parent / name


def builtin_scenarios() -> Path:
    return data_dir("scenarios")


def builtin_mocks() -> Path:
    return data_dir("mocks")
