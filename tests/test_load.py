"""Load: the agent as a service, many conversations through one base URL, capacity limits,
real Locust in a subprocess, the checks under load and the knee of a ramp."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.agents import Agent
from harness.load.conversations import UNATTRIBUTED, Conversations
from harness.load.spec import LoadTask
from harness.runner import Runner, RunResult
from harness.scenario import load_scenario

from .conftest import verdict

LOAD_SCENARIOS = ["fleet-inventory-exhaustion", "telecom-context-bleed",
                  "payments-brownout-under-load", "inventory-ramp-knee"]


def both(example_runs: Any, scenario: str, check: str) -> tuple[Any, Any]:
    good = verdict(example_runs(scenario, "guarded"), check)
    bad = verdict(example_runs(scenario, "naive"), check)
    assert good.passed, good.message
    assert not bad.passed, bad.message
    return good, bad


# --- the checks under load: guarded passes, naive fails, with evidence --------------------


def test_fleet_rate_limit(example_runs: Any) -> None:
    _, bad = both(example_runs, "fleet-inventory-exhaustion", "fleet_rate_limit")
    # the window, the conversations, and the refusals the storm earned
    assert " requests in 2 s (" in bad.message and "from conversations T-" in bad.message
    assert "refused with 429/503" in bad.message and bad.evidence


def test_max_concurrency(example_runs: Any) -> None:
    _, bad = both(example_runs, "fleet-inventory-exhaustion", "max_concurrency")
    assert "in flight at once at " in bad.message and "serving T-" in bad.message
    assert len(bad.evidence) > 3


def test_error_budget(example_runs: Any) -> None:
    _, bad = both(example_runs, "payments-brownout-under-load", "error_budget")
    assert "of HTTP 504" in bad.message and "no answer within the 3 s time limit" in bad.message
    assert " s and " in bad.message  # the time window of the failures


def test_latency_slo(example_runs: Any) -> None:
    _, bad = both(example_runs, "payments-brownout-under-load", "latency_slo")
    assert "p95" in bad.message and "slowest: T-" in bad.message


def test_no_cross_conversation_leak(example_runs: Any) -> None:
    _, bad = both(example_runs, "telecom-context-bleed", "no_cross_conversation_leak")
    assert bad.severity.value == "critical"
    # which conversations, about whom, when, and whose data it showed
    assert "(about C-0" in bad.message and "answered with C-0" in bad.message
    assert "carried other users' tasks in their history" in bad.message
    result = example_runs("telecom-context-bleed", "naive")
    assert result.load is not None and any(c.mixed for c in result.load.conversations.values())
    guarded = example_runs("telecom-context-bleed", "guarded")
    assert guarded.load is not None and not any(c.mixed for c in
                                                guarded.load.conversations.values())


def test_retry_amplification(example_runs: Any) -> None:
    good, bad = both(example_runs, "payments-brownout-under-load", "retry_amplification")
    assert "without them" in good.message and "calls by service: payments" in bad.message


def test_tokens_per_task(example_runs: Any) -> None:
    _, bad = both(example_runs, "fleet-inventory-exhaustion", "tokens_per_task")
    assert "the costliest: T-" in bad.message


# --- whole load runs ------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", LOAD_SCENARIOS)
def test_guarded_passes_each_load_scenario_and_naive_fails(scenario: str,
                                                           example_runs: Any) -> None:
    good, bad = example_runs(scenario, "guarded"), example_runs(scenario, "naive")
    assert good.passed, good.explain()
    assert not bad.passed
    assert good.load is not None and good.load.goal_met
    assert sum(good.load.goal_met.values()) / len(good.load.goal_met) >= 0.9


def test_locust_really_ran_and_its_stats_are_in_results(example_runs: Any) -> None:
    entry = example_runs("fleet-inventory-exhaustion", "guarded").to_json()
    locust = entry["load"]["locust"]
    assert locust["command"][1:4] == ["-m", "locust", "-f"] and "--headless" in locust["command"]
    assert locust["exit_code"] == 0 and locust["error"] is None
    stats = locust["stats"]
    assert stats["requests"] == entry["load"]["requests"]["sent"] > 20
    assert stats["failures"] == 0 and 0 < stats["median_ms"] <= stats["p95_ms"] <= stats["p99_ms"]
    assert entry["load"]["history"] and entry["load"]["generator_cpu"]
    assert entry["trace_sampled"]["kept"] <= entry["trace_sampled"]["of"]
    json.dumps(entry, allow_nan=False)


def test_the_ramp_reports_a_knee_for_naive_and_held_for_guarded(example_runs: Any) -> None:
    naive = example_runs("inventory-ramp-knee", "naive").load
    guarded = example_runs("inventory-ramp-knee", "guarded").load
    assert naive is not None and guarded is not None
    assert [s.users for s in naive.steps] == [1, 3, 5, 7]
    assert naive.knee is not None and naive.knee["verdict"] == "knee", naive.knee
    assert naive.knee["message"].startswith("holds to 1 user; breaks at 3 users: ")
    assert guarded.knee is not None and guarded.knee == {**guarded.knee, "verdict": "held"}
    assert guarded.knee["message"].startswith("held to the top step (7 users")
    assert all(not s.breaches and s.requests for s in guarded.steps)
    assert all(s.generator_cpu is not None and not s.generator_limited for s in guarded.steps)


# --- the conversation rule --------------------------------------------------------------------


def _conversations() -> Conversations:
    scenario = load_scenario(Path("scenarios/telecom-context-bleed.yaml"))
    tasks = [LoadTask(f"T-0000{n}", f"Ticket T-0000{n}: hi", {"customer_id": f"C-00{n}"},
                      f"C-00{n}") for n in (1, 2, 3)]
    return Conversations(tasks, scenario.script, 1)


def test_a_request_belongs_to_the_latest_ticket_and_records_the_mix() -> None:
    convs = _conversations()
    one, mixed = convs.identify([{"role": "system", "content": "x"},
                                 {"role": "user", "content": "Ticket T-00001: hi"}])
    assert one.ticket == "T-00001" and mixed == []
    # a shared history: two users' tasks, the newest one is being served
    two, mixed = convs.identify([{"role": "user", "content": "Ticket T-00001: hi"},
                                 {"role": "assistant", "content": "ok"},
                                 {"role": "user", "content": [{"type": "text",
                                                               "text": "Ticket T-00002: hi"}]}])
    assert two.ticket == "T-00002" and mixed == ["T-00001"] and two.mixed == {"T-00001"}
    # each conversation has its own place in the script
    assert one.cursor.next_turn()[1] == 0 and two.cursor.next_turn()[1] == 0
    assert one.cursor.next_turn()[1] == 1
    stranger, _ = convs.identify([{"role": "user", "content": "Ticket T-99999: not sent"}])
    assert stranger.ticket == UNATTRIBUTED


def test_tool_calls_go_to_the_conversation_that_was_told_to_make_them() -> None:
    convs = _conversations()
    a, _ = convs.identify([{"role": "user", "content": "Ticket T-00001"}])
    b, _ = convs.identify([{"role": "user", "content": "Ticket T-00002"}])
    convs.expect_calls(a, [("get_customer", '{"customer_id": "C-001"}')])
    convs.expect_calls(b, [("get_customer", '{"customer_id": "C-002"}')])
    assert convs.attribute("get_customer", {"customer_id": "C-002"}) == "T-00002"
    assert convs.attribute("get_customer", {"customer_id": "C-001"}) == "T-00001"
    assert convs.attribute("get_customer", {"customer_id": "C-009"}) == UNATTRIBUTED
    # a retry after a failure stays with its conversation
    failed = {"conversation": "T-00001"}
    convs.settled("get_customer", {"customer_id": "C-001"}, failed)
    assert convs.attribute("get_customer", {"customer_id": "C-001"}) == "T-00001"


def test_identical_calls_are_interchangeable_and_credit_the_conversation_that_moved_on() -> None:
    convs = _conversations()
    a, _ = convs.identify([{"role": "user", "content": "Ticket T-00001"}])
    b, _ = convs.identify([{"role": "user", "content": "Ticket T-00002"}])
    same = ("get_customer", '{"customer_id": "C-001"}')
    convs.expect_calls(a, [same])
    convs.expect_calls(b, [same])
    # b's agent sends first, but the oldest waiting conversation (a) is credited
    event = {"conversation": convs.attribute("get_customer", {"customer_id": "C-001"})}
    assert event["conversation"] == "T-00001"
    convs.succeeded("get_customer", {"customer_id": "C-001"}, event)
    convs.settled("get_customer", {"customer_id": "C-001"}, event)
    # b asks the model again: it had the answer, so the success is b's
    convs.identify([{"role": "user", "content": "Ticket T-00002"}])
    assert event["conversation"] == "T-00002"


# --- agents as services -----------------------------------------------------------------------


SERVICE_SCENARIO = """\
version: 1
name: svc
category: load
timeout: 10
task: "Which plan is customer {customer_id} on?"
tools: [crm]
load: {users: 3, duration: 3, records: crm.customers, wait: 0.1}
llm:
  - tool_call: {name: get_customer, arguments: {customer_id: "{customer_id}"}}
  - text: "Customer {customer_id} is on their plan."
goal: {tool_called: get_customer}
expect:
  - error_budget: 0.0
  - no_cross_conversation_leak: {}
"""

NODE_AGENT = r"""
// A stateless agent service in node: model, tool, model.
const http = require('http');
const base = process.env.OPENAI_BASE_URL, tools = JSON.parse(process.env.CHAOS_TOOL_URLS);
async function post(url, body) {
  const r = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json',
    authorization: 'Bearer ' + process.env.OPENAI_API_KEY}, body: JSON.stringify(body)});
  return r.json();
}
async function run(task) {
  const messages = [{role: 'user', content: task}];
  for (let step = 0; step < 4; step++) {
    const reply = await post(base + '/chat/completions', {model: 'm', messages,
      tools: [{type: 'function', function: {name: 'get_customer', parameters: {}}}]});
    const message = reply.choices[0].message;
    messages.push(message);
    if (!message.tool_calls) return message.content;
    for (const call of message.tool_calls) {
      const result = await post(tools.crm + '/tools/' + call.function.name,
                                JSON.parse(call.function.arguments));
      messages.push({role: 'tool', tool_call_id: call.id, content: JSON.stringify(result)});
    }
  }
  return 'gave up';
}
http.createServer((req, res) => {
  let body = '';
  req.on('data', c => body += c);
  req.on('end', async () => {
    const output = await run(JSON.parse(body).task);
    res.writeHead(200, {'content-type': 'application/json'});
    res.end(JSON.stringify({output}));
  });
}).listen(Number(process.env.CHAOS_AGENT_PORT), '127.0.0.1');
"""


def _load_run(runner: Runner, tmp_path: Path, agent: str, text: str = SERVICE_SCENARIO
              ) -> RunResult:
    path = tmp_path / "svc.yaml"
    path.write_text(text)
    return runner.run(load_scenario(path), Agent.parse(agent))


@pytest.mark.skipif(shutil.which("node") is None and not os.environ.get("CI"),
                    reason="node is not installed (CI installs it)")
def test_a_serve_agent_written_in_node_is_loaded(runner: Runner, tmp_path: Path) -> None:
    script = tmp_path / "agent.js"
    script.write_text(NODE_AGENT)
    result = _load_run(runner, tmp_path, f"node=serve:node {script}")
    assert result.passed, result.explain()
    assert result.load is not None and len(result.load.requests) >= 10
    assert all(r.ok and r.answer and "is on their plan" in r.answer for r in result.load.requests)


def test_a_serve_agent_runs_single_scenarios_too(runner: Runner, tmp_path: Path) -> None:
    scenario = load_scenario(Path("scenarios/hallucinated-tool.yaml"))
    agent = f"svc=serve:{sys.executable} -m harness._agent_service examples.agents.guarded:run"
    result = runner.run(scenario, Agent.parse(agent))
    assert result.passed, result.explain()
    assert result.outcome.output and "COAT-01" in result.outcome.output


def test_an_exec_agent_under_load_is_a_clear_error(runner: Runner, tmp_path: Path) -> None:
    from harness.errors import AgentConfigError

    with pytest.raises(AgentConfigError, match="runs one task and exits; under load the "
                                               "harness needs an agent that serves many"):
        _load_run(runner, tmp_path, "cmd=exec:true")
    with pytest.raises(AgentConfigError, match="bad command: No closing quotation"):
        _load_run(runner, tmp_path, "svc=serve:node 'agent.js")


def test_a_service_that_dies_at_start_is_a_crashed_run_with_its_last_words(
        runner: Runner, tmp_path: Path) -> None:
    result = _load_run(runner, tmp_path, f"dead=serve:{sys.executable} -c "
                                         f"\"import sys; sys.exit('no config file')\"")
    assert result.outcome.status == "crashed"
    assert "exited before it listened" in (result.outcome.error or "")
    assert "no config file" in (result.outcome.error or "")
    assert not result.passed and result.score == 0


# --- Locust: processes and distributed workers -----------------------------------------------


def _tickets(result: RunResult) -> list[str]:
    assert result.load is not None
    return [r.ticket for r in result.load.requests if r.ticket]


def test_processes_2_runs_two_locust_processes_that_share_the_tasks(runner: Runner,
                                                                    tmp_path: Path) -> None:
    text = SERVICE_SCENARIO.replace("wait: 0.1}", "wait: 0.1, processes: 2}")
    result = _load_run(runner, tmp_path, "guarded=examples.agents.guarded:run", text)
    assert result.passed, result.explain()
    command = result.to_json()["load"]["locust"]["command"]
    assert command[command.index("--processes") + 1] == "2"
    tickets = _tickets(result)
    assert len(tickets) == len(set(tickets)) > 10  # no task sent twice
    numbers = {int(t[2:]) % 2 for t in tickets}
    assert numbers == {0, 1}  # each process sent its own share


def test_a_locust_master_waits_for_two_workers_on_loopback(host: Any, tmp_path: Path) -> None:
    import socket
    import subprocess

    from harness.load.run import LoadOptions

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    distributed = Runner(host, seed=0, load_options=LoadOptions(2, ("127.0.0.1", port)))
    workers = [subprocess.Popen(
        [sys.executable, "-m", "locust", "--worker", "--master-host", "127.0.0.1",
         "--master-port", str(port), "-f", "-", "--loglevel", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(2)]
    try:
        result = _load_run(distributed, tmp_path, "guarded=examples.agents.guarded:run")
    finally:
        for worker in workers:
            try:
                worker.wait(timeout=20)  # a worker quits with its master
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        distributed.close()
    assert result.passed, result.explain()
    command = result.to_json()["load"]["locust"]["command"]
    assert "--master" in command and command[command.index("--expect-workers") + 1] == "2"
    tickets = _tickets(result)
    assert len(tickets) == len(set(tickets)) > 10
    assert {int(t[2:]) % 2 for t in tickets} == {0, 1}
    assert all(w.returncode is not None for w in workers)


# --- nothing left behind ------------------------------------------------------------------------


def _tree() -> dict[int, str]:
    import psutil

    out = {}
    for p in psutil.Process().children(recursive=True):
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                out[p.pid] = " ".join(p.cmdline())[:100]
        except psutil.Error:
            continue
    return out


def test_a_load_run_leaves_no_process_or_listener_and_imports_no_locust(
        runner: Runner, tmp_path: Path) -> None:
    before = _tree()
    result = _load_run(runner, tmp_path, "guarded=examples.agents.guarded:run")
    assert result.load is not None and result.load.requests
    left = {pid: cmd for pid, cmd in _tree().items() if pid not in before}
    assert not left, f"left running after the load run: {left}"
    assert "locust" not in sys.modules and "gevent" not in sys.modules


CRASHER = """\
import json, os, sys, http.server
count = 0
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        count += 1
        if count > 5:
            os._exit(3)  # dies mid-run, with requests in flight
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"output": "basic"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["CHAOS_AGENT_PORT"])),
                                Handler).serve_forever()
"""


def test_a_service_that_dies_mid_run_fails_the_run_and_leaves_nothing(
        runner: Runner, tmp_path: Path) -> None:
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER)
    before = _tree()
    result = _load_run(runner, tmp_path, f"crasher=serve:{sys.executable} {script}")
    assert result.outcome.status == "crashed"
    assert "the service exited (code 3)" in (result.outcome.error or "")
    assert result.load is not None and any(not r.ok for r in result.load.requests)
    assert verdict(result, "error_budget").passed is False
    assert not {pid: cmd for pid, cmd in _tree().items() if pid not in before}


def test_ctrl_c_during_a_load_run_leaves_nothing_behind(tmp_path: Path) -> None:
    import contextlib
    import os
    import signal
    import subprocess
    import time

    import psutil

    from .test_bounded import alive, listening, refused

    (tmp_path / "svc.yaml").write_text(SERVICE_SCENARIO.replace("duration: 3", "duration: 60"))
    (tmp_path / "tox.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    temp = tmp_path / "tmp"
    temp.mkdir()
    environ = {**os.environ, "TMPDIR": str(temp),
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--chaos", "svc.yaml", "-p", "no:cacheprovider",
         "--chaos-agent", "guarded=examples.agents.guarded:run"],
        cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        tree: list[psutil.Process] = []
        while time.monotonic() < deadline:
            tree = psutil.Process(proc.pid).children(recursive=True)
            commands = []
            for p in tree:
                with contextlib.suppress(psutil.Error):
                    commands.append(" ".join(p.cmdline()))
            if any("-m locust" in c for c in commands) and \
                    any("_agent_service" in c for c in commands):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the load never started")
        time.sleep(2)  # Locust's users are sending tasks
        ports = listening([psutil.Process(proc.pid), *tree])
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        left = [p.pid for p in tree if alive(p.pid)]
        assert not left, f"alive after Ctrl-C: {left}"
        assert ports and not [port for port in ports if not refused(port)]
        stale = [d.name for d in temp.iterdir() if not d.name.startswith("pytest-of-")]
        assert not stale, f"left behind in TMPDIR: {stale}"
        assert b"KeyboardInterrupt" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


USER_LOCUSTFILE = """\
from locust import task

from harness.load.user import ChaosUser


class Customer(ChaosUser):
    @task
    def ask(self):
        self.send_task(self.next_task())
"""


def test_a_users_own_locustfile_gets_the_agent_as_host_and_the_tasks(runner: Runner,
                                                                     tmp_path: Path) -> None:
    (tmp_path / "customers.py").write_text(USER_LOCUSTFILE)
    text = SERVICE_SCENARIO.replace("wait: 0.1}", "wait: 0.1, locustfile: customers.py}")
    result = _load_run(runner, tmp_path, "guarded=examples.agents.guarded:run", text)
    assert result.passed, result.explain()
    command = result.to_json()["load"]["locust"]["command"]
    assert command[command.index("-f") + 1] == str(tmp_path / "customers.py")
    assert command[command.index("--host") + 1].startswith("http://127.0.0.1:")
    assert len(_tickets(result)) > 10
