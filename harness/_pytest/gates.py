"""CI gates: a minimum score per agent (``--chaos-min-score``) and no regression against a
baseline results.json (``--chaos-baseline``, within ``--chaos-tolerance`` points)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..runner import RESULTS_VERSION


def load_baseline(path: str) -> dict[str, Any]:
    """A previous results.json, or a usage error that says what is wrong with it."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise pytest.UsageError(f"--chaos-baseline {path}: cannot read it: "
                                f"{exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise pytest.UsageError(f"--chaos-baseline {path}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("agents"), dict) or \
            not isinstance(doc.get("runs"), list):
        raise pytest.UsageError(f"--chaos-baseline {path}: not a results.json of "
                                f"pytest-agent-chaos (it needs 'agents' and 'runs')")
    if doc.get("version") != RESULTS_VERSION:
        raise pytest.UsageError(f"--chaos-baseline {path}: results.json version "
                                f"{doc.get('version')!r}; this pytest-agent-chaos reads "
                                f"version {RESULTS_VERSION}")
    return doc


@dataclass
class GateReport:
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)


def evaluate(agents: dict[str, dict[str, Any]], runs: list[dict[str, Any]],
             min_score: float | None, baseline: dict[str, Any] | None,
             tolerance: float) -> GateReport:
    out = GateReport()
    if min_score is not None:
        for agent, s in sorted(agents.items()):
            if s["score"] < min_score:
                out.failures.append(f"{agent} scores {s['score']:.1f}, below --chaos-min-score "
                                    f"{min_score:g}")
            else:
                out.notes.append(f"{agent} scores {s['score']:.1f} ≥ {min_score:g}")
    if baseline is not None:
        _against_baseline(out, runs, baseline["runs"], tolerance)
    return out


def _mean_scores(runs: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """(scenario, agent) → mean score over its trials."""
    found: dict[tuple[str, str], list[float]] = {}
    for r in runs:
        found.setdefault((r["scenario"], r["agent"]), []).append(r["score"])
    return {k: sum(v) / len(v) for k, v in found.items()}


def _against_baseline(out: GateReport, runs: list[dict[str, Any]],
                      before_runs: list[dict[str, Any]], tolerance: float) -> None:
    """Compare each agent on the scenarios both runs have; scenarios only one side has are
    listed, not counted as drops."""
    from ..scoring import agent_scores

    old, new = _mean_scores(before_runs), _mean_scores(runs)
    common = old.keys() & new.keys()
    now = agent_scores(r for r in runs if (r["scenario"], r["agent"]) in common)
    then = agent_scores(r for r in before_runs if (r["scenario"], r["agent"]) in common)
    for agent in sorted({a for _, a in new}):
        if agent not in then:
            out.notes.append(f"{agent} is not in the baseline" if not any(
                a == agent for _, a in old) else f"{agent}: no scenario in common with the "
                                                 f"baseline")
            continue
        before, after = then[agent]["score"], now[agent]["score"]
        shared = len({s for s, a in common if a == agent})
        drop = round(before - after, 1) + 0.0  # + 0.0: no "-0.0"
        line = (f"{before:.1f} to {after:.1f} ({0.0 - drop:+.1f}; tolerance {tolerance:g}) on "
                f"the {shared} scenario{'s' if shared != 1 else ''} in both runs")
        if drop > tolerance:
            out.failures.append(f"{agent} dropped from {line}")
        else:
            out.notes.append(f"{agent}: {line}")
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a is None:
            out.diff.append(f"{key[0]} [{key[1]}]: new (not in the baseline), {b:g}")
        elif b is None:
            out.diff.append(f"{key[0]} [{key[1]}]: not run now (baseline {a:g})")
        elif round(a, 1) != round(b, 1):
            out.diff.append(f"{key[0]} [{key[1]}]: {a:g} → {b:g} ({b - a:+g})")
