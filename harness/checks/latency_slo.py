from __future__ import annotations

from pydantic import Field, model_validator

from ..load.data import percentile
from .base import Check, CheckContext, Verdict


class LatencySlo(Check):
    """Under load, the user requests' latency percentiles (seconds, from Locust's stats) stay
    within ``p95`` and ``p99``."""

    key = "latency_slo"
    needs_load = True
    p95: float | None = Field(None, gt=0)
    p99: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _some(self) -> LatencySlo:
        if self.p95 is None and self.p99 is None:
            raise ValueError("give 'p95', 'p99' or both (seconds)")
        return self

    def evaluate(self, ctx: CheckContext) -> Verdict:
        load = ctx.load
        if load is None:
            return self.verdict(False, "no load ran")
        stats = load.locust.stats if load.whole else {}  # a step: the users' own records
        measured: dict[str, float | None] = {}
        for name, q in (("p95", 0.95), ("p99", 0.99)):
            ms = stats.get(f"{name}_ms")
            measured[name] = ms / 1000 if isinstance(ms, int | float) else \
                percentile(load.latencies(), q)
        broken = [f"{name} {measured[name]:.2f} s > {limit:g} s"
                  for name, limit in (("p95", self.p95), ("p99", self.p99))
                  if limit is not None and measured[name] is not None
                  and measured[name] > limit]  # type: ignore[operator]
        shown = ", ".join(f"{n} {v:.2f} s" for n, v in measured.items() if v is not None)
        if not any(v is not None for v in measured.values()):
            return self.verdict(False, "no user request was answered to measure")
        if not broken:
            return self.verdict(True, f"latency within the SLO: {shown}")
        slow = sorted((r for r in load.requests if r.latency is not None),
                      key=lambda r: -(r.latency or 0))[:3]
        samples = ", ".join(f"{r.ticket} {r.latency:.2f} s at {r.start:.1f} s" for r in slow)
        return self.verdict(False, f"latency over the SLO: {'; '.join(broken)} (slowest: "
                                   f"{samples})")
