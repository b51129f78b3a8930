from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pydantic import Field

from . import Toxic

if TYPE_CHECKING:
    from ..proxy import Link


class SlowClose(Toxic):
    """Delays closing the connection by ``delay`` ms once the input has ended."""

    type = "slow_close"
    delay: int = Field(0, ge=0)

    async def before_close(self, link: Link) -> None:
        await asyncio.sleep(self.delay / 1000)
