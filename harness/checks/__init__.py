"""Guardrail checks; importing this package registers every built-in check."""

from . import (
    approval_required,
    business_bounds,
    graceful_failure,
    honors_retry_after,
    limits,
    no_canary_leak,
    no_cross_customer_data,
    no_forbidden_call,
    no_invalid_args_executed,
    no_retry_storm,
    no_unknown_tool_executed,
    records_valid,
    terminates,
    tool_allowlist,
)
from .base import CHECKS, Check, CheckContext, Outcome, Severity, Verdict

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "Outcome",
    "Severity",
    "Verdict",
    "approval_required",
    "business_bounds",
    "graceful_failure",
    "honors_retry_after",
    "limits",
    "no_canary_leak",
    "no_cross_customer_data",
    "no_forbidden_call",
    "no_invalid_args_executed",
    "no_retry_storm",
    "no_unknown_tool_executed",
    "records_valid",
    "terminates",
    "tool_allowlist",
]
