from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from pydantic import Field

from .base import Answer, HttpFault

if TYPE_CHECKING:
    from aiohttp import web

TICK = 0.1  # seconds between writes


class SlowBody(HttpFault):
    """The call is carried out and its headers sent at once; the body then trickles out at
    ``bytes_per_second``. A per-read socket timeout never fires; only a deadline helps."""

    key = "slow_body"
    effect = "slow"
    bytes_per_second: int = Field(100, ge=1, le=100_000_000)

    async def respond(self, request: web.Request, answer: Answer,
                      closed: threading.Event) -> web.StreamResponse:
        from aiohttp import web

        body = answer.body
        response = web.StreamResponse(status=answer.status, headers=answer.headers)
        response.content_type = answer.content_type
        response.content_length = len(body)
        await response.prepare(request)
        step = max(1, int(self.bytes_per_second * TICK))
        for i in range(0, len(body), step):
            if i:
                await asyncio.sleep(TICK)
            await response.write(body[i:i + step])
        await response.write_eof()
        return response
