"""Runaway agents are stopped at the scenario's time limit, fail `terminates`, and leave
nothing behind: no thread, process or listening socket."""

from __future__ import annotations

import json
import threading

import psutil
import pytest

from harness.servers import ServerHost
from harness.toxiproxy.client import ToxiproxyClient

pytest_plugins = ["pytester"]

SCENARIO = """\
version: 1
name: runaway
category: loop
timeout: 2
task: "Anything."
tools: [inventory]
llm:
  - text: "done"
expect:
  - terminates: {}
goal: {answer_given: {}}
"""


def listening() -> set[tuple[str, int]]:
    return {(c.laddr.ip, c.laddr.port) for c in psutil.Process().net_connections("tcp")
            if c.status == psutil.CONN_LISTEN}


def processes() -> set[int]:
    """This process's children and theirs (the fork servers of a runner another test holds
    open among them: compare against a snapshot)."""
    return {p.pid for p in psutil.Process().children(recursive=True)}


def session_threads() -> set[threading.Thread]:
    """This process's threads, but for the executor threads of the outer test session's own
    server loop (``host``), which asyncio starts on the first name lookup it makes."""
    return {t for t in threading.enumerate() if not t.name.startswith("asyncio_")}


def test_runaway_agents_are_stopped_and_leave_nothing(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n"
                     "filterwarnings = error::ResourceWarning\n")
    pytester.makefile(".yaml", runaway=SCENARIO)
    pytester.makepyfile(test_after="def test_the_suite_goes_on():\n    assert True\n")
    threads, sockets, children = session_threads(), listening(), processes()
    agents = ["busy=tests.agents.runaway:busy_loop", "sleeper=tests.agents.runaway:sleeps_forever",
              "toolloop=tests.agents.runaway:tool_loop", "forker=tests.agents.runaway:spawns_child"]
    args = ["--chaos", "runaway.yaml", "test_after.py", "-p", "no:randomly"]
    for spec in agents:
        args += ["--chaos-agent", spec]
    result = pytester.runpytest(*args)
    result.assert_outcomes(failed=4, passed=1)
    result.stdout.fnmatch_lines(["*terminates [[]critical[]]: the agent was still running at "
                                 "the 2 s time limit and was stopped*"] * 4)
    doc = json.loads((pytester.path / "reports" / "results.json").read_text())
    runs = {r["agent"]: r for r in doc["runs"]}
    assert {a: r["outcome"]["status"] for a, r in runs.items()} == dict.fromkeys(
        ("busy", "sleeper", "toolloop", "forker"), "timeout")
    for run in runs.values():
        assert run["timing"]["duration"] < 5
        assert run["timing"]["start"] == "warm"  # forked from its fork server
    assert len(runs["toolloop"]["trace"]) > 5  # it really was hammering the tool API

    assert session_threads() <= threads
    assert listening() <= sockets
    assert processes() <= children
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if "time.sleep(10_000)" in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []


FAULTED = """\
version: 1
name: faulted
category: network
timeout: 2
task: "Anything."
tools: [inventory]
llm:
  - text: "done"
faults:
  - latency: {target: llm, latency: 50}
  - hang: {target: inventory.get_stock}
  - timeout: {target: inventory, when: {from_step: 1}}
expect:
  - terminates: {}
goal: {answer_given: {}}
"""

USER_TEST = """\
from pathlib import Path

def test_fails_while_a_fault_holds_a_connection(chaos):
    result = chaos.run(Path("faulted.yaml"), "tests.agents.runaway:tool_loop")
    assert result.passed, "the agent was stuck in a hung call"
"""


def test_a_failure_mid_fault_leaves_no_proxy_connection_or_task(pytester: pytest.Pytester,
                                                               host: ServerHost) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n"
                     "filterwarnings = error::ResourceWarning\n")
    pytester.makefile(".yaml", faulted=FAULTED)
    pytester.makepyfile(test_user=USER_TEST)
    external = ToxiproxyClient(host.toxiproxy_url())  # a server the session does not own
    before = set(external.proxies())
    threads, sockets, children = session_threads(), listening(), processes()
    result = pytester.runpytest("--chaos", "faulted.yaml", "test_user.py", "-p", "no:randomly",
                                "--toxiproxy-url", host.toxiproxy_url(),
                                "--chaos-agent", "toolloop=tests.agents.runaway:tool_loop",
                                "--chaos-agent", "sleeper=tests.agents.runaway:sleeps_forever")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*the agent was stuck in a hung call*"])
    assert "ResourceWarning" not in result.stdout.str() + result.stderr.str()
    assert set(external.proxies()) == before  # exactly the proxies it made were removed
    assert session_threads() <= threads
    assert listening() <= sockets
    assert processes() <= children
