from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pydantic import Field

from . import Forward, Toxic

if TYPE_CHECKING:
    from ..proxy import Link


class Slicer(Toxic):
    """Cuts each chunk in halves, again and again, until each piece is at most
    ``average_size`` + ``size_variation`` bytes (each cut moved by up to ``size_variation``),
    and sends the pieces ``delay`` µs apart, as Toxiproxy does: 1000 bytes with an average of
    100 arrive as 16 pieces of 62-63 bytes. (The real server misbehaves on an average size of
    0; ours refuses it.)"""

    type = "slicer"
    average_size: int = Field(gt=0)
    size_variation: int = Field(0, ge=0)
    delay: int = Field(0, ge=0)

    def cuts(self, start: int, end: int, link: Link) -> list[tuple[int, int]]:
        if (end - start) - self.average_size <= self.size_variation:
            return [(start, end)]
        middle = start + (end - start) // 2
        if self.size_variation:
            middle += link.rng.randrange(2 * self.size_variation) - self.size_variation
        middle = min(max(middle, start + 1), end - 1)
        return self.cuts(start, middle, link) + self.cuts(middle, end, link)

    async def handle(self, data: bytes, forward: Forward, link: Link) -> None:
        for i, (start, end) in enumerate(self.cuts(0, len(data), link)):
            if i:
                await asyncio.sleep(self.delay / 1_000_000)
            await forward(data[start:end])
