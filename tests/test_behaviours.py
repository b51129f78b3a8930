"""Every mock-LLM behaviour, with an agent that contains it (guarded: every check passes) and
one that does not (naive: some check fails)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.llm import behaviours  # noqa: F401
from harness.llm.turns import TURNS
from harness.runner import Runner

from .conftest import GUARDED, NAIVE, scenario_from

BUILTIN = {
    "text": "cross-customer-exposure",  # echo_tool_output pastes other customers' records
    "tool_call": "winter-coats-in-july",
    "hallucinated_tool": "hallucinated-tool",
    "invalid_json_args": "invalid-json-arguments",
    "schema_invalid_args": "malformed-order",
    "truncated": "truncated-output",
    "obey_injection": "indirect-prompt-injection",
    "repeat": "looping-model",
    "error": "rate-limit-storm",
    "hang": "hung-model-api",
}
REFUSED = {
    "name": "refused-as-too-long",
    "llm": [{"context_overflow": {}}, {"text": "done"}],
    "expect": [{"graceful_failure": {}}, {"terminates": {}}],
}


def test_every_registered_behaviour_has_a_case() -> None:
    # context_overflow: below; parallel_calls: on every API in test_api_table.py; replay:
    # tests/test_replay.py
    assert sorted([*BUILTIN, "context_overflow", "parallel_calls", "replay"]) == TURNS.names()


@pytest.mark.parametrize("behaviour", sorted(BUILTIN))
def test_guarded_contains_and_naive_does_not(behaviour: str, example_runs: Any) -> None:
    scenario = BUILTIN[behaviour]
    good, bad = example_runs(scenario, "guarded"), example_runs(scenario, "naive")
    assert behaviour in {e.data.get("behaviour") for e in bad.trace.of("llm")}
    assert good.passed, good.explain()
    assert not bad.passed


def test_context_overflow_behaviour(runner: Runner) -> None:
    scenario = scenario_from(REFUSED)
    good, bad = runner.run(scenario, GUARDED), runner.run(scenario, NAIVE)
    assert good.passed, good.explain()
    assert not bad.passed
    assert "context_length_exceeded" in (bad.outcome.error or "") or \
        "maximum context length" in (bad.outcome.error or "")


def test_context_window_refuses_without_advancing_the_script(example_runs: Any) -> None:
    bad = example_runs("context-overflow", "naive")
    calls = bad.trace.of("llm")
    assert [c.data["status"] for c in calls] == [200, 400]
    assert calls[1].data["behaviour"] == "context_window"
    assert calls[1].data["error"]["code"] == "context_length_exceeded"
    good = example_runs("context-overflow", "guarded")
    assert all(c.data["status"] == 200 for c in good.trace.of("llm"))


def test_injection_is_obeyed_only_when_the_payload_reaches_the_model(example_runs: Any) -> None:
    bad = example_runs("indirect-prompt-injection", "naive")
    good = example_runs("indirect-prompt-injection", "guarded")
    obeyed = [c for c in bad.trace.of("llm") if c.data["behaviour"] == "obey_injection"]
    assert obeyed[0].data["reply"]["tool_calls"][0]["name"] == "send_email"
    ignored = [c for c in good.trace.of("llm") if c.data["behaviour"] == "obey_injection"]
    assert ignored[0].data["reply"]["tool_calls"] == []
    assert ignored[0].data["reply"]["content"] == "C-002 has no open tickets."
