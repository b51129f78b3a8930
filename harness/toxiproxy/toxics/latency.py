from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from . import Forward, Toxic

if TYPE_CHECKING:
    from ..proxy import Link


class Latency(Toxic):
    """Delays each chunk by ``latency`` ms, ± ``jitter`` ms (seeded per link)."""

    type = "latency"
    latency: int = Field(0, ge=0)
    jitter: int = Field(0, ge=0)

    async def handle(self, data: bytes, forward: Forward, link: Link) -> None:
        name = link.current_toxic
        delay = self.latency
        if self.jitter:
            delay += link.rng.randint(-self.jitter, self.jitter)
        if delay > 0:
            # Counted from when the chunk arrived, as Toxiproxy does, not from now. Removing
            # the toxic lets the held chunk go at once.
            await link.pause(name, link.arrived + delay / 1000)
        await forward(data)
