"""Render results.json as one self-contained HTML page (inline CSS, JS and SVG; no request
leaves it). Everything shown comes from the results document, and every string from it is
escaped: agents' answers, tool data and scenario text carry HTML and JS on purpose."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..runner import summarize
from ..scoring import failure_causes
from ..trace import clip

#: Characters of one event's JSON shown in the audit log (the full event is in results.json).
EVENT_TEXT = 4_000
#: Width of a timeline, in SVG user units, and of its lane labels on the left.
TIMELINE_WIDTH = 1000
LABELS_WIDTH = 64
LANES = ("llm", "tool", "approval", "fault")
LANE_HEIGHT = 14


def safe_json(value: Any) -> str:
    """JSON that can sit inside a ``<script>`` element: no ``<``, ``>`` or ``&`` survive, so
    ``</script>`` or ``<!--`` in the data cannot end or bend the element."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _label(event: dict[str, Any]) -> str:
    data = {k: v for k, v in event.items() if k not in ("id", "kind")}
    return summarize(event["kind"], data)


def ticks(span: float) -> list[float]:
    """Round tick values from 0 to ``span`` seconds: 4 to 10 of them, at 1, 2 or 5 times a
    power of 10."""
    step = 10 ** math.floor(math.log10(max(span, 1e-3) / 4))
    for factor in (1, 2, 5, 10):
        if span / (step * factor) <= 8:
            step *= factor
            break
    count = int(span / step + 1e-9)
    return [round(i * step, 6) for i in range(count + 1)]


def timeline(run: dict[str, Any]) -> dict[str, Any]:
    """Positions of a run's events on an SVG timeline: one labelled lane per kind, x from
    timing, with a time axis in seconds. The axis starts at the first event (the agent's
    start-up before it is not drawn)."""
    times = run.get("timing", {}).get("events", {})
    starts = [t[0] for t in times.values() if t[0] is not None]
    origin = min(starts, default=0.0)
    end = max([t[1] or t[0] or 0.0 for t in times.values()] + [origin + 0.001])
    plot = TIMELINE_WIDTH - LABELS_WIDTH
    scale = plot / (end - origin)
    failed = {e for v in run["verdicts"] if not v["passed"] for e in v["evidence"]}
    marks = []
    for event in run["trace"]:
        start, stop = times.get(event["id"], [origin, None])
        start = start if start is not None else origin
        x = round(LABELS_WIDTH + (start - origin) * scale, 1)
        width = round(max(2.0, ((stop or start) - start) * scale), 1)
        status = event.get("status")
        bad = event["kind"] == "fault" or (isinstance(status, int) and
                                            (status == 0 or status >= 400))
        lane = LANES.index(event["kind"]) if event["kind"] in LANES else len(LANES) - 1
        marks.append({"id": event["id"], "lane": lane, "x": x, "y": lane * LANE_HEIGHT + 2,
                      "w": min(width, TIMELINE_WIDTH - x + 2), "bad": bad,
                      "evidence": event["id"] in failed, "label": _label(event)[:200],
                      "t": round(start, 3)})
    span = end - origin
    axis = [{"x": round(LABELS_WIDTH + t * scale, 1), "label": f"{t:g} s"} for t in ticks(span)]
    return {"marks": marks, "seconds": round(span, 2), "origin": round(origin, 2),
            "width": TIMELINE_WIDTH, "left": LABELS_WIDTH, "axis": axis,
            "lanes": [{"name": name, "y": i * LANE_HEIGHT + 2} for i, name in enumerate(LANES)],
            "axis_y": len(LANES) * LANE_HEIGHT + 2,
            "height": len(LANES) * LANE_HEIGHT + 20}


#: Size of one load chart, in SVG user units.
CHART_WIDTH, CHART_HEIGHT, CHART_LEFT = 460, 120, 44


def chart(title: str, points: list[tuple[float, float]], span: float, unit: str,
          limit: float | None = None, knee: float | None = None) -> dict[str, Any]:
    """One line chart over the load's seconds: a polyline, the y axis up to the largest value
    (or the limit), time ticks, an optional limit line and the knee marked."""
    top = max([y for _, y in points] + [limit or 0.0]) or 1.0
    plot_w, plot_h = CHART_WIDTH - CHART_LEFT - 6, CHART_HEIGHT - 28
    span = max(span, 1e-3)

    def xy(x: float, y: float) -> tuple[float, float]:
        return (round(CHART_LEFT + min(max(x, 0.0), span) / span * plot_w, 1),
                round(8 + plot_h - y / top * plot_h, 1))

    line = " ".join(f"{a},{b}" for a, b in (xy(x, y) for x, y in points))
    return {
        "title": title, "unit": unit, "line": line, "top": f"{top:.3g}",
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT,
        "bottom": 8 + plot_h, "right": CHART_WIDTH - 6,
        "limit": None if limit is None else xy(0, limit)[1],
        "knee": None if knee is None else xy(knee, 0)[0],
        "axis": [{"x": xy(t, 0)[0], "label": f"{t:g} s"} for t in ticks(span)],
        "last": f"{points[-1][1]:.3g}" if points else "-",
    }


def load_view(run: dict[str, Any]) -> dict[str, Any] | None:
    """A load run's figures, step table, knee and charts (users, requests/s, p95 and failures
    over time, each tool's requests/s against its limit)."""
    load = run.get("load")
    if not isinstance(load, dict):
        return None
    started, ended = load.get("started", 0.0), load.get("ended", 0.0)
    span = max(ended - started, 1.0)
    knee = load.get("knee") or {}
    knee_at = None
    if knee.get("verdict") in ("knee", "generator_limited"):
        step = next((s for s in load["steps"] if s["users"] == knee["users"]), None)
        knee_at = step["start"] - started if step else None
    history = [h for h in load.get("history", []) if h.get("t") is not None]

    def series(key: str, scale: float = 1.0) -> list[tuple[float, float]]:
        return [(h["t"] - started, (h.get(key) or 0.0) * scale) for h in history]

    charts = [chart("users", series("users"), span, "users", knee=knee_at),
              chart("requests/s", series("rps"), span, "rps", knee=knee_at),
              chart("p95 latency", series("p95_ms", 0.001), span, "s", knee=knee_at),
              chart("failures/s", series("failures_per_s"), span, "/s", knee=knee_at)]
    for tool, rate in sorted(load.get("tool_rates", {}).items()):
        points = [(i + 0.5, float(c)) for i, c in enumerate(rate["per_second"])]
        charts.append(chart(f"{tool} requests/s (limit {rate['limit']})" if rate["limit"]
                            else f"{tool} requests/s", points, span, "rps",
                            limit=rate["limit"], knee=knee_at))
    return {**load, "charts": charts}


def _audit(run: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for event in run["trace"]:
        text = json.dumps(event, ensure_ascii=False, indent=1, sort_keys=True)
        if len(text) > EVENT_TEXT:
            text = text[:EVENT_TEXT] + f"\n… [{len(text) - EVENT_TEXT} more characters in " \
                                       f"results.json]"
        out.append({"id": event["id"], "kind": event["kind"], "label": _label(event)[:300],
                    "text": text})
    return out


def _repro(run: dict[str, Any], seed: int) -> str:
    source = run.get("source") or "scenarios/"
    return (f"pytest --chaos --chaos-seed={seed} "
            f"'{source}::{run['scenario']}[{run['agent']}]'")


def context(results: dict[str, Any], min_score: float | None = None) -> dict[str, Any]:
    runs = results["runs"]
    agents = sorted(results["agents"])
    categories = sorted({c for a in results["agents"].values() for c in a["categories"]})
    scenarios: dict[str, dict[str, Any]] = {}
    for number, run in enumerate(runs):
        entry = scenarios.setdefault(run["scenario"], {
            "name": run["scenario"], "category": run["category"],
            "description": run.get("description", ""), "faults": run.get("faults", []),
            "runs": {}})
        key = f"r{number}"
        cell = entry["runs"].setdefault(run["agent"], {"trials": []})
        cell["trials"].append({
            **run, "key": key, "timeline": timeline(run), "load_view": load_view(run),
            "audit": _audit(run),
            "repro": run.get("reproduce") or _repro(run, results["seed"]),
            "failed": [v for v in run["verdicts"] if not v["passed"]],
        })
    ordered = sorted(scenarios.values(), key=lambda s: s["name"])
    keys = {(r["scenario"], r["agent"], r.get("trial", 0)): f"r{n}" for n, r in enumerate(runs)}
    why = {}
    for agent in agents:
        causes = failure_causes([r for r in runs if r["agent"] == agent])
        why[agent] = [{**c, "key": keys[(c["scenario"], agent, c["trial"])]} for c in causes]
    for s in ordered:
        for cell in s["runs"].values():
            trials = cell["trials"]
            cell["score"] = round(sum(t["score"] for t in trials) / len(trials), 1)
            cell["passes"] = sum(1 for t in trials if t["passed"])
            cell["passed"] = cell["passes"] == len(trials)
            # The trial a click opens: the first that failed, else the first.
            cell["key"] = next((t["key"] for t in trials if not t["passed"]), trials[0]["key"])
        s["failed"] = any(not c["passed"] for c in s["runs"].values())
    # What the page's search looks through. It holds untrusted text (verdicts quote tool data
    # and answers), which is why it is embedded with safe_json.
    summary = {run_key(r): {"scenario": r["scenario"], "agent": r["agent"], "score": r["score"],
                            "passed": r["passed"], "description": r.get("description", ""),
                            "faults": r.get("faults", []), "answer": clip(r["outcome"]["output"]),
                            "verdicts": [f"{v['check']}: {v['message']}" for v in r["verdicts"]]}
               for r in runs}
    return {
        "results": results, "agents": agents, "categories": categories, "scenarios": ordered,
        "min_score": min_score, "lanes": LANES, "why": why,
        "data": safe_json({"seed": results["seed"], "agents": results["agents"],
                           "runs": summary}),
    }


def run_key(run: dict[str, Any]) -> str:
    return f"{run['scenario']}[{run['agent']}]"


def render_html(results: dict[str, Any], min_score: float | None = None) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clip"] = clip
    return env.get_template("report.html.j2").render(**context(results, min_score))


def write_html(path: Path, results: dict[str, Any], min_score: float | None = None) -> Path:
    """Write the report atomically. ``results`` is a document from ``build_results``, already
    safe for output; one read from a file goes through ``harness._json.safe`` first."""
    from .._json import write_atomic

    return write_atomic(path, render_html(results, min_score))
