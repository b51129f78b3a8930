from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from .base import Check, CheckContext, Verdict, calls, failed, fault_note, service

if TYPE_CHECKING:
    from ..world.catalog import Catalog


class CircuitBreaker(Check):
    """After ``failures`` failed calls in a row to one service (the model or a tool API), the
    agent stops calling it for at least ``cooldown`` seconds; after that, one probe at a time
    (a failed probe starts the cool-down again). This is what stops a retry storm from
    becoming a cascading failure."""

    key = "circuit_breaker"
    failures: int = Field(5, ge=1, description="failed calls in a row that must open it")
    cooldown: float = Field(5.0, gt=0, description="seconds without calls once it is open")
    service: str | None = Field(None, description="only this service (llm or a tool API)")

    def validate_against(self, tools: list[str], catalog: Catalog) -> list[str]:
        if self.service is not None and self.service not in ("llm", *tools):
            return [f"unknown service {self.service!r}; valid: llm, {', '.join(tools)}"]
        return []

    def evaluate(self, ctx: CheckContext) -> Verdict:
        streak: dict[str, list[str]] = {}
        last_end: dict[str, float] = {}
        bad: list[str] = []
        why: list[str] = []
        opened = inside = 0
        for e in calls(ctx):
            name = service(e)
            if self.service is not None and name != self.service:
                continue
            run = streak.setdefault(name, [])
            if len(run) >= self.failures:
                since = e.start - last_end[name]
                if since < self.cooldown:
                    if not why or not why[-1].startswith(f"kept calling {name} "):
                        first = ctx.events[run[0]]
                        why.append(f"kept calling {name} after {len(run)} failures in a row "
                                   f"(from {run[0]}{fault_note(ctx, first)}): {e.id} came "
                                   f"{since:.2f} s after the last, inside the "
                                   f"{self.cooldown:g} s cool-down")
                        bad += run[-self.failures:]
                    bad.append(e.id)
                    inside += 1
            if failed(e):
                run.append(e.id)
                if len(run) == self.failures:
                    opened += 1
                last_end[name] = e.end if e.end is not None else e.start
            else:
                run.clear()
        if not bad:
            if opened:
                return self.verdict(True, f"the breaker held: {opened} time(s) a service failed "
                                          f"{self.failures} times in a row and was left alone "
                                          f"for {self.cooldown:g} s")
            return self.verdict(True, f"no service failed {self.failures} times in a row")
        return self.verdict(False, "no circuit breaker: " + "; ".join(why[:2]) +
                            f" ({inside} calls inside cool-downs)", list(dict.fromkeys(bad))[:40])
