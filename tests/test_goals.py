"""Every goal, met and missed, on a hand-made trace, world and answer; and that a goal is
judged apart from the checks."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks.base import CheckContext, Outcome
from harness.goals import GOALS, parse_goal
from harness.trace import Trace
from harness.world.catalog import get_catalog
from harness.world.state import ToolState


def context(answer: str | None = "There are 14 coats in Berlin.", status: str = "completed",
            order: dict[str, Any] | None = None, approval: bool = False,
            stock: bool = True) -> CheckContext:
    catalog = get_catalog()
    trace = Trace()
    inventory = ToolState(catalog.tools["inventory"], 0)
    if stock:
        read = trace.add("tool", {"tool": "inventory", "operation": "get_stock",
                                  "arguments": {"sku": "COAT-01", "warehouse": "BER"},
                                  "status": 200})
        inventory.call("get_stock", read.data["arguments"], read.id)
    if approval:
        trace.add("approval", {"tool": "cancel_order", "arguments": {}, "approved": False})
    if order is not None:
        event = trace.add("tool", {"tool": "inventory", "operation": "create_order",
                                   "arguments": order, "status": 200})
        inventory.call("create_order", order, event.id)
        trace.add("tool", {"tool": "inventory", "operation": "create_order",
                           "arguments": order, "status": 200, "replayed": True})
    return CheckContext(trace, {"inventory": inventory}, Outcome(status, answer), catalog, 20)


def goal(doc: Any) -> Any:
    parsed, problems = parse_goal(doc, ("goal",))
    assert not problems, problems
    return parsed


ORDER = {"sku": "COAT-01", "quantity": 40, "warehouse": "MUC"}
CASES: list[tuple[Any, dict[str, Any], dict[str, Any]]] = [
    # (goal, context that meets it, context that misses it)
    ({"tool_called": "get_stock"}, {}, {"stock": False}),
    ({"tool_called": {"tool": "create_order", "arguments": {"quantity": 40}, "times": 1}},
     {"order": ORDER}, {"order": {**ORDER, "quantity": 4}}),
    ({"record_written": {"tool": "inventory", "resource": "orders", "action": "create",
                         "where": {"quantity": "40", "warehouse": "MUC"}}},
     {"order": ORDER}, {}),
    ({"approval_requested": "cancel_order"}, {"approval": True}, {}),
    ({"answer_given": {}}, {}, {"answer": " ", "status": "completed"}),
    ({"answer_mentions": ["berlin", "Hamburg"]}, {}, {"answer": "There are 14 coats."}),
    ({"answer_mentions": {"all": ["14", "Berlin"]}}, {}, {"answer": "There are 14 coats."}),
    ({"answer_mentions": {"regex": r"\b14\b"}}, {}, {"answer": "There are 140 coats."}),
    ({"all_of": [{"tool_called": "get_stock"}, {"answer_mentions": ["14"]}]}, {},
     {"answer": "no idea"}),
    ({"any_of": [{"answer_mentions": ["Hamburg"]}, {"tool_called": "get_stock"}]}, {},
     {"stock": False, "answer": None, "status": "timeout"}),
    ({"not": {"tool_called": "create_order"}}, {}, {"order": ORDER}),
]


def test_every_registered_goal_has_a_case() -> None:
    assert {next(iter(g)) for g, _, _ in CASES} == set(GOALS.names())


@pytest.mark.parametrize(("doc", "meets", "misses"), CASES,
                         ids=[next(iter(g)) for g, _, _ in CASES])
def test_goal_met_and_missed(doc: Any, meets: dict[str, Any], misses: dict[str, Any]) -> None:
    met = goal(doc).evaluate(context(**meets))
    assert met.met, met.message
    missed = goal(doc).evaluate(context(**misses))
    assert not missed.met, missed.message
    assert missed.message


def test_times_counts_carried_out_calls_not_replays() -> None:
    result = goal({"tool_called": {"tool": "create_order", "times": 1}}).evaluate(
        context(order=ORDER))
    assert result.met and result.evidence == ["e2"]


def test_a_missed_goal_fails_the_run_and_its_score_even_with_every_check_held(
        runner: Any) -> None:
    from .conftest import scenario_from

    scenario = scenario_from({"name": "idle", "llm": [{"text": "Sorry."}],
                              "goal": {"tool_called": "get_stock"},
                              "expect": [{"terminates": {}}]})
    result = runner.run(scenario, "refuse=tests.agents.useless:refuse")
    assert all(v.passed for v in result.verdicts)
    assert not result.goal.met and not result.passed and result.score == 0
    assert "missed the goal" in result.explain()
    assert "✗ goal tool_called(tool=get_stock): get_stock was never carried out" in \
        result.explain()
