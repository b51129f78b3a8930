from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..turns import Reply, Turn, TurnContext, openai_error

OPENAI_ERRORS = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("authentication_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to sample from this model."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    408: ("timeout", None, "Request timed out."),
    409: ("conflict", None, "Conflict."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
    504: ("server_error", None, "Gateway timeout."),
    529: ("server_error", "overloaded", "The model is overloaded. Please try again later."),
}


class Error(Turn):
    """The API answers with an error, in the shape of the API the agent uses; 429 and 503 can
    carry ``Retry-After`` (seconds). 529 is Anthropic's "overloaded". Use ``times`` for a
    storm: ``error: {status: 429, retry_after: 1, times: 5}``."""

    key = "error"
    shorthand = "status"
    status: Literal[400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504, 529]
    retry_after: float | None = Field(None, ge=0, le=3600)
    message: str | None = None

    def reply(self, ctx: TurnContext) -> Reply:
        type_, code, default = OPENAI_ERRORS[self.status]
        headers = {}
        if self.retry_after is not None:
            value = self.retry_after
            headers["retry-after"] = str(int(value)) if value == int(value) else str(value)
        return openai_error(self.status, self.message or default, type_, code, headers=headers)
