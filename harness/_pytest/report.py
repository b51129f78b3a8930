"""results.json and the terminal resilience table."""

from __future__ import annotations

import json
import textwrap
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..runner import RESULTS_VERSION
from ..scoring import WEIGHTS, agent_scores


def harness_version() -> str:
    try:
        return version("pytest-agent-chaos")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def build_results(runs: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    """The results.json document (format documented in the README). Only ``timing`` keys hold
    wall-clock figures; everything else is the same for the same seed."""
    ordered = sorted(runs, key=lambda r: (r["scenario"], r["agent"], r.get("nodeid", ""),
                                          r.get("trial", 0)))
    return {
        "version": RESULTS_VERSION,
        "tool": {"name": "pytest-agent-chaos", "version": harness_version()},
        "seed": seed,
        "scoring": {"weights": {k.value: w for k, w in WEIGHTS.items()},
                    "run_score": "100 * passed weight / total weight; 0 on a critical failure",
                    "agent_score": "mean of run scores",
                    "interval": "95%: mean ± 1.96 standard errors of the run scores, in 0-100",
                    "weakest": "the category with the lowest mean score",
                    "utility": "mean steady-state score (the run without its faults) over the "
                               "scenarios with faults; under_fault: the mean with them; "
                               "degradation: the difference"},
        "agents": agent_scores(ordered),
        "runs": ordered,
    }


def write_results(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def summarize(terminal: Any, doc: dict[str, Any], path: Path) -> None:
    """The resilience table and the "why" section, from a results document."""
    runs, seed, scores = doc["runs"], doc["seed"], doc["agents"]
    agents = list(scores)
    write = terminal.write_line
    terminal.write_sep("=", f"agent-chaos resilience (seed {seed})")
    width = max(10, *(len(a) + 2 for a in agents))
    categories = sorted({c for s in scores.values() for c in s["categories"]})

    def row(label: str, cells: list[str]) -> None:
        write(f"{label:<28}" + "".join(f"{c:>{width}}" for c in cells))

    row("", agents)
    row("score (0-100)", [f"{scores[a]['score']:.1f}" for a in agents])
    row("  95% interval", [f"{lo:.0f}-{hi:.0f}" for a in agents
                           for lo, hi in [scores[a]["interval"]]])
    row("  weakest category", [f"{scores[a]['weakest']['score']:.1f}" for a in agents])
    for cat in categories:
        row(f"  {cat}", [f"{scores[a]['categories'][cat]:.1f}"
                         if cat in scores[a]["categories"] else "-" for a in agents])
    if any("utility" in scores[a] for a in agents):
        for key, label in (("utility", "utility, no faults"), ("under_fault", "  under fault"),
                           ("degradation", "  degradation")):
            row(label, [f"{scores[a][key]:.1f}" if key in scores[a] else "-" for a in agents])
    row("runs passed", [f"{scores[a]['passed']}/{scores[a]['runs']}" for a in agents])
    row("critical breaches", [str(scores[a]["critical_breaches"]) for a in agents])
    write("")
    for scenario in sorted({r["scenario"] for r in runs}):
        cells = []
        for a in agents:
            tally = scores[a]["scenarios"].get(scenario)
            if tally is None:
                cells.append("-")
                continue
            trial_scores = [r["score"] for r in runs if r["agent"] == a
                            and r["scenario"] == scenario]
            mean = sum(trial_scores) / len(trial_scores)
            verdict = "ok" if tally["passed"] == tally["trials"] else "FAIL"
            if tally["trials"] > 1:
                verdict += f" {tally['passed']}/{tally['trials']}"
            cells.append(f"{mean:.0f} {verdict}")
        row(scenario, cells)
    wrap = textwrap.TextWrapper(width=max(60, (getattr(terminal, "_tw", None) and
                                          terminal._tw.fullwidth) or 100),
                                initial_indent="      ", subsequent_indent="      ")
    for a in agents:
        failed = sorted((r for r in runs if r["agent"] == a and not r["passed"]),
                        key=lambda r: r["scenario"])
        if not failed:
            continue
        write("")
        write(f"why {a} scores {scores[a]['score']:.1f}:")
        for r in failed:
            trial = f", trial {r['trial']}" if r.get("trials", 1) > 1 else ""
            write(f"  {r['scenario']} (score {r['score']:g}{trial}):")
            for v in r["verdicts"]:
                if not v["passed"]:
                    write(f"    x {v['check']} [{v['severity']}]")
                    write(wrap.fill(v["message"]))
    write("")
    write(f"results: {path}")
