"""What the plugin costs a pytest session that does not run chaos scenarios:

    python benchmarks/bench_plugin_off.py [--repeat 15]

``pytest --co`` on an empty suite, with the plugin (``--chaos`` off) and without it,
alternating, in fresh processes; the medians and their difference. Target: ≤ 30 ms. Other
installed plugins are not loaded in either (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``; this one is
then loaded with ``-p harness.plugin``): on the development venv they take seconds (langsmith,
faker, hypothesis, locust), whose noise would hide the figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def collect_only(where: Path, *extra: str) -> float:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider",
                    *extra], cwd=where, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=41)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        (where / "pytest.ini").write_text("[pytest]\n")
        collect_only(where)  # the first start pays for cold file caches
        on, off = [], []
        for _ in range(args.repeat):
            on.append(collect_only(where, "-p", "harness.plugin"))
            off.append(collect_only(where))
    with_plugin, without = statistics.median(on), statistics.median(off)
    cost = (with_plugin - without) * 1000
    print(f"pytest --co, empty suite, median of {args.repeat}: with the plugin "
          f"{with_plugin * 1000:.0f} ms, without {without * 1000:.0f} ms: the plugin costs "
          f"{cost:.0f} ms ({'within' if cost <= 30 else 'OVER'} the 30 ms target)")
    return 0 if cost <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
