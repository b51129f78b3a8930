from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pydantic import Field

from . import Forward, Toxic

if TYPE_CHECKING:
    from ..proxy import Link


class ResetPeer(Toxic):
    """On the first data, waits ``timeout`` ms, then resets the connection (TCP RST): the peer
    sees ECONNRESET. The data is not delivered."""

    type = "reset_peer"
    timeout: int = Field(0, ge=0)

    async def handle(self, data: bytes, forward: Forward, link: Link) -> None:
        state = link.state_of(self)
        if state.get("armed"):
            return
        state["armed"] = True
        await asyncio.sleep(self.timeout / 1000)
        link.connection.reset(link.direction)
