from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pydantic import Field

from .base import Answer, HttpFault

if TYPE_CHECKING:
    from aiohttp import web


class EmptyBody(HttpFault):
    """The call is carried out, then answered with ``status`` and an empty body."""

    key = "empty_body"
    effect = "corrupt"
    status: int = Field(200, ge=200, le=599)

    async def respond(self, request: web.Request, answer: Answer,
                      closed: threading.Event) -> web.StreamResponse:
        return answer.response(b"", status=self.status)
