"""Real Locust, always in a subprocess (importing locust patches a process with gevent): a
generated locustfile (``harness/load/user.py`` with the run's tasks written in), ``locust
--headless``, stats read back from its CSV and JSON files, its CPU watched as it runs.

The process runs under the same supervisor as agents: everything it forks (``--processes``)
ends with it, at its time limit, or when the harness dies.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._guard import descendants
from ..agents import GRACE, GUARD, Capture, stop
from .spec import LoadDoc, LoadTask

#: Locust's own memory limit (its processes together).
LOCUST_MEMORY = 2 * 2**30
#: How often the generator's CPU is sampled, seconds.
CPU_EVERY = 0.5
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class LocustResult:
    command: list[str]
    exit_code: int | None = None
    #: The aggregated row of ``*_stats.csv``: requests, failures, percentiles (ms), rps.
    stats: dict[str, Any] = field(default_factory=dict)
    #: Locust's per-second history (``*_stats_history.csv``, aggregated rows), on the run's
    #: clock: t, users, rps, failures_per_s, p50, p95.
    history: list[dict[str, Any]] = field(default_factory=list)
    #: The final stats as Locust's ``--json-file`` wrote them (per endpoint).
    json: list[dict[str, Any]] = field(default_factory=list)
    #: The generator's CPU use: (t on the run's clock, cores busy over the last sample).
    cpu: list[tuple[float, float]] = field(default_factory=list)
    processes: int = 1
    error: str | None = None
    log: str = ""
    #: Each task sent, as the users recorded it (``harness/load/user.py``), on the run's clock.
    requests: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"command": self.command, "exit_code": self.exit_code, "stats": self.stats,
                "processes": self.processes, "error": self.error}


def locustfile_text(config: dict[str, Any]) -> str:
    """The built-in locustfile: ``user.py`` with the configuration written in."""
    source = Path(__file__).with_name("user.py").read_text(encoding="utf-8")
    head, sep, rest = source.partition("from __future__ import annotations\n")
    return (f"{head}{sep}\n_CONFIG = {json.dumps(json.dumps(config))}\n{rest}")


def run_locust(load: LoadDoc, tasks: list[LoadTask], host_url: str, timeout: float,
               tmp: Path, clock: Any, *, user_file: Path | None = None, workers: int = 0,
               master: tuple[str, int] = ("127.0.0.1", 5557)) -> LocustResult:
    """Run Locust against ``host_url`` and wait for it (bounded: the load's length, the
    per-task time limit for the last tasks, and a margin). ``clock()`` is the run's clock."""
    stride = workers or load.processes
    config: dict[str, Any] = {
        "tasks": [t.text for t in tasks], "stride": stride, "path": load.path,
        "body": load.body, "timeout": timeout, "builtin": user_file is None,
        "wait": list(load.wait) if isinstance(load.wait, tuple) else [load.wait, load.wait],
        "spawn_rate": load.spawn_rate, "records": str(tmp / "requests.jsonl"),
        "stream": load.stream,
        "ramp": ({"steps": load.ramp.steps(), "every": load.ramp.every}
                 if load.ramp is not None else None),
    }
    config_file = tmp / "load-config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    if user_file is None:
        locustfile = tmp / "chaos_locustfile.py"
        locustfile.write_text(locustfile_text(config), encoding="utf-8")
    else:
        locustfile = user_file
    prefix = str(tmp / "locust")
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "--host", host_url, "--csv", prefix, "--csv-full-history",
            "--json-file", prefix, "--only-summary", "--loglevel", "WARNING",
            "--exit-code-on-error", "0", "--stop-timeout", f"{timeout:g}"]
    if load.ramp is None:
        argv += ["-u", str(load.users), "-r", f"{load.spawn_rate or load.users:g}",
                 "-t", f"{load.seconds:g}s"]
    if workers:
        argv += ["--master", "--expect-workers", str(workers), "--master-bind-host",
                 master[0], "--master-bind-port", str(master[1])]
    elif load.processes > 1:
        argv += ["--processes", str(load.processes)]
    result = LocustResult(argv, processes=stride)
    environ = {**os.environ, "CHAOS_LOAD_CONFIG": str(config_file),
               "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    environ.pop("LOCUST_LOCUSTFILE", None)
    guard = [sys.executable, "-I", "-S", GUARD, "--memory", str(LOCUST_MEMORY),
             "--grace", repr(GRACE), "--status", str(tmp / "locust-guard.json"),
             "--cleanup", str(tmp), "--"]
    proc = subprocess.Popen([*guard, *argv], env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=tmp)
    capture = Capture(proc)
    done = threading.Event()
    sampler = threading.Thread(target=_sample_cpu, args=(proc.pid, clock, result.cpu, done),
                               name="agent-chaos-locust-cpu", daemon=True)
    sampler.start()
    limit = load.seconds + timeout + 30 + (60 if workers else 0)
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        result.error = f"Locust did not finish within {limit:g} s and was stopped"
    finally:
        done.set()
        stop(proc)
        capture.finish()
        sampler.join()
    result.exit_code = proc.returncode
    result.log = capture.log()
    _read_stats(prefix, result, clock)
    if not result.stats and result.error is None:
        last = result.log.strip().splitlines()[-3:]
        result.error = "Locust wrote no stats: " + (" / ".join(last) or
                                                   f"exit code {proc.returncode}")
    return result


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / _TICK


def _sample_cpu(root: int, clock: Any, out: list[tuple[float, float]],
                done: threading.Event) -> None:
    before, then = None, time.monotonic()
    while not done.wait(CPU_EVERY):
        used = _cpu_seconds(descendants(root))
        now = time.monotonic()
        if before is not None and now > then:
            out.append((round(clock(), 2), round(max(0.0, used - before) / (now - then), 3)))
        before, then = used, now


def _number(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _quantile(times: dict[int, int], q: float) -> int | None:
    """The ``q`` quantile of Locust's response-time histogram (ms → count), as Locust
    computes its percentiles."""
    total = sum(times.values())
    if not total:
        return None
    wanted = total - int(q * total)
    seen = 0
    for ms in sorted(times, reverse=True):
        seen += times[ms]
        if seen >= wanted:
            return ms
    return min(times)


def _read_stats(prefix: str, result: LocustResult, clock: Any) -> None:
    offset = time.time() - clock()  # the run's clock from wall time
    with contextlib.suppress(OSError), \
            open(Path(prefix).parent / "requests.jsonl", encoding="utf-8") as f:
        for line in f:
            try:
                record = json.loads(line)
            except ValueError:  # a last line cut short
                continue
            for key in ("start", "end", "first_byte"):
                if isinstance(record.get(key), int | float):
                    record[key] = record[key] - offset
            result.requests.append(record)
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(Path(f"{prefix}.json").read_text(encoding="utf-8"))
        result.json = loaded if isinstance(loaded, list) else []
    # The JSON file holds the final figures (the CSV's last write can come before the users'
    # last tasks end): requests, failures, and Locust's response-time histogram.
    entries = [e for e in result.json if isinstance(e, dict)]
    if entries:
        times: dict[int, int] = {}
        for e in entries:
            for ms, count in (e.get("response_times") or {}).items():
                times[int(float(ms))] = times.get(int(float(ms)), 0) + int(count)
        requests = sum(int(e.get("num_requests", 0)) for e in entries)
        first = min(float(e.get("start_time", 0)) for e in entries)
        last = max(float(e.get("last_request_timestamp") or 0) for e in entries)
        result.stats = {
            "requests": requests,
            "failures": sum(int(e.get("num_failures", 0)) for e in entries),
            "median_ms": _quantile(times, 0.5), "p95_ms": _quantile(times, 0.95),
            "p99_ms": _quantile(times, 0.99),
            "average_ms": round(sum(float(e.get("total_response_time", 0)) for e in entries)
                                / requests, 1) if requests else None,
            "max_ms": max((float(e.get("max_response_time") or 0) for e in entries),
                          default=None),
            "rps": round(requests / (last - first), 2) if last > first else None,
        }
    try:
        with open(f"{prefix}_stats_history.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("Name") != "Aggregated":
                    continue
                stamp = _number(row.get("Timestamp", ""))
                if stamp is None:
                    continue
                result.history.append({
                    "t": round(stamp - offset, 2), "users": int(_number(row["User Count"]) or 0),
                    "rps": _number(row["Requests/s"]), "failures_per_s": _number(row["Failures/s"]),
                    "p50_ms": _number(row.get("50%", "")), "p95_ms": _number(row.get("95%", "")),
                })
    except (OSError, KeyError, csv.Error):
        pass
