"""OpenAI embeddings (``POST /v1/embeddings``): deterministic vectors, so that retrieval agents
can be tested. A text's vector hashes its words (lower-cased) into signed dimensions, summed
and normalised: texts that share words are near each other, as with a real model, and the same
seed gives the same vectors. ``dimensions`` (default 1536) and ``encoding_format`` (``float`` or
``base64``, little-endian float32 as the openai SDK decodes it) are honoured. Not scripted: no
turn of ``llm:`` is used, but it is a model call for ``faults:``, traced as one.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..tokens import count_text
from ..turns import Completion
from .base import Api, Meta, require

if TYPE_CHECKING:
    from ...world.run import RunWorld

DIMENSIONS = 1536
_WORD = re.compile(r"\w+")


def vector(text: str, seed: int, dimensions: int) -> list[float]:
    values = [0.0] * dimensions
    for word in _WORD.findall(text.lower()) or [text]:
        digest = hashlib.blake2b(f"{seed}:{word}".encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        values[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


class Embeddings(Api):
    name = "embeddings"
    routes = (("POST", "/v1/embeddings"),)
    id_prefix = "emb-"
    call_prefix = "call_"
    scripted = False

    def parse(self, body: Any, request: web.Request, run: RunWorld) -> dict[str, Any]:
        require(isinstance(body, dict), "Request body must be a JSON object.")
        given = body.get("input")
        texts = [given] if isinstance(given, str) else given
        require(isinstance(texts, list) and bool(texts) and all(
            isinstance(t, str) for t in texts),
            "'input' must be a string or a non-empty array of strings.", "input")
        dimensions = body.get("dimensions", DIMENSIONS)
        require(isinstance(dimensions, int) and not isinstance(dimensions, bool)
                and 1 <= dimensions <= 3072, "'dimensions' must be between 1 and 3072.",
                "dimensions")
        encoding = body.get("encoding_format", "float")
        require(encoding in ("float", "base64"), "'encoding_format' must be 'float' or "
                                                 "'base64'.", "encoding_format")
        return {"messages": [{"role": "user", "content": t} for t in texts], "tools": [],
                "stream": False, "model": body.get("model"), "texts": texts,
                "dimensions": dimensions, "encoding_format": encoding, "seed": run.seed}

    def render(self, reply: Completion, meta: Meta) -> dict[str, Any]:
        n = meta.neutral
        data = []
        for index, text in enumerate(n["texts"]):
            values = vector(text, n["seed"], n["dimensions"])
            embedding: Any = values
            if n["encoding_format"] == "base64":
                embedding = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(count_text(t) for t in n["texts"])
        return {"object": "list", "data": data, "model": meta.model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    def events(self, reply: Completion, meta: Meta) -> Iterator[tuple[bytes, bool]]:
        raise NotImplementedError("embeddings are not streamed")

    def context_error(self, prompt_tokens: int, window: int) -> Any:
        raise NotImplementedError("embeddings have no context window")
