"""The wire protocols the mock LLM speaks, one module each (see ``base``)."""

from __future__ import annotations

from .anthropic import Anthropic
from .base import Api
from .chat import Chat
from .embeddings import Embeddings
from .gemini import Gemini
from .responses import Responses

#: Every API served, in the order their routes are added.
APIS: list[Api] = [Chat(), Responses(), Anthropic(), Gemini(), Embeddings()]

__all__ = ["APIS", "Api"]
