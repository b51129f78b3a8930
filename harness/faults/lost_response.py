from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..servers import drop_connection
from .base import Answer, HttpFault

if TYPE_CHECKING:
    from aiohttp import web


class LostResponse(HttpFault):
    """The call is carried out (a write is committed), then the connection is closed before
    any answer: the agent cannot tell whether it happened. Retrying blindly does it twice."""

    key = "lost_response"
    effect = "lost"

    async def respond(self, request: web.Request, answer: Answer,
                      closed: threading.Event) -> web.StreamResponse:
        return drop_connection(request)
