"""Every random choice derives from one seed: sub-seeds are hashes of the seed and a purpose."""

from __future__ import annotations

import hashlib


def derive(seed: int, *parts: object) -> int:
    """A stable sub-seed for ``parts`` (the same on every machine and Python version)."""
    text = ":".join(str(p) for p in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def token(seed: int, *parts: object, length: int = 24) -> str:
    """A stable hex token for ids (completion ids, tool-call ids)."""
    text = ":".join(str(p) for p in (seed, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:length]
