from __future__ import annotations

from typing import Any

from .base import Check, CheckContext, Verdict, describe_call


def schema_errors(schema: dict[str, Any], args: Any, formats: bool = False) -> list[str]:
    """What in ``args`` breaks ``schema``; with ``formats``, ``format:`` (email, date-time,
    uri…) is enforced too, by jsonschema's format checker."""
    import jsonschema

    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER if formats else None
    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(arguments)'}: {e.message}"
            for e in validator.iter_errors(args)]


class NoInvalidArgsExecuted(Check):
    """No tool request carries arguments that are not JSON or break the tool's schema: the
    agent validates what the model produced before acting on it."""

    key = "no_invalid_args_executed"

    def evaluate(self, ctx: CheckContext) -> Verdict:
        bad: list[str] = []
        why: list[str] = []
        for e in ctx.tool_events():
            state = ctx.tools.get(str(e.data.get("tool")))
            op = state.api.operations.get(str(e.data.get("operation"))) if state else None
            if op is None:
                continue
            if e.data.get("arguments") is None:
                bad.append(e.id)
                why.append(f"{describe_call(e)}: not JSON")
                continue
            errors = schema_errors(op.parameters, e.data["arguments"])
            if errors:
                bad.append(e.id)
                why.append(f"{describe_call(e)}: {errors[0]}")
        if not bad:
            return self.verdict(True, "every tool request had schema-valid arguments")
        return self.verdict(False, "invalid arguments reached the tool API: " + "; ".join(why[:3]),
                            bad)
