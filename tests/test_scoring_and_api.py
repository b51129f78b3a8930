"""Scoring formula and the guarded public API."""

from __future__ import annotations

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
    assert got["weakest"] == {"category": "security", "score": 40.0}
    # mean 80, sd 28.28, n 4: 80 ± 1.96 * 14.14
    assert got["interval"] == [52.3, 100.0]
    assert interval([70.0]) == [70.0, 70.0]
    assert interval([0.0, 0.0, 0.0]) == [0.0, 0.0]
