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
        for agent, s in sorted(agents.items()):
            before = baseline["agents"].get(agent)
            if before is None:
                out.notes.append(f"{agent} is not in the baseline")
                continue
            drop = round(before["score"] - s["score"], 1) + 0.0  # + 0.0: no "-0.0"
            if drop > tolerance:
                out.failures.append(f"{agent} dropped from {before['score']:.1f} to "
                                    f"{s['score']:.1f} ({0.0 - drop:+.1f}; tolerance "
                                    f"{tolerance:g})")
            else:
                out.notes.append(f"{agent}: {before['score']:.1f} → {s['score']:.1f} "
                                 f"({0.0 - drop:+.1f}; tolerance {tolerance:g})")
        old = {(r["scenario"], r["agent"]): r["score"] for r in baseline["runs"]}
        new = {(r["scenario"], r["agent"]): r["score"] for r in runs}
        for key in sorted(old.keys() | new.keys()):
            a, b = old.get(key), new.get(key)
            if a == b:
                continue
            shown_a = "-" if a is None else f"{a:g}"
            shown_b = "-" if b is None else f"{b:g}"
            delta = "" if a is None or b is None else f" ({b - a:+g})"
            out.diff.append(f"{key[0]} [{key[1]}]: {shown_a} → {shown_b}{delta}")
    return out
