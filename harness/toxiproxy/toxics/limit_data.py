from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from . import Forward, Toxic

if TYPE_CHECKING:
    from ..proxy import Link


class LimitData(Toxic):
    """Closes the connection once ``bytes`` bytes have passed in this direction (0: no limit)."""

    type = "limit_data"
    limit: int = Field(0, ge=0, alias="bytes")

    async def handle(self, data: bytes, forward: Forward, link: Link) -> None:
        if self.limit <= 0:
            await forward(data)
            return
        state = link.state_of(self)
        sent = state.get("sent", 0)
        room = self.limit - sent
        if room > 0:
            piece = data[:room]
            state["sent"] = sent + len(piece)
            await forward(piece)
        if state.get("sent", 0) >= self.limit:
            link.connection.close()
