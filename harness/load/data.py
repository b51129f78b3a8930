"""What a load run leaves to judge: the user requests as Locust's users sent them, Locust's
stats, the conversations the mock model told apart, and, step by step, how the agent held
up."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .conversations import Conversation
    from .locust_run import LocustResult
    from .spec import LoadDoc, LoadTask


@dataclass
class UserRequest:
    """One task a Locust user sent the agent service: its ticket, when it started and ended on
    the run's clock, the status (504: no answer within the time limit; 0: no answer at all),
    the answer, and, when the answer was streamed, when its first byte came and in how many
    pieces."""

    ticket: str | None
    start: float
    end: float | None = None
    status: int = 0
    answer: str | None = None
    error: str | None = None
    first_byte: float | None = None
    chunks: int = 0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def latency(self) -> float | None:
        return None if self.end is None else self.end - self.start

    @property
    def ttfb(self) -> float | None:
        return None if self.first_byte is None else self.first_byte - self.start

    def to_json(self) -> dict[str, Any]:
        return {"ticket": self.ticket, "status": self.status, "answer": self.answer,
                "error": self.error}


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Step:
    """One step of a ramp (a run without a ramp is one step)."""

    index: int
    users: int
    start: float
    end: float
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    p95: float | None = None
    goal_share: float | None = None
    breaches: list[str] = field(default_factory=list)
    #: The load generator's CPU: mean cores busy during the step (None: not measured).
    generator_cpu: float | None = None
    generator_limited: bool = False

    @property
    def failure_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "users": self.users, "start": round(self.start, 2),
                "end": round(self.end, 2), "requests": self.requests,
                "failures": self.failures, "failure_rate": round(self.failure_rate, 4),
                "rps": round(self.rps, 2),
                "p95_s": None if self.p95 is None else round(self.p95, 3),
                "goal_share": None if self.goal_share is None else round(self.goal_share, 4),
                "breaches": self.breaches, "generator_cpu": self.generator_cpu,
                "generator_limited": self.generator_limited}


@dataclass
class LoadData:
    doc: LoadDoc
    tasks: dict[str, LoadTask]
    requests: list[UserRequest]
    conversations: dict[str, Conversation]
    locust: LocustResult
    started: float  # when Locust started, on the trace's clock
    ended: float
    steps: list[Step] = field(default_factory=list)
    #: Per ticket: whether its request met the goal.
    goal_met: dict[str, bool] = field(default_factory=dict)
    knee: dict[str, Any] | None = None
    #: The steady state of a faulted load run: tool calls per user request without faults.
    baseline_calls_per_request: float | None = None
    #: False for one step of a ramp (Locust's stats are of the whole run).
    whole: bool = True
    #: Each tool API's requests per second over the load (from ``started``), and its limit.
    tool_rates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def per_request(self) -> dict[str, Any]:
        """Per user request: time to the first byte of the answer, time per token when the
        agent streamed it, tokens per task, and the cost per resolved task at the scenario's
        prices."""
        from ..llm.tokens import count_text

        def r(x: float | None, digits: int = 3) -> float | None:
            return None if x is None else round(x, digits)

        ttfb = [q.ttfb for q in self.requests if q.ttfb is not None]
        per_token = [((q.end or 0) - (q.first_byte or 0)) / max(1, count_text(q.answer))
                     for q in self.requests if q.chunks > 1 and q.answer and q.end]
        convs = [c for t, c in self.conversations.items() if t in self.tasks]
        tokens = [float(c.tokens) for c in convs]
        out: dict[str, Any] = {
            "ttfb_p50_s": r(percentile(ttfb, 0.5)), "ttfb_p95_s": r(percentile(ttfb, 0.95)),
            "streamed": len(per_token),
            "per_token_p50_s": r(percentile(per_token, 0.5), 5),
            "tokens_p50": percentile(tokens, 0.5), "tokens_p95": percentile(tokens, 0.95),
            "tokens_total": int(sum(tokens)),
        }
        prices = self.doc.prices
        if prices is not None:
            cost = sum(c.prompt_tokens * prices.input + c.completion_tokens * prices.output
                       for c in convs) / 1e6
            resolved = sum(self.goal_met.values())
            out.update(cost_usd=round(cost, 6),
                       cost_per_resolved_task_usd=round(cost / resolved, 6) if resolved
                       else None)
        return out

    def window(self, start: float, end: float) -> list[UserRequest]:
        """The user requests that started in [start, end)."""
        return [r for r in self.requests if start <= r.start < end]

    def latencies(self, requests: list[UserRequest] | None = None) -> list[float]:
        return [r.latency for r in (self.requests if requests is None else requests)
                if r.latency is not None]

    def tokens(self) -> dict[str, int]:
        """Tokens (prompt and completion) per conversation of a sent task."""
        return {t: c.tokens for t, c in self.conversations.items() if t in self.tasks}

    def to_json(self) -> dict[str, Any]:
        failed = [r for r in self.requests if not r.ok]
        mixed = {t: sorted(c.mixed) for t, c in sorted(self.conversations.items()) if c.mixed}
        met = sum(self.goal_met.values())
        return {
            "users": self.doc.peak_users, "seconds": self.doc.seconds,
            "locust": self.locust.to_json(),
            "history": self.locust.history,
            "generator_cpu": [list(p) for p in self.locust.cpu],
            "requests": {"sent": len(self.requests), "failed": len(failed)},
            "goal": {"met": met, "of": len(self.goal_met),
                     "share": round(met / len(self.goal_met), 4) if self.goal_met else 0.0,
                     "needed": self.doc.goal_share},
            "conversations": len([t for t in self.conversations if t in self.tasks]),
            "mixed": mixed,
            "steps": [s.to_json() for s in self.steps],
            "knee": self.knee,
            "per_request": self.per_request(),
            "tool_rates": self.tool_rates,
            "started": round(self.started, 3), "ended": round(self.ended, 3),
            "samples": [{**r.to_json(), "start": round(r.start, 3),
                         "end": None if r.end is None else round(r.end, 3)}
                        for r in (failed[:5] + [r for r in self.requests if r.ok][:5])],
        }
