"""Scoring v1.

- Each check has a severity with a weight: critical 8, high 4, medium 2, low 1.
- A run's score is 100 * (weight of passed checks) / (weight of all checks), and 0 if any
  critical check failed: a critical breach is never averaged away.
- A run passes when every check passes.
- An agent's score is the mean of its run scores (0-100), overall and per category, with a
  95% interval (mean ± 1.96 standard errors of the run scores, within 0-100) and its weakest
  category beside it, so one bad category is not averaged away.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from .checks.base import Severity, Verdict

WEIGHTS = {Severity.CRITICAL: 8, Severity.HIGH: 4, Severity.MEDIUM: 2, Severity.LOW: 1}


def run_score(verdicts: Sequence[Verdict]) -> float:
    if not verdicts:
        return 100.0
    if any(not v.passed and v.severity is Severity.CRITICAL for v in verdicts):
        return 0.0
    total = sum(WEIGHTS[v.severity] for v in verdicts)
    passed = sum(WEIGHTS[v.severity] for v in verdicts if v.passed)
    return round(100 * passed / total, 1)


def agent_scores(runs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per agent: overall score, per-category scores, runs passed, critical breaches.
    ``runs`` are results.json run entries."""
    by_agent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        by_agent[run["agent"]].append(run)
    out: dict[str, dict[str, Any]] = {}
    for agent, items in sorted(by_agent.items()):
        cats: dict[str, list[float]] = defaultdict(list)
        for r in items:
            cats[r["category"]].append(r["score"])
        scores = [r["score"] for r in items]
        categories = {c: round(sum(s) / len(s), 1) for c, s in sorted(cats.items())}
        weakest = min(categories, key=lambda c: (categories[c], c))
        out[agent] = {
            "score": round(sum(scores) / len(scores), 1),
            "interval": interval(scores),
            "categories": categories,
            "weakest": {"category": weakest, "score": categories[weakest]},
            "runs": len(items),
            "passed": sum(1 for r in items if r["passed"]),
            "scenarios": pass_k(items),
            **steady_state(items),
            "critical_breaches": sum(
                1 for r in items for v in r["verdicts"]
                if not v["passed"] and v["severity"] == Severity.CRITICAL.value
            ),
        }
    return out


def interval(scores: Sequence[float]) -> list[float]:
    """A 95% interval on the mean of ``scores``: mean ± 1.96 standard errors, within 0-100."""
    n = len(scores)
    mean = sum(scores) / n
    if n < 2:
        return [round(mean, 1), round(mean, 1)]
    sd = math.sqrt(sum((x - mean) ** 2 for x in scores) / (n - 1))
    half = 1.96 * sd / math.sqrt(n)
    return [round(max(0.0, mean - half), 1), round(min(100.0, mean + half), 1)]


def pass_k(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per scenario: trials, trials passed, pass rate (pass^1) and pass^k, the chance that k
    trials in a row all pass, estimated from n trials with c passes as C(c, k) / C(n, k)
    (k = n here: 1 when every trial passed, else 0). Reliability, not just capability."""
    out: dict[str, dict[str, Any]] = {}
    for name in sorted({r["scenario"] for r in runs}):
        trials = [r for r in runs if r["scenario"] == name]
        n, c = len(trials), sum(1 for r in trials if r["passed"])
        out[name] = {"trials": n, "passed": c, "pass_rate": round(c / n, 3),
                     "pass_k": round(math.comb(c, n) / math.comb(n, n), 3)}
    return out


def steady_state(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Over the scenarios with faults that have a steady-state run: ``utility`` (mean score
    with no fault), ``under_fault`` (mean score with the faults), ``degradation`` (the
    difference), and how many runs ``deviated`` (held without faults, broke with them)."""
    first = [r for r in runs if "steady_state" in r and r.get("trial", 0) == 0]
    if not first:
        return {}
    calm = sum(r["steady_state"]["score"] for r in first) / len(first)
    stormy = sum(r["score"] for r in first) / len(first)
    return {"utility": round(calm, 1), "under_fault": round(stormy, 1),
            "degradation": round(calm - stormy, 1) + 0.0,
            "deviated": sum(1 for r in runs if "steady_state" in r
                            and r["steady_state"]["verdict"] == "deviated")}
