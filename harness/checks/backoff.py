from __future__ import annotations

from pydantic import Field

from .base import Check, CheckContext, Verdict, calls, endpoint, failed, fault_note


class Backoff(Check):
    """Retries back off: after a failure the agent waits at least ``min_delay`` seconds before
    calling the same endpoint again, and each further retry in a row waits at least ``growth``
    times longer than the one before. Waits the server set with Retry-After are left to
    ``honors_retry_after`` (and start the growth afresh)."""

    key = "backoff"
    min_delay: float = Field(0.1, ge=0, description="seconds the first retry waits at least")
    growth: float = Field(1.25, ge=1, description="each wait over the one before, at least")

    def evaluate(self, ctx: CheckContext) -> Verdict:
        failure: dict[str, tuple[str, float, bool]] = {}  # endpoint → (event, end, dictated)
        last_wait: dict[str, float | None] = {}
        bad: list[str] = []
        why: list[str] = []  # the first few, spelled out
        unbacked = retries = 0
        for e in calls(ctx):
            key = endpoint(e)
            wait: float | None = None
            if key in failure:
                source, ended, dictated = failure[key]
                if not dictated:
                    retries += 1
                    wait = e.start - ended
                    before = last_wait.get(key)
                    need = self.min_delay if before is None else \
                        max(self.min_delay, before * self.growth)
                    if wait < need:
                        bad += [source, e.id]
                        unbacked += 1
                    if wait < need and len(why) < 3:
                        after = "" if before is None else f", after a wait of {before:.2f} s"
                        why.append(f"retried {key} [{e.id}] {wait:.2f} s after the failure "
                                   f"[{source}]{fault_note(ctx, ctx.events[source])}{after} "
                                   f"(needed ≥ {need:.2f} s)")
            if failed(e) and e.end is not None:
                failure[key] = (e.id, e.end, e.data.get("retry_after") is not None)
                last_wait[key] = wait
            else:
                failure.pop(key, None)
                last_wait.pop(key, None)
        if not bad:
            return self.verdict(True, f"{retries} retries after failures, each backed off "
                                      f"(≥ {self.min_delay:g} s, then {self.growth:g} times the "
                                      f"wait before)")
        return self.verdict(False, f"{unbacked} retries without backoff: " + "; ".join(why),
                            list(dict.fromkeys(bad)))
