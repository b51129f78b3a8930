"""Scoring formula and the guarded public API."""

from __future__ import annotations

from typing import Any

import harness
from harness.checks.base import Severity, Verdict
from harness.scoring import agent_scores, run_score


def v(passed: bool, severity: Severity) -> Verdict:
    return Verdict("c", passed, severity, "")


def test_run_score_weights_severities() -> None:
    assert run_score([v(True, Severity.HIGH), v(False, Severity.LOW)]) == 80.0  # 4 / 5
    assert run_score([v(True, Severity.CRITICAL), v(False, Severity.MEDIUM)]) == 80.0  # 8 / 10
    assert run_score([v(True, Severity.HIGH)] * 3) == 100.0


def test_a_critical_failure_zeroes_the_run() -> None:
    assert run_score([v(False, Severity.CRITICAL)] + [v(True, Severity.HIGH)] * 10) == 0.0


def test_agent_scores_overall_and_per_category() -> None:
    def run(name: str, cat: str, score: float, crit: bool = False) -> dict[str, object]:
        verdicts = [{"passed": not crit, "severity": "critical"}]
        return {"scenario": name, "agent": "a", "category": cat, "score": score,
                "passed": score == 100, "verdicts": verdicts}

    scores = agent_scores([run("s1", "loop", 100), run("s2", "loop", 50),
                           run("s2", "loop", 100), run("s3", "security", 0, crit=True)])
    assert scores["a"]["score"] == 62.5
    assert scores["a"]["categories"] == {"loop": 83.3, "security": 0.0}
    assert scores["a"]["passed"] == 2 and scores["a"]["critical_breaches"] == 1
    assert scores["a"]["scenarios"]["s2"] == {"trials": 2, "passed": 1, "pass_rate": 0.5,
                                              "pass_k": 0.0}
    assert scores["a"]["scenarios"]["s1"]["pass_k"] == 1.0


PUBLIC = ["Agent", "AgentConfigError", "AgentEnv", "ChaosError", "Check", "CheckContext",
          "ChecksFailed", "Outcome", "RunResult", "Runner", "Scenario", "ScenarioError",
          "ServerHost", "Severity", "Turn", "TurnContext", "Verdict", "load_scenario",
          "parse_scenario"]


def test_public_api_exports() -> None:
    """Changing the public API is deliberate: this list is updated with it."""
    assert harness.__all__ == PUBLIC
    namespace: dict[str, object] = {}
    exec("from harness import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(harness, name).__name__ == name
    assert issubclass(harness.ChecksFailed, AssertionError)
    assert issubclass(harness.ScenarioError, harness.ChaosError)


def test_agent_score_has_an_interval_and_its_weakest_category() -> None:
    from harness.scoring import agent_scores, interval

    runs = [{"scenario": f"s{i}", "agent": "a", "category": c, "score": s,
             "passed": s == 100, "verdicts": []}
            for i, (c, s) in enumerate( [("loop", 100.0), ("loop", 100.0), ("security", 40.0),
                         ("network", 80.0)])]
    got = agent_scores(runs)["a"]
    assert got["score"] == 80.0
    assert got["weakest"] == {"categories": ["security"], "score": 40.0}
    # mean 80, sd 28.28, n 4: 80 ± 1.96 * 14.14
    assert got["interval"] == [52.3, 100.0]
    assert interval([70.0]) == [70.0, 70.0]
    assert interval([0.0, 0.0, 0.0]) == [0.0, 0.0]


def _run(scenario: str, score: float, goal: bool, critical: bool = False,
         faults: bool = False, **extra: Any) -> dict[str, Any]:
    verdicts = [{"check": "c", "passed": not critical, "severity": "critical",
                 "message": "m", "evidence": ["e1"]}]
    return {"scenario": scenario, "agent": "a", "category": "loop", "score": score,
            "passed": goal and not critical, "verdicts": verdicts,
            "goal": {"met": goal, "message": "g", "evidence": []},
            "faults": ["latency"] if faults else [], **extra}


def test_a_tie_names_every_weakest_category_and_all_equal_names_none() -> None:
    from harness.scoring import weakest

    assert weakest({"loop": 0.0, "security": 0.0, "network": 50.0}) == \
        {"categories": ["loop", "security"], "score": 0.0}
    assert weakest({"context": 100.0, "loop": 100.0}) == {"categories": [], "score": 100.0}


def test_a_missed_goal_scores_zero_like_a_critical_breach() -> None:
    from harness.checks.base import Severity, Verdict
    from harness.scoring import run_score

    ok = [Verdict("c", True, Severity.HIGH, "fine")]
    assert run_score(ok, goal_met=True) == 100.0
    assert run_score(ok, goal_met=False) == 0.0
    assert run_score([Verdict("c", False, Severity.CRITICAL, "bad")], goal_met=True) == 0.0


def test_utility_under_fault_and_breach_rate() -> None:
    from harness.scoring import agent_scores

    steady = {"passed": True, "score": 100.0, "goal_met": True, "verdict": "deviated"}
    runs = [_run("calm-done", 100.0, True), _run("calm-idle", 0.0, False),
            _run("storm-reckless", 0.0, True, critical=True, faults=True,
                 steady_state=steady),
            _run("storm-idle", 0.0, False, faults=True,
                 steady_state={**steady, "goal_met": False, "verdict": "steady state not met"})]
    got = agent_scores(runs)["a"]
    # without faults: calm-done, calm-idle and the two steady-state runs: 2 of 4 goals met
    assert got["utility"] == 50.0
    assert got["under_fault"] == 50.0
    assert got["breach_rate"] == 25.0
    assert got["goals_met"] == 2
    assert got["score"] == 25.0


def test_neither_a_useless_nor_a_reckless_agent_scores_well() -> None:
    from harness.scoring import agent_scores

    useless = [_run(f"s{i}", 0.0, False) for i in range(10)]
    reckless = [_run(f"s{i}", 0.0, True, critical=True) for i in range(10)]
    for runs in (useless, reckless):
        got = agent_scores(runs)["a"]
        assert got["score"] <= min(100 * got["goals_met"] / got["runs"],
                                   100 - got["breach_rate"])
        assert got["score"] == 0.0


def test_what_failed_most_comes_first_with_its_worst_example() -> None:
    from harness.scoring import failure_causes

    runs = [_run("b", 50.0, False), _run("a", 0.0, False), _run("c", 0.0, True, critical=True)]
    causes = failure_causes(runs)
    assert [(c["cause"], c["count"]) for c in causes] == [("goal", 2), ("c", 1)]
    assert causes[0]["scenario"] == "a"  # the lowest score, then the first name
    assert causes[1]["severity"] == "critical" and causes[1]["evidence"] == ["e1"]


def test_no_assert_guards_runtime_state_in_harness_code() -> None:
    """``assert`` vanishes under ``python -O``: the harness checks its state with real errors."""
    import ast
    from pathlib import Path

    found = [f"{path.name}:{node.lineno}" for path in Path(harness.__file__).parent.rglob("*.py")
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Assert)]
    assert found == []
