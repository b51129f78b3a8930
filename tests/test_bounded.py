"""Nothing left behind, nothing unbounded: agents die with pytest however it ends (SIGTERM,
SIGKILL), a flood of output is kept bounded, a large task reaches the agent."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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


def listening(procs: list[psutil.Process]) -> set[int]:
    ports = set()
    for p in procs:
        with contextlib.suppress(psutil.Error):
            ports |= {c.laddr.port for c in p.net_connections("tcp")
                      if c.status == psutil.CONN_LISTEN}
    return ports


def refused(port: int, ours: set[int] | None = None) -> bool:
    """Nothing accepts on ``port`` (or, given the pids of ``ours``, nothing of theirs: under
    ``-n 2`` another test may have been given the same port number since)."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    if ours is None:
        return False
    owners = {c.pid for c in psutil.net_connections("tcp")
              if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN}
    return not owners & ours


@contextlib.contextmanager
def session_with_a_sleeping_agent(tmp_path: Path, *args: str,
                                  **env: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A ``pytest --chaos`` subprocess whose agent sleeps; yields it and the agent's pid once
    the agent runs, and kills what is left of it at the end."""
    (tmp_path / "sleeper.yaml").write_text(SLEEPER)
    files = ["sleeper.yaml"]
    if "--chaos-parallel" in args:  # two runs at once
        (tmp_path / "sleeper2.yaml").write_text(SLEEPER.replace("name: sleeper", "name: two"))
        files.append("sleeper2.yaml")
    (tmp_path / "tox.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pidfile = tmp_path / "agent.pid"
    environ = {**os.environ, **env, "CHAOS_TEST_PIDFILE": str(pidfile),
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--chaos", *files, "-p", "no:cacheprovider",
         "--chaos-agent", "sleeper=tests.agents.runaway:records_pid", *args],
        cwd=tmp_path, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pidfile.exists(), "the agent never started"
        time.sleep(0.3)
        yield proc, int(pidfile.read_text())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("workers", [[], ["-n", "2"], ["--chaos-parallel", "2"]],
                         ids=["serial", "xdist", "parallel"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_nothing_of_a_run_outlives_pytest(tmp_path: Path, sig: signal.Signals,
                                          workers: list[str]) -> None:
    """CI cancels with SIGTERM, or kills: within 2 s no process of the run is alive (the agent,
    what it started, its supervisor); once pytest has exited, neither are its xdist workers; no
    port listens, no temp dir is left."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    with session_with_a_sleeping_agent(tmp_path, *workers, TMPDIR=str(temp)) as (proc, agent):
        assert alive(agent)
        tree = psutil.Process(proc.pid).children(recursive=True)
        names = {}
        for p in tree:
            with contextlib.suppress(psutil.Error):
                names[p.pid] = " ".join(p.cmdline())[:120]
        assert agent in {p.pid for p in tree}
        ports = listening([psutil.Process(proc.pid), *tree])
        assert ports, "the session serves its world on loopback"
        assert [d for d in temp.iterdir() if d.name.startswith("agent-chaos-")]
        # The run's processes: all but xdist's workers (pytest itself, which exit when their
        # own pytest has unwound, reporting and tearing down fixtures like the main one).
        run = [p for p in tree if "sys.stdin.readline" not in names.get(p.pid, "")]
        proc.send_signal(sig)
        deadline = time.monotonic() + 2
        while any(alive(p.pid) for p in run) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [names.get(p.pid, p.pid) for p in run if alive(p.pid)]
        assert not left, f"alive 2 s after pytest's {sig.name}: {left}"
        out, _ = proc.communicate(timeout=10)
        left = [names.get(p.pid, p.pid) for p in tree if alive(p.pid)]
        assert not left, f"outlived pytest's {sig.name}: {left}"
        ours = {proc.pid, *(p.pid for p in tree)}
        assert not [port for port in ports if not refused(port, ours)]
        stale = [d.name for d in temp.iterdir() if not d.name.startswith("pytest-of-")]
        assert not stale, f"left behind in TMPDIR: {stale}"  # (pytest keeps its own basetemp)
        if sig == signal.SIGTERM and "-n" not in workers:  # unwound like Ctrl-C: cleanup ran
            assert b"KeyboardInterrupt" in out and b"Traceback" not in out


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


ESCAPE_MODES = {"popen", "new_session", "process_group", "fork", "double_fork", "daemon",
                "bash_disown", "sh_background", "setsid_nohup", "multiprocessing",
                "posix_spawn_setsid", "ignores_sigterm"}


def escaped(piddir: Path) -> dict[str, int]:
    return {f.name: int(f.read_text()) for f in piddir.iterdir() if f.name in ESCAPE_MODES}


@pytest.fixture
def piddir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHAOS_TEST_PIDDIR", str(tmp_path))
    return tmp_path


def test_every_way_of_detaching_ends_at_the_time_limit(starts: Runner, piddir: Path) -> None:
    """New sessions and process groups, forks, a daemon's double fork, `disown`, `setsid`,
    multiprocessing, posix_spawn, a process that ignores SIGTERM: all end with the run,
    started warm or cold."""
    scenario = scenario_from({"name": "escapes", "timeout": 4, "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}]})
    result = starts.run(scenario, "escapes=tests.agents.escapes:escapes")
    assert result.outcome.status == "timeout", result.outcome
    assert result.outcome.start == ("warm" if starts.zygotes else "cold")
    started = escaped(piddir)
    assert set(started) == ESCAPE_MODES, "the agent did not start them all"
    survivors = sorted(mode for mode, pid in started.items() if alive(pid))
    assert not survivors, f"outlived the run: {survivors}"


def test_what_an_agent_leaves_running_ends_when_it_answers(starts: Runner,
                                                            piddir: Path) -> None:
    scenario = scenario_from({"name": "leftovers", "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}]})
    result = starts.run(scenario, "leaves=tests.agents.escapes:escapes_and_answers")
    assert result.outcome.status == "completed" and result.outcome.output == "started 11"
    started = escaped(piddir)
    assert len(started) == 11
    assert not sorted(mode for mode, pid in started.items() if alive(pid))


def test_an_agent_at_its_time_limit_gets_sigterm_and_a_moment_to_flush(
        starts: Runner, piddir: Path) -> None:
    scenario = scenario_from({"name": "flush", "timeout": 2, "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}]})
    result = starts.run(scenario, "flusher=tests.agents.escapes:flushes_on_sigterm")
    assert result.outcome.status == "timeout"
    assert (piddir / "flushed").read_text() == "partial work saved"


def test_an_agent_allocating_without_bound_is_stopped_at_its_memory_limit(
        starts: Runner) -> None:
    scenario = scenario_from({"name": "hog", "timeout": 60, "memory": "256MiB",
                              "llm": [{"text": "ok"}],
                              "expect": [{"terminates": {}}, {"graceful_failure": {}}]})
    result = starts.run(scenario, "hog=tests.agents.escapes:eats_memory")
    assert result.outcome.status == "memory", result.outcome
    assert result.outcome.error.startswith("stopped at the 256 MiB memory limit: its processes "
                                           "held ")
    verdicts = {v.check: v for v in result.verdicts}
    assert not verdicts["terminates"].passed
    assert "stopped at its memory limit" in verdicts["terminates"].message
    assert not verdicts["graceful_failure"].passed
    assert not result.goal.met
    assert result.to_json()["outcome"]["status"] == "memory"


def test_sigterm_leaves_no_proxy_on_an_external_toxiproxy(tmp_path: Path,
                                                           host: ServerHost) -> None:
    from harness.network import PREFIX
    from harness.toxiproxy.client import ToxiproxyClient

    url = host.toxiproxy_url()  # a server the session does not own
    external = ToxiproxyClient(url)
    with session_with_a_sleeping_agent(tmp_path, "--toxiproxy-url", url) as (proc, _):
        ours = [n for n in external.proxies() if n.startswith(PREFIX)]
        assert ours, "the run's proxies are on the external server"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
        assert not [n for n in external.proxies() if n.startswith(PREFIX)]
