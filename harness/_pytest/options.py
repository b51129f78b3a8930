"""Command-line and ini options. Precedence: command line > ini > default."""

from __future__ import annotations

import pytest


def seed_type(value: str) -> int | str:
    """``--chaos-seed``: an integer, ``last`` (the previous run's seed) or ``random``."""
    if value in ("last", "random"):
        return value
    try:
        seed = int(value)
    except ValueError:
        raise pytest.UsageError(
            f"--chaos-seed={value!r}: expected an integer, 'last' (reuse the previous run's "
            f"seed) or 'random' (pick one and print it)"
        ) from None
    if seed < 0:
        raise pytest.UsageError(f"--chaos-seed={value}: the seed must be 0 or more")
    return seed


def repeat_type(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        k = 0
    if not 1 <= k <= 1000:
        raise pytest.UsageError(f"--chaos-repeat={value!r}: expected a whole number of trials "
                                f"from 1 to 1000")
    return k


def trial_type(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        k = -1
    if not 0 <= k < 1000:
        raise pytest.UsageError(f"--chaos-trial={value!r}: expected a trial number from 0 to "
                                f"999 (as a reproduce line prints it)")
    return k


def workers_type(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = -1
    if not 0 <= n <= 1000:
        raise pytest.UsageError(f"--chaos-load-workers={value!r}: expected a number of Locust "
                                f"workers from 0 to 1000")
    return n


def parallel_type(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= 64:
        raise pytest.UsageError(f"--chaos-parallel={value!r}: expected a number of scenario "
                                f"runs at once from 1 to 64")
    return n


def master_type(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise pytest.UsageError(f"--chaos-load-master={value!r}: expected HOST:PORT, e.g. "
                                f"127.0.0.1:5557")
    return host.strip("[]"), int(port)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("agent-chaos", "chaos testing of LLM agents (pytest-agent-chaos)")
    group.addoption("--chaos", action="store_true", default=False,
                    help="run the chaos scenarios (YAML files under chaos_paths or given as "
                         "arguments); without it they are collected and skipped")
    group.addoption("--chaos-seed", type=seed_type, default=None, metavar="SEED",
                    help="the seed every random choice derives from: an integer, 'last' or "
                         "'random' (default: the chaos_seed ini value, else 0)")
    group.addoption("--chaos-agent", action="append", default=[], metavar="NAME=module:attr",
                    help="an agent under test (repeatable): NAME=module:attr for a Python "
                         "callable run(task, env), NAME=exec:COMMAND for a command, "
                         "NAME=serve:COMMAND for a service on $CHAOS_AGENT_PORT; replaces the "
                         "chaos_agents ini list")
    group.addoption("--chaos-results", default=None, metavar="PATH",
                    help="where to write results.json (default: reports/results.json under "
                         "the rootdir)")
    group.addoption("--chaos-report", default=None, metavar="PATH",
                    help="where to write the HTML resilience report (default: "
                         "reports/index.html under the rootdir)")
    group.addoption("--chaos-repeat", type=repeat_type, default=None, metavar="K",
                    help="run every scenario K times per agent (trials with their own seeds); "
                         "overrides the scenarios' own 'repeat'")
    group.addoption("--chaos-trial", type=trial_type, default=None, metavar="N",
                    help="run only trial N of each scenario, with its own seed (to reproduce "
                         "one failed trial)")
    group.addoption("--chaos-no-steady-state", action="store_true", default=False,
                    help="skip the fault-free run of each scenario with faults (the steady "
                         "state that utility and degradation are measured against)")
    group.addoption("--chaos-min-score", type=float, default=None, metavar="N",
                    help="exit non-zero if any agent's score is below N (0-100)")
    group.addoption("--chaos-baseline", default=None, metavar="FILE",
                    help="a previous results.json: exit non-zero if an agent's score dropped "
                         "by more than --chaos-tolerance, and show the per-scenario diff")
    group.addoption("--chaos-tolerance", type=float, default=1.0, metavar="POINTS",
                    help="how many points a score may drop against --chaos-baseline "
                         "(default 1.0)")
    group.addoption("--chaos-allow-remote", action="store_true", default=False,
                    help="let scenarios name upstreams that are not on this machine "
                         "(by default only loopback addresses are accepted)")
    group.addoption("--chaos-load-workers", type=workers_type, default=0, metavar="N",
                    help="run load scenarios' Locust as a master that waits for N workers "
                         "(started elsewhere: locust --worker -f - --master-host HOST "
                         "--master-port PORT)")
    group.addoption("--chaos-load-master", type=master_type, default=("127.0.0.1", 5557),
                    metavar="HOST:PORT",
                    help="where that Locust master listens for its workers (default "
                         "127.0.0.1:5557; another interface needs --chaos-allow-remote)")
    group.addoption("--chaos-record", default=None, metavar="URL",
                    help="record mode: send the agents' model requests to this real endpoint "
                         "(its root, e.g. https://api.openai.com) while the tools stay mocked; "
                         "each run is saved as a vcrpy cassette and a scenario that replays it")
    group.addoption("--chaos-record-dir", default=None, metavar="DIR",
                    help="where recordings go (default: cassettes/ under the rootdir)")
    group.addoption("--chaos-record-key-env", default=None, metavar="NAME",
                    help="the environment variable that holds the recorded endpoint's API key "
                         "(sent as the API wants it; never written to a cassette)")
    group.addoption("--chaos-explore", type=int, default=None, metavar="N",
                    help="instead of one run, search N fault schedules per scenario and "
                         "agent with hypothesis (agent-chaos explore); a failure is shrunk and "
                         "written as a regression scenario")
    group.addoption("--chaos-mocks", action="append", default=[], metavar="DIR",
                    help="a folder of your own tool APIs (DIR/tools/*.yaml) and payloads "
                         "(DIR/payloads/), added to the built-in ones (repeatable; replaces "
                         "the chaos_mocks ini list)")
    group.addoption("--chaos-parallel", type=parallel_type, default=None, metavar="N",
                    help="run up to N scenario runs at once in this pytest process (threads; "
                         "agents are processes); output, results.json and verdicts are those "
                         "of a serial run. Load scenarios still run alone")
    group.addoption("--chaos-cold-start", action="store_true", default=False,
                    help="start every run of a Python agent as a new interpreter, instead of "
                         "forking it from a fork server that has its imports done")
    group.addoption("--toxiproxy-url", default=None, metavar="URL",
                    help="use this real toxiproxy-server (e.g. http://127.0.0.1:8474) for "
                         "network faults instead of the embedded one")
    parser.addini("chaos_agents", type="linelist", default=[],
                  help="agents under test, one NAME=module:attr (or NAME=exec:COMMAND, "
                       "NAME=serve:COMMAND) a line")
    parser.addini("chaos_paths", type="paths", default=[],
                  help="folders whose *.yaml files are chaos scenarios")
    parser.addini("chaos_mocks", type="paths", default=[],
                  help="folders of your own tool APIs (tools/*.yaml) and payloads, added to "
                       "the built-in ones")
    parser.addini("chaos_extensions", type="linelist", default=[],
                  help="modules that define your own checks, goals, behaviours and faults "
                       "(imported at start-up; conftest.py and the pytest_agent_chaos entry "
                       "points are read too)")
    parser.addini("chaos_seed", type="string", default="0", help="default --chaos-seed")
