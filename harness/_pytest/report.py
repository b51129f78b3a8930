"""results.json and the terminal resilience table."""

from __future__ import annotations

import textwrap
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .._json import dumps_safe, safe, write_atomic
from ..runner import RESULTS_VERSION
from ..scoring import EXPLAINED, WEIGHTS, agent_scores, failure_causes


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
    document: dict[str, Any] = safe({
        "version": RESULTS_VERSION,
        "tool": {"name": "pytest-agent-chaos", "version": harness_version()},
        "seed": seed,
        "scoring": {"weights": {k.value: w for k, w in WEIGHTS.items()}, **EXPLAINED},
        "agents": agent_scores(ordered),
        "runs": ordered,
    })
    return document


def write_results(path: Path, doc: dict[str, Any]) -> Path:
    """Write results.json atomically: a failed write leaves the previous file whole."""
    return write_atomic(path, dumps_safe(doc, indent=1) + "\n")


def summarize(terminal: Any, doc: dict[str, Any], path: Path) -> None:
    """The resilience table and, per agent, what failed most: from a results document. The
    failures themselves, with their evidence, are in pytest's FAILURES section."""
    runs, seed, scores = doc["runs"], doc["seed"], doc["agents"]
    agents = list(scores)
    write = terminal.write_line
    terminal.write_sep("=", f"agent-chaos resilience (seed {seed})")
    width = max(10, *(len(a) + 2 for a in agents))
    categories = sorted({c for s in scores.values() for c in s["categories"]})

    def row(label: str, cells: list[str]) -> None:
        write(f"{label:<28}" + "".join(f"{c:>{width}}" for c in cells))

    def percent(agent: str, key: str) -> str:
        return f"{scores[agent][key]:.1f}%" if key in scores[agent] else "-"

    row("", agents)
    row("score (0-100)", [f"{scores[a]['score']:.1f}" for a in agents])
    row("  95% interval", [f"{lo:.0f}-{hi:.0f}" for a in agents
                           for lo, hi in [scores[a]["interval"]]])
    row("utility, no faults", [percent(a, "utility") for a in agents])
    row("  under fault", [percent(a, "under_fault") for a in agents])
    row("breach rate", [percent(a, "breach_rate") for a in agents])
    for cat in categories:
        row(f"  {cat}", [f"{scores[a]['categories'][cat]:.1f}"
                         if cat in scores[a]["categories"] else "-" for a in agents])
    row("weakest category", [weakest_label(scores[a]) for a in agents])
    if any("degradation" in scores[a] for a in agents):
        row("degradation under fault", [f"{scores[a]['degradation']:.1f}"
                                        if "degradation" in scores[a] else "-" for a in agents])
    row("runs passed", [f"{scores[a]['passed']}/{scores[a]['runs']}" for a in agents])
    row("goals met", [f"{scores[a].get('goals_met', 0)}/{scores[a]['runs']}" for a in agents])
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
    loaded = [r for r in runs if isinstance(r.get("load"), dict)]
    if loaded:
        write("")
        write("under load (Locust):")
        for r in loaded:
            for line in load_lines(r):
                write(line)
    for a in agents:
        causes = failure_causes([r for r in runs if r["agent"] == a])
        if not causes:
            continue
        write("")
        write(f"why {a} scores {scores[a]['score']:.1f} (what failed most; details under "
              f"FAILURES):")
        for c in causes[:6]:
            name = "goal missed" if c["cause"] == "goal" else \
                f"{c['cause']} [{c['severity']}]"
            write(f"  {c['count']:>3} run{'s' if c['count'] != 1 else ' '}  {name}")
            trial = f", trial {c['trial']}" if c["trial"] else ""
            shown = [e for e in c["evidence"][:4] if e not in c["message"]]
            ids = f" ({', '.join(shown)})" if shown else ""
            write(wrap.fill(f"worst: {c['scenario']}{trial}: {c['message']}{ids}"))
        if len(causes) > 6:
            write(f"  … and {len(causes) - 6} more (see the report)")
    write("")
    write(f"results: {path}")


def load_lines(run: dict[str, Any]) -> list[str]:
    """A load run in a few lines: its figures, the steps of a ramp, the knee."""
    load = run["load"]
    stats = load["locust"].get("stats") or {}
    goal = load["goal"]
    head = (f"  {run['scenario']}[{run['agent']}]: {load['users']} users, "
            f"{load['requests']['sent']} requests, {load['requests']['failed']} failed, "
            f"goal {goal['share']:.0%} (needed {goal['needed']:.0%})")
    if stats:
        head += f", p95 {stats.get('p95_ms')} ms, {stats.get('rps')} rps"
    lines = [head]
    if load["locust"].get("error"):
        lines.append(f"      Locust: {load['locust']['error']}")
    if len(load["steps"]) > 1:
        lines.append("      step  users    rps    p95 s  failed  goal  breaches")
        for st in load["steps"]:
            p95 = f"{st['p95_s']:.2f}" if st["p95_s"] is not None else "-"
            share = f"{st['goal_share']:.0%}" if st["goal_share"] is not None else "-"
            lines.append(f"      {st['index']:>4}  {st['users']:>5}  {st['rps']:>5.1f}  "
                         f"{p95:>7}  {st['failure_rate']:>6.1%}  {share:>4}  "
                         f"{', '.join(st['breaches']) or '-'}"
                         + ("  (Locust saturated)" if st["generator_limited"] else ""))
    if load.get("knee"):
        lines.append(f"      {load['knee']['message']}")
    return lines


def weakest_label(agent: dict[str, Any]) -> str:
    """The weakest category's score, or "none" when every category scores the same."""
    weak = agent["weakest"]
    if weak.get("categories", [weak.get("category")]):
        return f"{weak['score']:.1f}"
    return "none"
