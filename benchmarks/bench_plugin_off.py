"""What the plugin costs a pytest session that does not run chaos scenarios:

    python benchmarks/bench_plugin_off.py [--repeat 15]

``pytest --co`` on an empty suite, with the plugin (``--chaos`` off) and without it
(``-p no:agent_chaos``), alternating, in fresh processes; the medians and their difference.
Target: ≤ 30 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def collect_only(where: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider",
                    *extra], cwd=where, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        (where / "pytest.ini").write_text("[pytest]\n")
        collect_only(where)  # the first start pays for cold file caches
        on, off = [], []
        for _ in range(args.repeat):
            on.append(collect_only(where))
            off.append(collect_only(where, "-p", "no:agent_chaos"))
    with_plugin, without = statistics.median(on), statistics.median(off)
    cost = (with_plugin - without) * 1000
    print(f"pytest --co, empty suite, median of {args.repeat}: with the plugin "
          f"{with_plugin * 1000:.0f} ms, without {without * 1000:.0f} ms: the plugin costs "
          f"{cost:.0f} ms ({'within' if cost <= 30 else 'OVER'} the 30 ms target)")
    return 0 if cost <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
