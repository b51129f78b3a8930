from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from pydantic import Field

from . import Forward, Toxic

if TYPE_CHECKING:
    from ..proxy import Link


class Bandwidth(Toxic):
    """Limits throughput to ``rate`` KB/s (KB = 1000 bytes), sending in 100 ms slices."""

    type = "bandwidth"
    rate: int = Field(0, ge=0)

    async def handle(self, data: bytes, forward: Forward, link: Link) -> None:
        if self.rate <= 0:
            await forward(data)
            return
        # Pace against a running schedule, so sleep overshoot does not accumulate.
        name = link.current_toxic
        state = link.state_of(self)
        now = time.monotonic()
        due = max(state.get("due", now), now)
        step = self.rate * 100  # bytes per 100 ms
        for start in range(0, len(data), step):
            piece = data[start:start + step]
            due += len(piece) / (self.rate * 1000)
            delay = due - time.monotonic()
            if delay > 0 and await link.pause(name, asyncio.get_running_loop().time() + delay):
                await forward(data[start:])  # removed: the rest goes on at once
                return
            await forward(piece)
        state["due"] = due
