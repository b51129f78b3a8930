from __future__ import annotations

from ..turns import Reply, Turn, TurnContext, openai_error


def context_length_error(prompt_tokens: int, window: int) -> Reply:
    """OpenAI's answer when the prompt does not fit the model's window."""
    return openai_error(
        400,
        f"This model's maximum context length is {window} tokens. However, your messages "
        f"resulted in {prompt_tokens} tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        "context_length_exceeded",
        param="messages",
    )


class ContextOverflow(Turn):
    """The request is refused as too long (HTTP 400, ``context_length_exceeded``), whatever its
    size. For the realistic form, set ``context_window`` on the script: every request whose
    prompt exceeds it is refused, and the script does not advance."""

    key = "context_overflow"
    window: int = 8192

    def reply(self, ctx: TurnContext) -> Reply:
        return context_length_error(max(ctx.prompt_tokens, self.window + 1), self.window)
