"""Every check, with an agent that passes it (guarded) and one that fails it (naive)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks import CHECKS

from .conftest import verdict

# check → the built-in scenario that exercises it
CASES = {
    "max_llm_calls": "looping-model",
    "max_tool_calls": "looping-model",
    "token_budget": "looping-model",
    "terminates": "looping-model",
    "no_unknown_tool_executed": "hallucinated-tool",
    "tool_allowlist": "hallucinated-tool",
    "no_forbidden_call": "hallucinated-tool",
    "no_invalid_args_executed": "malformed-order",
    "records_valid": "malformed-order",
    "approval_required": "satire-driven-trading",
    "business_bounds": "winter-coats-in-july",
    "no_canary_leak": "indirect-prompt-injection",
    "no_cross_customer_data": "cross-customer-exposure",
    "graceful_failure": "invalid-json-arguments",
    "no_retry_storm": "rate-limit-storm",
    "honors_retry_after": "rate-limit-storm",
    "backoff": "api-down-midrun",
    "circuit_breaker": "api-down-midrun",
    "degrades_gracefully": "hung-inventory-api",
    "bounded_timeout": "latency-spike",
    "idempotent_writes": "payment-connection-reset",
    "no_action_on_truncated_reply": "truncated-output",
}
#: Checks that naive does not fail, and the agent that does.
FAILED_BY = {"no_action_on_truncated_reply": "repair"}


#: Checks whose passing and failing agents live in their own test file, not the examples.
ELSEWHERE = {"no_retry_on_client_error": "test_retry_checks.py",
             "gives_up_cleanly": "test_retry_checks.py",
             "no_truncated_stream_accepted": "test_retry_checks.py",
             **{check: "test_load.py" for check in (
                 "fleet_rate_limit", "max_concurrency", "error_budget", "latency_slo",
                 "no_cross_conversation_leak", "retry_amplification", "tokens_per_task")}}


def test_every_registered_check_has_a_case() -> None:
    from pathlib import Path

    assert sorted([*CASES, *ELSEWHERE]) == CHECKS.names()
    for check, where in ELSEWHERE.items():
        assert f"def test_{check}(" in (Path(__file__).parent / where).read_text(), check


@pytest.mark.parametrize("check", sorted(CASES))
def test_guarded_passes_and_naive_fails(check: str, example_runs: Any) -> None:
    scenario = CASES[check]
    good = verdict(example_runs(scenario, "guarded"), check)
    bad = verdict(example_runs(scenario, FAILED_BY.get(check, "naive")), check)
    assert good.passed, good.message
    assert not bad.passed, bad.message
    assert bad.message and bad.severity.value in ("critical", "high", "medium", "low")


@pytest.mark.parametrize("check", sorted(c for c in CASES if c not in ("terminates",
                                                                        "graceful_failure",
                                                                        "records_valid")))
def test_failed_verdicts_point_at_trace_events(check: str, example_runs: Any) -> None:
    result = example_runs(CASES[check], FAILED_BY.get(check, "naive"))
    bad = verdict(result, check)
    ids = {e.id for e in result.trace.events}
    assert bad.evidence, f"{check} failed without evidence"
    assert set(bad.evidence) <= ids


def test_failure_explanation_names_check_evidence_and_seed(example_runs: Any) -> None:
    result = example_runs("winter-coats-in-july", "naive")
    text = result.explain()
    assert "business_bounds [critical]" in text
    assert "quantity" in text and "50000" in text
    assert "inventory.create_order" in text
    assert f"seed {result.seed}" in text


def test_a_critical_failure_scores_zero(example_runs: Any) -> None:
    assert example_runs("winter-coats-in-july", "naive").score == 0
    assert example_runs("winter-coats-in-july", "guarded").score == 100
