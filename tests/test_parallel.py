"""``--chaos-parallel N``: runs at once in one pytest process, reported as a serial session
reports them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

AGENTS = ["--chaos-agent", "naive=examples.agents.naive:run",
          "--chaos-agent", "guarded=examples.agents.guarded:run"]
BUILTIN = ["winter-coats-in-july", "hung-inventory-api", "rate-limit-storm",
           "indirect-prompt-injection", "looping-model"]


def judged(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What a run decided, in results.json order (not its timing or session id)."""
    return [(r["scenario"], r["agent"], r["seed"], r["passed"], r["score"],
             r["outcome"]["status"], [(v["check"], v["passed"]) for v in r["verdicts"]],
             r.get("steady_state", {}).get("verdict")) for r in doc["runs"]]


def session(pytester: pytest.Pytester, *args: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    root = Path(__file__).resolve().parent.parent
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for name in BUILTIN:
        pytester.makefile(".yaml", **{name: (root / "scenarios" / f"{name}.yaml").read_text()})
    files = [f"{name}.yaml" for name in BUILTIN]
    result = pytester.runpytest("--chaos", *files, *AGENTS, "-p", "no:randomly",
                                "--chaos-results", "out.json", "-v", *args)
    # The verbose progress lines ("path::item PASSED  [ 10%]"), in the order pytest wrote them.
    lines = [line for line in result.outlines
             if "::" in line and (" PASSED" in line or " FAILED" in line)]
    doc = json.loads((pytester.path / "out.json").read_text())
    return lines, judged(doc)


def test_parallel_runs_report_what_a_serial_session_reports(pytester: pytest.Pytester) -> None:
    serial = session(pytester)
    parallel = session(pytester, "--chaos-parallel", "3")
    assert len(serial[1]) == 2 * len(BUILTIN)
    assert parallel == serial  # the same lines in the same order, the same verdicts


def test_runs_at_once_take_about_the_time_of_the_slowest(pytester: pytest.Pytester) -> None:
    """Four agents that sleep to their 2 s limit: with four at once, the session takes about
    one limit, not four (loosely: under 0.75x the serial session, start-up included)."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for n in range(4):
        pytester.makefile(".yaml", **{f"s{n}": SLEEPY.format(n=n)})
    took = {}
    for label, extra in (("serial", []), ("parallel", ["--chaos-parallel", "4"])):
        result = pytester.runpytest("--chaos", *[f"s{n}.yaml" for n in range(4)], *extra,
                                    "--chaos-results", "out.json", "--chaos-agent",
                                    "sleeper=tests.agents.runaway:sleeps_forever")
        result.assert_outcomes(failed=4)
        runs = json.loads((pytester.path / "out.json").read_text())["runs"]
        assert [r["outcome"]["status"] for r in runs] == ["timeout"] * 4
        assert [r["scenario"] for r in runs] == ["s0", "s1", "s2", "s3"]
        took[label] = result.duration
    assert took["parallel"] < 0.75 * took["serial"], took


def test_parallel_needs_a_sensible_number(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--chaos", "--chaos-parallel", "zero")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--chaos-parallel='zero': expected a number of scenario runs "
                                 "at once from 1 to 64*"])


SLEEPY = """\
version: 1
name: s{n}
category: loop
timeout: 2
task: "Anything."
tools: [inventory]
llm:
  - text: "done"
expect:
  - terminates: {{}}
goal: {{answer_given: {{}}}}
"""
