"""The demo's wall time, side by side in one run: serial, ``--chaos-parallel 2`` and ``-n 2``
(each ``pytest --chaos scenarios/`` in its own process, the same seed), with what the
scenarios themselves make it wait for, and whether the three gave the same verdicts:

    python benchmarks/bench_demo.py [--suite]

What the scenarios make the demo wait for is the sum of the agents' run times (results.json
``timing.duration``, and ``timing.steady_state`` for the fault-free runs): the time limits the
runaway runs are stopped at, the latency and hangs they sit through, the load runs' set
durations, and the agents' own work. Target: the serial wall time ≤ 1.3x that.

``--suite`` also times the test suite (``pytest -n 2``, as CI runs it; about 15 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def demo(extra: list[str], out: Path) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", "--chaos", "scenarios/", "-q",
                    "-p", "no:cacheprovider", "--chaos-results", str(out / "results.json"),
                    "--chaos-report", str(out / "index.html"), *extra],
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    took = time.monotonic() - started
    return took, json.loads((out / "results.json").read_text())


def waited(doc: dict[str, Any]) -> float:
    """What the runs took: the time limits, faults and load durations they waited out and the
    agents' own work."""
    return sum(r["timing"]["duration"] + r["timing"].get("steady_state", 0.0)
               for r in doc["runs"])


def verdicts(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What each run decided (load runs: only the verdicts that are not the machine's
    figures would be comparable, so they are left out)."""
    return [(r["scenario"], r["agent"], r["passed"], r["score"],
             [(v["check"], v["passed"]) for v in r["verdicts"]])
            for r in doc["runs"] if "load" not in r]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", action="store_true", help="also time the test suite")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in (("serial", []), ("--chaos-parallel 2", ["--chaos-parallel", "2"]),
                             ("-n 2", ["-n", "2"])):
            out = Path(tmp, label.replace(" ", "_"))
            out.mkdir()
            took, doc = demo(extra, out)
            rows.append((label, took, doc))
    serial, floor = rows[0][1], waited(rows[0][2])
    runs = len(rows[0][2]["runs"])
    print(f"demo: {runs} runs (plus steady-state runs), seed {rows[0][2]['seed']}")
    print(f"what the scenarios make it wait for (serial): {floor:.1f} s")
    for label, took, _ in rows:
        print(f"{label:<20} {took:>7.1f} s  ({took / floor:.2f}x of that)")
    same = all(verdicts(doc) == verdicts(rows[0][2]) for _, _, doc in rows)
    print(f"same verdicts in all three: {'yes' if same else 'NO'}")
    ok = same and serial <= 1.3 * floor
    print(f"serial {'within' if serial <= 1.3 * floor else 'OVER'} 1.3x the wait")
    if args.suite:
        started = time.monotonic()
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        code = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, check=False).returncode
        print(f"test suite, pytest -n 2: {time.monotonic() - started:.0f} s (exit {code})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
