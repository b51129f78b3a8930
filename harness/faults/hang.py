from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pydantic import Field

from ..servers import drop_connection, wait_closed
from .base import Answer, HttpFault

if TYPE_CHECKING:
    from aiohttp import web


class Hang(HttpFault):
    """The service takes the request and never answers: for ``seconds`` (then it drops the
    connection), or until the run ends. Unlike the ``timeout`` toxic it can hit one call, and
    the call is not carried out."""

    key = "hang"
    effect = "lost"
    commits = False
    seconds: float | None = Field(None, gt=0, le=3600)

    def refusal(self, llm: bool) -> Answer | None:
        return None

    async def respond(self, request: web.Request, answer: Answer,
                      closed: threading.Event) -> web.StreamResponse:
        await wait_closed(closed, self.seconds)
        return drop_connection(request)
