"""The agent-chaos command, as users run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness._paths import builtin_scenarios

THREE_MISTAKES = """\
version: 1
name: three-mistakes
category: securty
task: "Check stock."
tools: [inventory]
llm:
  - tool_cal: {name: get_stock}
expect:
  - terminates: {severity: urgent}
goal: {answer_given: {}}
"""


def agent_chaos(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True,
                          text=True, timeout=60)


def test_validate_reports_every_mistake_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(THREE_MISTAKES)
    result = agent_chaos("validate", str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:3:11: category: Input should be")
    assert "(did you mean 'security'?)" in lines[0]
    assert lines[1].startswith(f"{path}:7:5: llm[0].tool_cal: unknown behaviour 'tool_cal' "
                               f"(did you mean 'tool_call'?)")
    assert lines[2].startswith(f"{path}:9:28: expect[0].terminates.severity: Input should be "
                               f"'critical', 'high', 'medium' or 'low' (got 'urgent')")
    assert lines[3] == "0 valid, 1 invalid scenario file"
    assert "Traceback" not in result.stderr + result.stdout


def test_validate_a_folder_of_valid_scenarios() -> None:
    result = agent_chaos("validate", str(builtin_scenarios()))
    count = len(list(builtin_scenarios().glob("*.yaml")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{count} valid, 0 invalid scenario files"


def test_validate_a_missing_file(tmp_path: Path) -> None:
    result = agent_chaos("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "nope.yaml: cannot read:" in result.stderr and "Traceback" not in result.stderr


def test_schema_prints_json_schema() -> None:
    result = agent_chaos("schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "pytest-agent-chaos scenario (version 1)"
    assert "tool_call" in json.dumps(schema["$defs"]["turn"])


def test_list_names_behaviours_checks_and_tools() -> None:
    out = agent_chaos("list").stdout
    for name in ("obey_injection", "honors_retry_after", "crm", "winter-coats-in-july",
                 "record_written", "all_of", "answer_mentions", "reset_peer"):
        assert name in out


def test_standalone_toxiproxy_server() -> None:
    import socket
    import time

    from .toxiproxy_helpers import Api

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "toxiproxy", "--port",
                             str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(f"Toxiproxy-compatible API on "
                                                 f"http://127.0.0.1:{port}")
        api = Api(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 10
        while api("GET", "/proxies")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert api("GET", "/proxies") == (200, {})
    finally:
        proc.terminate()
        proc.wait(10)
        assert proc.stdout is not None
        proc.stdout.close()


def test_report_renders_a_results_file_and_refuses_other_json(tmp_path: Path) -> None:
    from harness._pytest.report import build_results

    doc = build_results([], seed=3)
    (tmp_path / "results.json").write_text(json.dumps(doc))
    out = tmp_path / "page.html"
    result = agent_chaos("report", str(tmp_path / "results.json"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out) and "seed <b id=\"seed\">3</b>" in out.read_text()
    (tmp_path / "other.json").write_text('{"version": 1, "runs": "no"}')
    bad = agent_chaos("report", str(tmp_path / "other.json"))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "not a results.json of pytest-agent-chaos" in bad.stderr


def test_report_still_reads_a_results_file_from_before_goals(tmp_path: Path) -> None:
    """results.json stayed version 1: a file written before goals and scoring v3 renders."""
    old = {
        "version": 1, "tool": {"name": "pytest-agent-chaos", "version": "0.1.0"}, "seed": 0,
        "scoring": {"weights": {"critical": 8}, "run_score": "…", "agent_score": "…"},
        "agents": {"naive": {"score": 40.0, "interval": [10.0, 70.0],
                             "categories": {"loop": 40.0},
                             "weakest": {"category": "loop", "score": 40.0}, "runs": 1,
                             "passed": 0, "critical_breaches": 1,
                             "scenarios": {"s": {"trials": 1, "passed": 0, "pass_rate": 0.0,
                                                 "pass_k": 0.0}}}},
        "runs": [{"scenario": "s", "category": "loop", "agent": "naive", "seed": 1,
                  "session": "s.naive.0", "passed": False, "score": 40.0, "faults": [],
                  "source": "/abs/s.yaml",
                  "outcome": {"status": "completed", "output": "hi", "error": None,
                              "exit_code": None},
                  "verdicts": [{"check": "terminates", "passed": False, "severity": "high",
                                "message": "looped", "evidence": [], "params": {}}],
                  "trace": [], "trace_dropped": 0, "state": {},
                  "timing": {"duration": 1.0, "events": {}}}],
    }
    (tmp_path / "old.json").write_text(json.dumps(old))
    out = tmp_path / "old.html"
    result = agent_chaos("report", str(tmp_path / "old.json"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert "loop 40.0" in html and "terminates" in html and "goal missed" not in html
