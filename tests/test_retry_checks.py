"""The checks on retries and streams, each with an agent that passes and one that fails:
no_retry_on_client_error, gives_up_cleanly, no_truncated_stream_accepted."""

from __future__ import annotations

from typing import Any

import pytest

from harness.runner import Runner

from .conftest import scenario_from

AGENTS = "tests.agents.retries"


def verdict(runner: Runner, doc: dict[str, Any], agent: str, check: str) -> Any:
    result = runner.run(scenario_from({"llm": [{"repeat": {"text": "ok"}}], **doc}),
                        f"{agent}={AGENTS}:{agent}")
    (found,) = [v for v in result.verdicts if v.check == check]
    return found


@pytest.mark.parametrize(("agent", "passes"), [("fixes_client_errors", True),
                                               ("resends_client_errors", False)])
def test_no_retry_on_client_error(runner: Runner, agent: str, passes: bool) -> None:
    found = verdict(runner, {"name": "client-error",
                             "expect": [{"no_retry_on_client_error": {}}]},
                    agent, "no_retry_on_client_error")
    assert found.passed is passes, found.message
    if not passes:
        assert "refused as client errors were sent again unchanged" in found.message
        assert "inventory.get_stock({'sku': 'COAT-99', 'warehouse': 'BER'})" in found.message
        assert len(found.evidence) == 4  # two resends, each with the request it repeats


@pytest.mark.parametrize(("agent", "passes"), [("gives_up", True), ("retries_forever", False)])
def test_gives_up_cleanly(runner: Runner, agent: str, passes: bool) -> None:
    found = verdict(runner, {"name": "down", "timeout": 3,
                             "faults": [{"http_error": {"target": "inventory", "status": 503}}],
                             "expect": [{"gives_up_cleanly": {"max_attempts": 4}}]},
                    agent, "gives_up_cleanly")
    assert found.passed is passes, found.message
    if not passes:
        assert found.message.startswith("inventory.get_stock kept failing and the agent called "
                                        "it ")


@pytest.mark.parametrize(("agent", "passes"), [("checks_the_stream_ends", True),
                                               ("accepts_cut_stream", False)])
def test_no_truncated_stream_accepted(runner: Runner, agent: str, passes: bool) -> None:
    text = "Berlin has fourteen winter coats in stock today, and more are on the way."
    found = verdict(runner, {"name": "cut", "llm": [{"repeat": {"text": text}}],
                             "faults": [{"limit_data": {"target": "llm", "bytes": 900,
                                                        "when": {"call": 1}}}],
                             "expect": [{"no_truncated_stream_accepted": {}}]},
                    agent, "no_truncated_stream_accepted")
    assert found.passed is passes, found.message
    if not passes:
        assert "was cut, and the agent gave the cut text as its answer" in found.message
