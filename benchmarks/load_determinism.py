"""Same seed, same verdicts, under load: run every built-in load scenario against the example
agents N times and compare the verdicts (the goal, each check, pass/fail, the knee's verdict).

    python benchmarks/load_determinism.py [--times 5]

Exit 1 if any run's verdicts differ from the first's. (The figures, requests/s and p95, do vary
with the machine; the verdicts must not.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.runner import Runner, RunResult  # noqa: E402
from harness.scenario import load_scenario  # noqa: E402
from harness.servers import ServerHost  # noqa: E402

AGENTS = ["naive=examples.agents.naive:run", "guarded=examples.agents.guarded:run"]


def verdicts(result: RunResult) -> tuple[object, ...]:
    load = result.load
    knee = (load.knee or {}).get("verdict") if load is not None else None
    return (result.passed, result.goal.met,
            tuple((v.check, v.passed) for v in result.verdicts), knee)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--times", type=int, default=5)
    args = parser.parse_args()
    scenarios = [load_scenario(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
    scenarios = [s for s in scenarios if s.load is not None]
    host = ServerHost()
    runner = Runner(host, seed=0)
    first: dict[tuple[str, str], tuple[object, ...]] = {}
    differ = 0
    started = time.monotonic()
    try:
        for n in range(args.times):
            for scenario in scenarios:
                for agent in AGENTS:
                    got = verdicts(runner.run(scenario, agent))
                    key = (scenario.name, agent.split("=")[0])
                    first.setdefault(key, got)
                    same = got == first[key]
                    differ += not same
                    differs = "" if same else f"  DIFFERS: {got!r} vs {first[key]!r}"
                    print(f"round {n + 1}: {key[0]}[{key[1]}] "
                          f"{'passed' if got[0] else 'failed'}{differs}", flush=True)
    finally:
        runner.close()
        host.close()
    print(f"{args.times} rounds of {len(first)} runs in {time.monotonic() - started:.0f} s: "
          f"{differ} differed from the first round")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
