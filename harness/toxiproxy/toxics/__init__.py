"""Toxics: one file each, registered by their Toxiproxy type name.

A toxic sits in the chain of one direction of a connection. ``handle(data, forward, link)``
gets each chunk and calls ``await forward(piece)`` for what it passes on (any number of times,
with any delay); dropping is not calling it. ``attach``/``detach`` run when the toxic starts or
stops applying to a live link; ``before_close`` runs when the link's input ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..._registry import Registry

if TYPE_CHECKING:
    from ..proxy import Link

Forward = Callable[[bytes], Awaitable[None]]


TOXICS: Registry[type[Toxic]] = Registry("toxic type")


class Toxic(BaseModel):
    """The attributes of a toxic type (JSON ``attributes``); subclasses add fields."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)  # like Go's decoding
    type: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type" in cls.__dict__:
            TOXICS.register(cls.type, cls)

    async def handle(self, data: bytes, forward: Forward, link: Link) -> None:
        await forward(data)

    def attach(self, link: Link, name: str) -> None:
        """The toxic starts applying to ``link``."""

    def detach(self, link: Link, name: str) -> None:
        """The toxic stops applying to ``link`` (removed, or the link ends)."""

    async def before_close(self, link: Link) -> None:
        """The link's input ended; runs before its output is closed."""


from . import (  # noqa: E402 - the registry must exist before the toxics register
    bandwidth,
    latency,
    limit_data,
    noop,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)

__all__ = ["TOXICS", "Forward", "Toxic", "bandwidth", "latency", "limit_data", "noop",
           "reset_peer", "slicer", "slow_close", "timeout"]
