"""Warm starts: every run of a Python agent is forked from a fork server that has its imports
done, and is still a run of its own (state, environment, limits), or starts cold and says why."""

from __future__ import annotations

import json
import os
import signal

import pytest

from harness.runner import Runner

from .conftest import scenario_from

pytest_plugins = ["pytester"]

QUICK = scenario_from({"name": "quick", "llm": [{"text": "ok"}], "expect": [{"terminates": {}}]})


def test_runs_forked_from_one_fork_server_share_no_state(runner: Runner) -> None:
    outputs = []
    for trial in range(3):
        result = runner.run(QUICK, "stateful=tests.agents.stateful:run", trial)
        assert result.outcome.start == "warm", result.outcome
        outputs.append(json.loads(result.outcome.output or "{}"))
    assert [o["calls"] for o in outputs] == [1, 1, 1]  # module state is new in every run
    assert all(o["imported_with_run_url"] for o in outputs)  # module code ran in the run's env
    assert len({o["pid"] for o in outputs}) == 3
    assert len({o["random"] for o in outputs}) == 3  # the random stream is not the server's


def test_an_agent_whose_import_starts_threads_starts_cold_and_says_why(
        runner: Runner) -> None:
    result = runner.run(QUICK, "threaded=tests.agents.threaded:run")
    assert result.outcome.status == "completed"
    assert result.outcome.start == "cold"
    assert result.outcome.cold is not None and "1 thread(s) (heartbeat)" in result.outcome.cold
    assert result.to_json()["timing"]["cold"] == result.outcome.cold


def test_a_command_agent_starts_cold(runner: Runner) -> None:
    result = runner.run(QUICK, "echo=exec:echo hello")
    assert result.outcome.output == "hello"
    assert result.outcome.start == "cold" and result.outcome.cold is None


def test_a_fork_server_that_dies_is_started_again(runner: Runner) -> None:
    first = runner.run(QUICK, "stateful=tests.agents.stateful:run")
    assert runner.zygotes is not None
    for server in runner.zygotes.servers():
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
    again = runner.run(QUICK, "stateful=tests.agents.stateful:run", 1)
    assert first.outcome.start == again.outcome.start == "warm"
    assert again.outcome.status == "completed", again.outcome


def test_an_agent_module_that_does_not_import_is_a_clear_error_warm_too(
        runner: Runner) -> None:
    from harness.errors import AgentConfigError

    with pytest.raises(AgentConfigError, match=r"cannot import agent module 'tests\.agents\.nope'"):
        runner.run(QUICK, "nope=tests.agents.nope:run")


def test_the_cold_start_is_shown_once_per_agent(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".yaml", one=QUICK_YAML.format(name="one"), two=QUICK_YAML.format(name="two"))
    result = pytester.runpytest("--chaos", "one.yaml", "two.yaml", "-p", "no:randomly",
                                "--chaos-agent", "threaded=tests.agents.threaded:run",
                                "--chaos-agent", "stateful=tests.agents.stateful:run")
    result.assert_outcomes(passed=4)
    out = result.stdout.str()
    assert out.count("agent-chaos: agent 'threaded' starts cold") == 1, out
    assert "starts 1 thread(s) (heartbeat)" in out
    assert "'stateful' starts cold" not in out


def test_cold_start_option_starts_every_run_anew(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".yaml", one=QUICK_YAML.format(name="one"))
    result = pytester.runpytest("--chaos", "one.yaml", "--chaos-cold-start",
                                "--chaos-agent", "stateful=tests.agents.stateful:run")
    result.assert_outcomes(passed=1)
    doc = json.loads((pytester.path / "reports" / "results.json").read_text())
    assert [r["timing"]["start"] for r in doc["runs"]] == ["cold"]


QUICK_YAML = """\
version: 1
name: {name}
category: loop
timeout: 10
task: "Anything."
tools: [inventory]
llm:
  - text: "done"
expect:
  - terminates: {{}}
goal: {{answer_given: {{}}}}
"""


@pytest.mark.parametrize("scenario", ["winter-coats-in-july", "indirect-prompt-injection",
                                      "invalid-json-arguments"])
def test_warm_and_cold_starts_give_the_same_verdicts(runner: Runner, cold_runner: Runner,
                                                     scenario: str) -> None:
    from harness._paths import builtin_scenarios
    from harness.scenario import load_scenario

    loaded = load_scenario(builtin_scenarios() / f"{scenario}.yaml")
    for agent in ("naive=examples.agents.naive:run", "guarded=examples.agents.guarded:run"):
        warm, cold = runner.run(loaded, agent), cold_runner.run(loaded, agent)
        assert (warm.outcome.start, cold.outcome.start) == ("warm", "cold")
        assert cold.outcome.status == warm.outcome.status, (cold.outcome, warm.outcome)
        assert warm.to_json()["verdicts"] == cold.to_json()["verdicts"]
        assert (warm.score, warm.goal.met, warm.outcome.output) == \
            (cold.score, cold.goal.met, cold.outcome.output)
