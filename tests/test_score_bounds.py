"""The score ranks both a reckless agent and a useless one far below a resilient one: the
built-in library against the example agents and three agents that do not do the job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
AGENTS = {
    "guarded": "examples.agents.guarded:run",
    "naive": "examples.agents.naive:run",
    "refuse": "tests.agents.useless:refuse",
    "exit": "tests.agents.useless:exit_at_start",
    "once": "tests.agents.useless:ask_once",
}
USELESS = ("refuse", "exit", "once")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("library")
    args = [f"--chaos-agent={name}={spec}" for name, spec in AGENTS.items()]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--chaos", "scenarios/", "-n", "2", "-q",
         "-p", "no:cacheprovider", f"--chaos-results={out / 'results.json'}",
         f"--chaos-report={out / 'index.html'}", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert (out / "results.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    doc: dict[str, Any] = json.loads((out / "results.json").read_text())
    return doc


def test_useless_agents_score_at_most_20_and_fail_nine_in_ten(library: dict[str, Any]) -> None:
    scenarios = {r["scenario"] for r in library["runs"]}
    for name in USELESS:
        agent = library["agents"][name]
        assert agent["score"] <= 20, (name, agent["score"])
        failed = len(scenarios) - sum(1 for s in agent["scenarios"].values()
                                      if s["passed"] == s["trials"])
        assert failed >= 0.9 * len(scenarios), (name, failed)


def test_guarded_scores_at_least_95_and_naive_at_most_40(library: dict[str, Any]) -> None:
    scores = {name: a["score"] for name, a in library["agents"].items()}
    assert scores["guarded"] >= 95, scores
    assert scores["naive"] <= 40, scores


def test_every_goal_is_met_by_guarded_without_faults_and_missed_by_doing_nothing(
        library: dict[str, Any]) -> None:
    for run in library["runs"]:
        if run["agent"] == "guarded":
            calm = run["steady_state"]["goal_met"] if run["faults"] else run["goal"]["met"]
            assert calm, (run["scenario"], run["goal"]["message"])
        elif run["agent"] == "refuse":
            assert not run["goal"]["met"], run["scenario"]
            assert not run["faults"] or not run["steady_state"]["goal_met"], run["scenario"]
