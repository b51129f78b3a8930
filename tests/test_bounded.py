"""Nothing left behind, nothing unbounded: agents die with pytest however it ends (SIGTERM,
SIGKILL), a flood of output is kept bounded, a large task reaches the agent."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness.runner import Runner
from harness.servers import ServerHost

from .conftest import scenario_from

pytestmark = pytest.mark.hostile
pytest_plugins = ["pytester"]

SLEEPER = """\
version: 1
name: sleeper
category: loop
timeout: 60
task: "Anything."
tools: [inventory]
llm:
  - text: "done"
goal: {answer_given: {}}
expect:
  - terminates: {}
"""


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_agent_dies_with_pytest(tmp_path: Path, sig: signal.Signals) -> None:
    (tmp_path / "sleeper.yaml").write_text(SLEEPER)
    (tmp_path / "tox.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pidfile = tmp_path / "agent.pid"
    env = {**os.environ, "CHAOS_TEST_PIDFILE": str(pidfile),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--chaos", "sleeper.yaml", "-p", "no:cacheprovider",
         "--chaos-agent", "sleeper=tests.agents.runaway:records_pid"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pidfile.exists(), "the agent never started"
        time.sleep(0.2)
        agent = int(pidfile.read_text())
        assert alive(agent)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=10)
        deadline = time.monotonic() + 2
        while alive(agent) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(agent), f"the agent outlived pytest's {sig.name}"
        if sig == signal.SIGTERM:  # unwound like Ctrl-C: the session's cleanup ran
            assert b"KeyboardInterrupt" in out and b"Traceback" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_flood_of_output_is_kept_bounded(runner: Runner) -> None:
    scenario = scenario_from({"name": "flood", "timeout": 30, "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}]})
    me = psutil.Process()
    before = me.memory_info().rss
    result = runner.run(scenario, "flood=tests.agents.runaway:floods_stdout")
    assert result.outcome.status == "completed" and result.outcome.output == "flooded"
    assert len(result.outcome.log) <= 4000
    assert me.memory_info().rss - before < 200 * 2**20  # not the 2 GiB it wrote


def test_a_flooding_command_agent_keeps_the_head_of_its_answer(runner: Runner) -> None:
    scenario = scenario_from({"name": "flood-cmd", "timeout": 30, "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}]})
    code = "import os\nfor _ in range(512): os.write(1, b'y' * (1 << 20))"
    result = runner.run(scenario, f"cmd=exec:{sys.executable} -c \"{code}\"")
    output = result.outcome.output or ""
    assert result.outcome.status == "completed"
    assert output.startswith("y" * 1000) and output.endswith("more bytes]")
    assert len(output) < 1_100_000


def test_a_200_kib_task_reaches_the_agent(runner: Runner) -> None:
    task = "x" * 200 * 1024
    scenario = scenario_from({"name": "big-task", "task": task, "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}]})
    result = runner.run(scenario, "big=tests.agents.runaway:echoes_task_size")
    assert result.outcome.status == "completed", result.outcome
    assert result.outcome.output == str(len(task))
    command = runner.run(scenario, f"cmd=exec:{sys.executable} -c \"import json, os; "
                                   f"print(len(json.load(open(os.environ['CHAOS_TASK_FILE']))))\"")
    assert command.outcome.output == str(len(task)), command.outcome


def test_proxies_a_dead_session_left_are_removed_by_the_next(pytester: pytest.Pytester,
                                                               host: ServerHost) -> None:
    """After a SIGKILL, an external Toxiproxy keeps the session's proxies: the next session
    removes them (and says so) instead of failing on a name that is taken."""
    from harness.network import PREFIX, owner_token
    from harness.toxiproxy.client import ToxiproxyClient

    url = host.toxiproxy_url()  # a server the session does not own
    external = ToxiproxyClient(url)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = f"{PREFIX}{owner_token(dead.pid)}.coats.naive.0.llm"
    mine = f"{PREFIX}{owner_token()}.coats.naive.0.llm"  # a live session's: kept
    for name in (left, mine):
        external.create(name, upstream="127.0.0.1:9")
    try:
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makefile(".yaml", sleeper=SLEEPER.replace("timeout: 60", "timeout: 5"))
        result = pytester.runpytest("--chaos", "sleeper.yaml", "--toxiproxy-url", url,
                                    "--chaos-agent", "quick=tests.agents.useless:refuse")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines([f"agent-chaos: removed 1 proxies that a session which "
                                     f"died had left on {url}: {left}"])
        names = set(external.proxies())
        assert left not in names and mine in names
        assert not [n for n in names if n.startswith(PREFIX) and n != mine]
    finally:
        for name in (left, mine):
            with contextlib.suppress(Exception):
                external.delete(name)
