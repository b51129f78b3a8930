from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .base import Answer, HttpFault

if TYPE_CHECKING:
    from aiohttp import web


class MalformedJson(HttpFault):
    """The call is carried out, then its answer arrives complete but as broken JSON: the
    document cut in half (a stream: half its events, then a broken one)."""

    key = "malformed_json"
    effect = "corrupt"

    async def respond(self, request: web.Request, answer: Answer,
                      closed: threading.Event) -> web.StreamResponse:
        if answer.streamed:
            half = answer.chunks[:len(answer.chunks) // 2]
            return answer.response(b"".join(half) + b'data: {"id": "chatcmpl-\n\n')
        body = answer.body
        return answer.response(body[:max(1, len(body) // 2)])
