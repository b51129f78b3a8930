from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from ..llm.behaviours.error import OPENAI_ERRORS
from ..llm.turns import openai_error
from .base import Answer, HttpFault

_REASONS = {408: "Request Timeout", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class HttpError(HttpFault):
    """The service answers with an HTTP error instead of doing the call; 429 and 503 usually
    carry ``Retry-After`` (seconds). On ``llm`` the body has OpenAI's error shape."""

    key = "http_error"
    effect = "error"
    commits = False
    status: Literal[408, 429, 500, 502, 503, 504]
    retry_after: float | None = Field(None, ge=0, le=3600)
    message: str | None = None

    def refusal(self, llm: bool) -> Answer | None:
        headers = {}
        if self.retry_after is not None:
            value = self.retry_after
            headers["Retry-After"] = str(int(value)) if value == int(value) else str(value)
        if llm:
            type_, code, default = OPENAI_ERRORS[self.status]
            body = openai_error(self.status, self.message or default, type_, code).body
        else:
            body = {"error": self.message or f"{_REASONS[self.status]}: try again later"}
        return Answer(self.status, [json.dumps(body).encode()], headers=headers)
