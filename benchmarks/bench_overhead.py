"""The harness's cost per run, cold and warm starts side by side in one run:

    python benchmarks/bench_overhead.py [--runs 30]

An agent that returns at once (``benchmarks/trivial_agent.py``) runs a one-tool scenario
through the whole of ``Runner.run``: the world, its Toxiproxy proxies, the agent's process
(a new interpreter, or a fork of its fork server), the checks and the teardown. What the run
takes is the harness's overhead. Target: median ≤ 50 ms warm.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.runner import Runner  # noqa: E402
from harness.scenario import parse_scenario  # noqa: E402
from harness.servers import ServerHost  # noqa: E402

TRIVIAL = "trivial=benchmarks.trivial_agent:run"
SCENARIO = {
    "version": 1, "name": "overhead", "category": "network", "timeout": 10, "task": "Say hi.",
    "tools": ["inventory"],
    "llm": [{"text": "hi"}], "goal": [{"answer_given": {}}],
    "expect": [{"terminates": {}}, {"max_llm_calls": {"limit": 3}}],
}


def measure(runner: Runner, runs: int) -> list[float]:
    scenario = parse_scenario(SCENARIO)
    runner.run(scenario, TRIVIAL)  # the first run starts the servers (and the fork server)
    took = []
    for trial in range(runs):
        started = time.perf_counter()
        result = runner.run(scenario, TRIVIAL, trial)
        took.append(time.perf_counter() - started)
        if result.outcome.status != "completed":
            raise SystemExit(f"the trivial agent did not complete: {result.outcome}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    host = ServerHost()
    try:
        rows = []
        for label, warm in (("cold", False), ("warm", True)):
            runner = Runner(host, seed=0, warm=warm)
            try:
                took = measure(runner, args.runs)
            finally:
                runner.close()
            rows.append((label, statistics.median(took), min(took),
                         statistics.quantiles(took, n=10)[-1]))
    finally:
        host.close()
    print(f"per-run harness overhead, agent that returns at once, {args.runs} runs each")
    print(f"{'start':<6} {'median':>9} {'min':>9} {'p90':>9}")
    for label, median, low, p90 in rows:
        print(f"{label:<6} {median * 1000:>7.1f}ms {low * 1000:>7.1f}ms {p90 * 1000:>7.1f}ms")
    warm = rows[1][1]
    print(f"warm median {'within' if warm <= 0.05 else 'OVER'} the 50 ms target")
    return 0 if warm <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
