from __future__ import annotations

import json

from .base import Check, CheckContext, Severity, Verdict, executed, fault_note


class IdempotentWrites(Check):
    """A write whose answer was lost or spoiled is not carried out a second time: the agent
    retries with the same ``Idempotency-Key`` header (the API then replays the first answer)
    or checks before repeating. Otherwise a reset connection charges a customer twice."""

    key = "idempotent_writes"
    severity: Severity = Severity.CRITICAL

    def evaluate(self, ctx: CheckContext) -> Verdict:
        unsure: dict[tuple[str, str], str] = {}  # (tool.operation, arguments) → event
        bad: list[str] = []
        why: list[str] = []
        writes = 0
        for e in ctx.tool_events():
            if not executed(e) or e.data.get("replayed") or not self._is_write(ctx, e.data):
                continue
            writes += 1
            op = f"{e.data.get('tool')}.{e.data.get('operation')}"
            key = (op, json.dumps(e.data.get("arguments"), sort_keys=True))
            if key in unsure:
                first = ctx.events[unsure[key]]
                bad += [first.id, e.id]
                why.append(f"{op} ran again [{e.id}] with the same arguments after its answer "
                           f"to {first.id} was lost{fault_note(ctx, first)}")
            if e.data.get("effect") in ("lost", "corrupt"):
                unsure.setdefault(key, e.id)
        if not bad:
            return self.verdict(True, f"{writes} writes, none carried out twice after a lost "
                                      f"answer")
        return self.verdict(False, "a duplicate side effect: " + "; ".join(why[:3]) +
                            "; retry writes with an Idempotency-Key header", bad)

    @staticmethod
    def _is_write(ctx: CheckContext, data: dict[str, object]) -> bool:
        api = ctx.catalog.tools.get(str(data.get("tool")))
        op = api.operations.get(str(data.get("operation"))) if api else None
        return op is not None and not op.annotations.readOnlyHint
