from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pydantic import Field

from . import Forward, Toxic

if TYPE_CHECKING:
    from ..proxy import Link


class Slicer(Toxic):
    """Cuts each chunk into pieces of ``average_size`` ± ``size_variation`` bytes, sent
    ``delay`` µs apart. (The real server crashes on an average size of 0; ours refuses it.)"""

    type = "slicer"
    average_size: int = Field(gt=0)
    size_variation: int = Field(0, ge=0)
    delay: int = Field(0, ge=0)

    async def handle(self, data: bytes, forward: Forward, link: Link) -> None:
        start = 0
        while start < len(data):
            size = self.average_size
            if self.size_variation:
                size += link.rng.randint(-self.size_variation, self.size_variation)
            size = max(1, size)
            if start:
                await asyncio.sleep(self.delay / 1_000_000)
            await forward(data[start:start + size])
            start += size
