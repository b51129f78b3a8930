"""Rate limits the way providers enforce them: a model with a quota of requests and tokens per
minute (``llm: {quota: {requests_per_minute, tokens_per_minute}}``).

Each limit is a token bucket that holds a minute's worth and refills continuously, as OpenAI's
and Anthropic's limits do: a burst up to the limit passes, then requests pass at the refill
rate. A request over the limit gets the API's 429 (it plays no turn of the script); every
answer carries the provider's rate-limit headers, so an agent can pace itself by them:

- OpenAI (Chat Completions, Responses, embeddings): ``x-ratelimit-limit-requests``,
  ``x-ratelimit-remaining-requests``, ``x-ratelimit-reset-requests`` (``1s``, ``6m0s``) and the
  same for ``tokens``;
- Anthropic: ``anthropic-ratelimit-requests-limit`` / ``-remaining`` / ``-reset`` (an RFC 3339
  time) and the same for ``tokens``;
- every API: ``retry-after`` (whole seconds) on a 429.

A request costs one request and its prompt tokens. Unlike the scripted ``error: 429``, a quota
depends on how fast the agent asks: runs are reproducible in their verdicts when an agent either
paces itself or clearly does not, not in the exact count of 429s.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field


class QuotaDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    requests_per_minute: int | None = Field(None, ge=1, le=1_000_000)
    tokens_per_minute: int | None = Field(None, ge=1, le=1_000_000_000)


@dataclass
class Bucket:
    limit: int
    level: float
    at: float

    @property
    def rate(self) -> float:  # per second
        return self.limit / 60.0

    def refill(self, now: float) -> None:
        self.level = min(float(self.limit), self.level + (now - self.at) * self.rate)
        self.at = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is available (0 when it is)."""
        return max(0.0, (min(amount, self.limit) - self.level) / self.rate)

    def reset_in(self) -> float:
        """Seconds until the bucket is full again."""
        return (self.limit - self.level) / self.rate


@dataclass
class Decision:
    allowed: bool
    which: str | None  # "requests" or "tokens" when refused
    retry_after: int
    state: dict[str, tuple[int, int, float]]  # kind → (limit, remaining, reset seconds)


class Quota:
    def __init__(self, doc: QuotaDoc, clock: object = time.monotonic) -> None:
        self._clock = clock
        now = self._now()
        self.buckets = {kind: Bucket(limit, float(limit), now) for kind, limit in
                        (("requests", doc.requests_per_minute),
                         ("tokens", doc.tokens_per_minute)) if limit is not None}
        self._lock = threading.Lock()

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    def take(self, tokens: int) -> Decision:
        cost = {"requests": 1.0, "tokens": float(tokens)}
        with self._lock:
            now = self._now()
            for bucket in self.buckets.values():
                bucket.refill(now)
            short = [(b.wait_for(cost[k]), k) for k, b in self.buckets.items()
                     if b.level < min(cost[k], b.limit)]
            if not short:
                for kind, bucket in self.buckets.items():
                    bucket.level -= min(cost[kind], bucket.limit)
            state = {k: (b.limit, max(0, math.floor(b.level)), b.reset_in())
                     for k, b in self.buckets.items()}
        if short:
            wait, which = max(short)
            return Decision(False, which, max(1, math.ceil(wait)), state)
        return Decision(True, None, 0, state)


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``1s``, ``1.5s``, ``6m0s``."""
    if seconds < 60:
        text = f"{seconds:.3f}".rstrip("0").rstrip(".")
        return f"{text or '0'}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


def openai_headers(state: dict[str, tuple[int, int, float]]) -> dict[str, str]:
    out = {}
    for kind, (limit, remaining, reset) in state.items():
        out[f"x-ratelimit-limit-{kind}"] = str(limit)
        out[f"x-ratelimit-remaining-{kind}"] = str(remaining)
        out[f"x-ratelimit-reset-{kind}"] = duration(reset)
    return out


def anthropic_headers(state: dict[str, tuple[int, int, float]]) -> dict[str, str]:
    out = {}
    now = datetime.now(UTC)
    for kind, (limit, remaining, reset) in state.items():
        at = (now + timedelta(seconds=reset)).replace(microsecond=0)
        out[f"anthropic-ratelimit-{kind}-limit"] = str(limit)
        out[f"anthropic-ratelimit-{kind}-remaining"] = str(remaining)
        out[f"anthropic-ratelimit-{kind}-reset"] = at.isoformat().replace("+00:00", "Z")
    return out
