from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness._paths import builtin_scenarios
from harness.runner import Runner, RunResult
from harness.scenario import load_scenario, parse_scenario
from harness.servers import ServerHost

NAIVE = "naive=examples.agents.naive:run"
GUARDED = "guarded=examples.agents.guarded:run"
#: Test agents beyond the examples, by name.
AGENTS = {"naive": NAIVE, "guarded": GUARDED, "repair": "repair=tests.agents.repair:run"}


REPORTS = Path(__file__).resolve().parent.parent / "reports"


def _reports() -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in REPORTS.glob("*")} if REPORTS.is_dir() else {}


@pytest.fixture(scope="session", autouse=True)
def reports_untouched() -> Iterator[None]:
    """Tests write their reports to temporary directories: reports/ holds the user's demo."""
    before = _reports()
    yield
    assert _reports() == before, "a test wrote into reports/ (use tmp_path)"


@pytest.fixture(scope="session")
def host() -> Iterator[ServerHost]:
    server = ServerHost()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def runner(request: pytest.FixtureRequest, host: ServerHost) -> Iterator[Runner]:
    run = Runner(host, seed=0, toxiproxy_url=request.config.getoption("toxiproxy_url"))
    yield run
    run.close()


@pytest.fixture(scope="session")
def cold_runner(request: pytest.FixtureRequest, host: ServerHost) -> Iterator[Runner]:
    """A runner that starts every agent as a new interpreter (``--chaos-cold-start``)."""
    run = Runner(host, seed=0, toxiproxy_url=request.config.getoption("toxiproxy_url"),
                 warm=False)
    yield run
    run.close()


@pytest.fixture(params=["warm", "cold"])
def starts(request: pytest.FixtureRequest) -> Runner:
    """The runner, with warm starts (forked from a fork server) and with cold ones."""
    fixture = "runner" if request.param == "warm" else "cold_runner"
    runner: Runner = request.getfixturevalue(fixture)
    return runner


@pytest.fixture
def register(host: ServerHost, runner: Runner) -> Iterator[Any]:
    """``register(doc)`` makes a run's world from a scenario doc (see ``scenario_from``) and
    serves it on the host, with no agent: for tests that talk to the servers directly. Gives
    back the session id; the worlds are removed afterwards."""
    from harness.world.run import RunWorld

    worlds: list[RunWorld] = []

    def make(doc: dict[str, Any]) -> str:
        scenario = scenario_from({"expect": [{"terminates": {}}], **doc})
        world = RunWorld(scenario, f"{doc['name']}-{len(worlds)}-{time.monotonic_ns()}", 1,
                         runner.catalog)
        host.register(world)
        worlds.append(world)
        return world.session_id

    yield make
    for world in worlds:
        host.unregister(world)


def scenario_from(doc: dict[str, Any], catalog: Any = None) -> Any:
    base = {"version": 1, "category": "data_integrity", "timeout": 20, "task": "do it",
            "tools": ["inventory"], "goal": {"answer_given": {}}}
    return parse_scenario({**base, **doc}, catalog=catalog)


@pytest.fixture(scope="session")
def example_runs(runner: Runner) -> Any:
    """Runs of the built-in scenarios against the example agents, each made once."""
    cache: dict[tuple[str, str], RunResult] = {}

    def get(scenario: str, agent: str) -> RunResult:
        key = (scenario, agent)
        if key not in cache:
            spec = AGENTS[agent]
            cache[key] = runner.run(load_scenario(builtin_scenarios() / f"{scenario}.yaml"),
                                    spec)
        return cache[key]

    return get


def verdict(result: RunResult, check: str) -> Any:
    found = [v for v in result.verdicts if v.check == check]
    assert found, f"{check} not evaluated in {result.scenario.name}"
    return found[0]
