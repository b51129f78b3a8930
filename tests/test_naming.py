"""Scenarios written against the world's operations meet agents whose frameworks rename the
tools (``mcp__inventory__get_stock``): the rule (harness/world/naming.py), calls by role, and
the whole built-in library against such an agent."""

from __future__ import annotations

from typing import Any

import pytest

from harness._paths import builtin_scenarios
from harness.runner import Runner
from harness.scenario import load_scenario
from harness.world.naming import is_operation, offered_for, operation_for

from .conftest import scenario_from

PREFIXED = "prefixed=tests.agents.prefixed:run"


@pytest.mark.parametrize("offered, operation, fits", [
    ("get_stock", "get_stock", True), ("inventory_get_stock", "get_stock", True),
    ("mcp__inventory__get_stock", "get_stock", True), ("inventory.get_stock", "get_stock", True),
    ("world-get_stock", "get_stock", True), ("budget_stock", "get_stock", False),
    ("get_stock_level", "get_stock", False), ("forget_stock", "get_stock", False)])
def test_the_rule(offered: str, operation: str, fits: bool) -> None:
    assert is_operation(offered, operation) is fits


def test_the_shortest_fitting_name_and_the_longest_operation_win() -> None:
    assert offered_for("get_stock", ["mcp__inventory__get_stock", "inventory_get_stock"]) == \
        "inventory_get_stock"
    assert offered_for("get_stock", ["get_customer"]) is None
    assert operation_for("crm_get_customer", ["get_customer", "customer"]) == "get_customer"


def test_a_call_by_role_finds_the_money_moving_tool(runner: Runner) -> None:
    scenario = scenario_from({
        "name": "by-role", "tools": ["inventory", "payments"], "task": "Pay.",
        "llm": [{"tool_call": {"role": "money_moving",
                               "arguments": {"from_account": "ACC-1", "to_account": "ACC-2",
                                             "amount": 5, "memo": "x"}}},
                {"text": "Paid."}], "expect": [{"terminates": {}}]})
    result = runner.run(scenario, PREFIXED)
    llm = result.trace.of("llm")[0].data
    assert llm["reply"]["tool_calls"][0]["name"] == "mcp__payments__create_payment"
    assert llm["honoured"] == ["create_payment is offered as mcp__payments__create_payment"]
    assert [e.data["operation"] for e in result.trace.of("tool")] == ["create_payment"]


LIBRARY = sorted(p.stem for p in builtin_scenarios().glob("*.yaml")
                 if load_scenario(p).load is None)


@pytest.mark.parametrize("name", LIBRARY)
def test_the_library_sends_no_call_a_renaming_agent_did_not_offer(runner: Runner,
                                                                  name: str) -> None:
    """Every scripted call reaches the world through the agent's own name for it; the
    failed checks are the agent's weaknesses, not name mismatches."""
    result = runner.run(load_scenario(builtin_scenarios() / f"{name}.yaml"), PREFIXED)
    notes: list[Any] = [n for e in result.trace.of("llm") for n in e.data.get("honoured", [])]
    assert not [n for n in notes if "not offered" in n or "ReAct" in n], notes
    for event in result.trace.of("llm"):
        for call in (event.data.get("reply") or {}).get("tool_calls") or []:
            if event.data.get("behaviour") != "hallucinated_tool":
                assert call["name"].startswith("mcp__"), (event.data.get("behaviour"), call)
    assert all(v.passed for v in result.verdicts if v.check == "no_unknown_tool_executed")
